using Neurite.Data;

namespace Neurite.Tests.Data;

/// <summary>Kinds given rather than guessed, and errors that stay short and say what went wrong apart from how to fix it.</summary>
public class CsvKindsTests
{
    private static Table Read(string text, CsvOptions? options = null) =>
        Table.ReadCsv(new StringReader(text), "test.csv", options);

    [Fact]
    public void A_date_column_written_as_digits_is_read_as_dates_when_its_kind_is_given()
    {
        const string text = "day,x\n20210314,1\n20210315,2\n";
        Assert.IsType<NumericColumn>(Read(text, new CsvOptions { DateFormat = "yyyyMMdd" })["day"]);
        var table = Read(text, new CsvOptions { DateFormat = "yyyyMMdd", ColumnKinds = new Dictionary<string, ColumnKind> { ["day"] = ColumnKind.Date } });
        Assert.Equal(new DateTime(2021, 3, 15), table.Date("day")[1]);
    }

    [Fact]
    public void A_bad_date_in_a_date_column_is_reported_on_its_own_line()
    {
        var options = new CsvOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["day"] = ColumnKind.Date } };
        var e = Assert.Throws<CsvFormatException>(() => Read("day,x\n2021-02-27,1\n2021-02-28,2\n2021-02-30,3\n", options));
        Assert.Equal(4, e.Line);
        Assert.Equal("day", e.ColumnName);
        Assert.Equal("'2021-02-30' is not a date in the format yyyy-MM-dd, but the column is read as dates.", e.Problem);
        Assert.EndsWith(e.Fix, e.Message);
        Assert.StartsWith("test.csv(4,1): line 4, column 1 'day': " + e.Problem, e.Message);
    }

    [Fact]
    public void Kinds_for_absent_columns_are_refused_unless_asked_to_ignore_them()
    {
        var kinds = new Dictionary<string, ColumnKind> { ["code"] = ColumnKind.Categorical, ["absent"] = ColumnKind.Date };
        var e = Assert.Throws<CsvFormatException>(() => Read("code,x\n01,1\n02,2\n", new CsvOptions { ColumnKinds = kinds }));
        Assert.Equal("absent", e.ColumnName);
        var table = Read("code,x\n01,1\n02,2\n", new CsvOptions { ColumnKinds = kinds, IgnoreAbsentColumns = true });
        Assert.Equal(["01", "02"], table.Categorical("code").Levels);
        Assert.False(table.Contains("absent"));
    }

    [Fact]
    public void An_error_about_many_given_levels_names_a_few_and_counts_the_rest()
    {
        var levels = Enumerable.Range(0, 300).Select(i => $"level{i}").ToArray();
        var options = new CsvOptions { Levels = new Dictionary<string, IReadOnlyList<string>> { ["k"] = levels } };
        var e = Assert.Throws<CsvFormatException>(() => Read("k\nlevel1\nother\n", options));
        Assert.Contains("'other' is not one of the 300 levels [level0, level1, ", e.Problem);
        Assert.Contains(", ... (290 more)]", e.Problem);
        Assert.True(e.Message.Length < 400, $"{e.Message.Length} characters");
    }
}
