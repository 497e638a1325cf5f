using Neurite.Data;

namespace Neurite.Tests.Data;

public class CsvReadingTests
{
    private static Table Read(string text, CsvOptions? options = null) =>
        Table.ReadCsv(new StringReader(text), "test.csv", options);

    private static CsvFormatException ReadFails(string text, CsvOptions? options = null) =>
        Assert.Throws<CsvFormatException>(() => Read(text, options));

    [Fact]
    public void Infers_numbers_dates_and_categories_from_the_text()
    {
        var table = Read("day,x,kind\n2020-01-02,1.5,b\n2020-01-03,-2e3,a\n2020-01-06,NA,b\n");

        Assert.Equal(3, table.RowCount);
        Assert.Equal(new DateTime(2020, 1, 3), table.Date("day")[1]);
        Assert.Equal([1.5, -2000.0], table.Numeric("x").ToArray()[..2]);
        Assert.True(double.IsNaN(table.Numeric("x")[2]));
        var kind = table.Categorical("kind");
        Assert.Equal(["a", "b"], kind.Levels);
        Assert.Equal([1, 0, 1], kind.ToCodes());
    }

    [Fact]
    public void Quoted_fields_are_unquoted_and_may_hold_the_separator()
    {
        var table = Read("\"name\",\"n\"\n\"Smith, J\",\"3\"\n\"Lee\",\"4\"\n");

        Assert.Equal("Smith, J", table.Categorical("name")[0]);
        Assert.Equal(["Lee", "Smith, J"], table.Categorical("name").Levels);
        Assert.Equal([3.0, 4.0], table.Numeric("n").ToArray());
    }

    [Fact]
    public void Default_missing_tokens_are_empty_NA_null_and_NaN()
    {
        var table = Read("a,b\n1,x\n,NA\nnull,null\nNaN,y\n");

        Assert.Equal([false, true, true, true], Enumerable.Range(0, 4).Select(table["a"].IsMissing));
        Assert.Equal(2, table["b"].MissingCount);
        Assert.Equal([true, false, false, false], table.CompleteCases());
    }

    [Fact]
    public void Missing_tokens_are_configurable()
    {
        var table = Read("a,b\n1,NA\n-999,x\n", new CsvOptions { MissingValues = ["-999"] });

        Assert.True(double.IsNaN(table.Numeric("a")[1]));
        Assert.Equal(["NA", "x"], table.Categorical("b").Levels);
    }

    [Fact]
    public void Numeric_looking_column_forced_categorical_orders_levels_numerically()
    {
        var options = new CsvOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["grade"] = ColumnKind.Categorical } };
        var grade = Read("grade\n10\n2\n1\n2\n", options).Categorical("grade");

        // Ordinal string order would put "10" before "2"; R's factor of numbers sorts numerically.
        Assert.Equal(["1", "2", "10"], grade.Levels);
        Assert.Equal([2, 1, 0, 1], grade.ToCodes());
    }

    [Fact]
    public void Explicit_levels_keep_a_level_absent_from_the_file()
    {
        var options = new CsvOptions { Levels = new Dictionary<string, IReadOnlyList<string>> { ["size"] = ["S", "M", "L"] } };
        var size = Read("size\nL\nS\n", options).Categorical("size");

        Assert.Equal(["S", "M", "L"], size.Levels);
        Assert.Equal([2, 0], size.ToCodes());
    }

    [Fact]
    public void Ragged_row_with_too_few_fields_names_file_line_and_first_absent_column()
    {
        var e = ReadFails("a,b,c\n1,2,3\n4,5\n");

        Assert.Equal(("test.csv", 3, 3, "c"), (e.File, e.Line, e.Column, e.ColumnName));
        Assert.StartsWith("test.csv(3,3): line 3, column 3 'c': the row has 2 fields but the header has 3", e.Message);
    }

    [Fact]
    public void Ragged_row_with_too_many_fields_names_the_first_extra_column()
    {
        var e = ReadFails("a,b\n1,2\n3,4\n5,6,7\n");

        Assert.Equal(("test.csv", 4, 3), (e.File, e.Line, e.Column));
        Assert.Null(e.ColumnName);
        Assert.StartsWith("test.csv(4,3): line 4, column 3: the row has 3 fields but the header has 2", e.Message);
    }

    [Fact]
    public void Text_in_a_number_column_names_file_line_column_and_value()
    {
        var options = new CsvOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["price"] = ColumnKind.Numeric } };
        var e = ReadFails("date,price\n2020-01-01,10.5\n2020-01-02,ten\n", options);

        Assert.Equal(("test.csv", 3, 2, "price"), (e.File, e.Line, e.Column, e.ColumnName));
        Assert.Contains("test.csv(3,2): line 3, column 2 'price': 'ten' is not a number", e.Message);
    }

    [Fact]
    public void Unknown_column_name_in_options_names_file_header_line_and_the_name()
    {
        var options = new CsvOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["Prise"] = ColumnKind.Numeric } };
        var e = ReadFails("date,price\n2020-01-01,10.5\n", options);

        Assert.Equal(("test.csv", 1, "Prise"), (e.File, e.Line, e.ColumnName));
        Assert.Contains("test.csv(1): line 1, column 'Prise': CsvOptions names the column 'Prise', which is not in the header [date, price]", e.Message);
    }

    [Fact]
    public void Empty_file_names_file_line_1_column_1()
    {
        var e = ReadFails("");

        Assert.Equal(("test.csv", 1, 1), (e.File, e.Line, e.Column));
        Assert.StartsWith("test.csv(1,1): line 1, column 1: the file is empty.", e.Message);
    }

    [Fact]
    public void Header_only_names_file_the_first_data_line_and_column()
    {
        var e = ReadFails("a,b\n");

        Assert.Equal(("test.csv", 2, 1, "a"), (e.File, e.Line, e.Column, e.ColumnName));
        Assert.StartsWith("test.csv(2,1): line 2, column 1 'a': the file has a header but no data rows.", e.Message);
    }

    [Fact]
    public void Errors_from_a_file_name_its_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"neurite-ragged-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "a,b\n1,2\n3\n");
        try
        {
            var e = Assert.Throws<CsvFormatException>(() => Table.ReadCsv(path));
            Assert.Equal(path, e.File);
            Assert.StartsWith($"{path}(3,2):", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Invalid_date_in_a_forced_date_column_names_its_position()
    {
        var options = new CsvOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["d"] = ColumnKind.Date } };
        var e = ReadFails("d\n2020-01-01\n01/02/2020\n", options);

        Assert.Equal((3, 1, "d"), (e.Line, e.Column, e.ColumnName));
    }

    [Fact]
    public void Line_numbers_count_physical_lines_through_quoted_newlines_and_blank_lines()
    {
        var e = ReadFails("a,b\n\"two\nlines\",1\n\n2\n");

        Assert.Equal((5, 2, "b"), (e.Line, e.Column, e.ColumnName));
    }

    [Fact]
    public void Blank_lines_are_skipped_like_R_read_csv()
    {
        Assert.Equal(2, Read("a\n1\n\n2\n").RowCount);
    }

    [Fact]
    public void Duplicate_header_names_are_rejected_at_the_second_one()
    {
        var e = ReadFails("a,b,a\n1,2,3\n");

        Assert.Equal((1, 3, "a"), (e.Line, e.Column, e.ColumnName));
    }
}

public class CsvInfinityTests
{
    [Fact]
    public void Inf_spellings_read_as_infinities_so_the_column_stays_numeric()
    {
        var table = Table.ReadCsv(new StringReader("x\n1\ninf\n-Inf\nInfinity\n2\n"), "inf.csv");
        var x = table.Numeric("x").ToArray();
        Assert.Equal([1, double.PositiveInfinity, double.NegativeInfinity, double.PositiveInfinity, 2], x);
    }
}
