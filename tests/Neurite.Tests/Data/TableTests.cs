using Neurite.Data;

namespace Neurite.Tests.Data;

public class TableTests
{
    private static Table Sample() => Table.ReadCsv(new StringReader("x,y,g\n1,10,b\n2,NA,a\n3,30,\n4,40,a\n"), "sample.csv");

    [Fact]
    public void Select_keeps_the_named_columns_in_the_given_order()
    {
        var t = Sample().Select("g", "x");
        Assert.Equal(["g", "x"], t.ColumnNames);
        Assert.Equal(4, t.RowCount);
    }

    [Fact]
    public void Unknown_column_name_lists_the_available_columns()
    {
        var e = Assert.Throws<NeuriteException>(() => Sample().Select("X"));
        Assert.Contains("no column named 'X'", e.Message);
        Assert.Contains("[x, y, g]", e.Message);
    }

    [Fact]
    public void CompleteCases_and_DropIncomplete_match_R()
    {
        var t = Sample();
        Assert.Equal([true, false, false, true], t.CompleteCases());

        var complete = t.DropIncomplete();
        Assert.Equal([1.0, 4.0], complete.Numeric("x").ToArray());
        // Levels survive subsetting, as a factor's do in R.
        Assert.Equal(["a", "b"], complete.Categorical("g").Levels);
    }

    [Fact]
    public void ToTensor_gives_numbers_and_category_codes_row_major()
    {
        var tensor = Sample().DropIncomplete().ToTensor("x", "g");
        Assert.Equal([2, 2], tensor.Shape);
        Assert.Equal([1f, 1f, 4f, 0f], tensor.ToArray());
    }

    [Fact]
    public void ToTensor_refuses_missing_values_and_says_how_to_fix()
    {
        var e = Assert.Throws<NeuriteException>(() => Sample().ToTensor("y"));
        Assert.Contains("Column 'y' is missing at row 1", e.Message);
        Assert.Contains("DropIncomplete", e.Message);
    }

    [Fact]
    public void ToCategorical_matches_keras_to_categorical_of_0_to_3()
    {
        // R: to_categorical(0:3) prints the 4x4 identity (tutorial).
        var oneHot = CategoricalEncoding.ToCategorical([0, 1, 2, 3]);
        Assert.Equal([4, 4], oneHot.Shape);
        Assert.Equal([1f, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], oneHot.ToArray());
    }

    [Fact]
    public void ToCategorical_with_numClasses_pads_columns_and_rejects_codes_too_large()
    {
        var oneHot = CategoricalEncoding.ToCategorical([1, 0], numClasses: 3);
        Assert.Equal([0f, 1, 0, 1, 0, 0], oneHot.ToArray());

        var e = Assert.Throws<NeuriteException>(() => CategoricalEncoding.ToCategorical([0, 3], numClasses: 3));
        Assert.Contains("Code 3 at position 1 is not below numClasses=3", e.Message);
        Assert.Throws<NeuriteException>(() => CategoricalEncoding.ToCategorical([0, -1]));
    }

    [Fact]
    public void ToCategorical_of_whole_doubles_equals_the_integer_version_and_rejects_fractions()
    {
        Assert.Equal(CategoricalEncoding.ToCategorical([2, 0]).ToArray(), CategoricalEncoding.ToCategorical([2.0, 0.0]).ToArray());
        Assert.Throws<NeuriteException>(() => CategoricalEncoding.ToCategorical([0.5]));
    }

    [Fact]
    public void OneHot_of_a_column_uses_its_level_order_including_unused_levels()
    {
        var column = new CategoricalColumn("size", [2, 0], ["S", "M", "L"]);
        var oneHot = CategoricalEncoding.OneHot(column);
        Assert.Equal([2, 3], oneHot.Shape);
        Assert.Equal([0f, 0, 1, 1, 0, 0], oneHot.ToArray());
    }

    [Fact]
    public void OneHot_of_several_columns_concatenates_them_with_names()
    {
        var table = new Table([
            new CategoricalColumn("a", [0, 1], ["p", "q"]),
            new CategoricalColumn("b", [2, 0], ["u", "v", "w"]),
        ]);
        var oneHot = CategoricalEncoding.OneHot(table, "a", "b");
        Assert.Equal([2, 5], oneHot.Shape);
        Assert.Equal([1f, 0, 0, 0, 1, 0, 1, 1, 0, 0], oneHot.ToArray());
        Assert.Equal(["a=p", "a=q", "b=u", "b=v", "b=w"], CategoricalEncoding.OneHotNames(table, "a", "b"));
    }
}
