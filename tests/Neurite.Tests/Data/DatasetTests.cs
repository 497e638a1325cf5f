using Neurite.Data;
using Neurite.Datasets;

namespace Neurite.Tests.Data;

/// <summary>The facts of shared/datasets/README.md (copied into src/Neurite/Datasets/PROVENANCE.md), checked on the embedded copies.</summary>
public class DatasetTests
{
    [Fact]
    public void Iris_has_150_rows_of_three_species()
    {
        var iris = Iris.Load();
        Assert.Equal(150, iris.RowCount);
        Assert.Equal(["setosa", "versicolor", "virginica"], iris.Categorical("Species").Levels);
        Assert.Equal([50, 50, 50], iris.Categorical("Species").LevelCounts());
        Assert.All(Iris.FeatureNames, n => Assert.Equal(ColumnKind.Numeric, iris[n].Kind));
    }

    [Fact]
    public void Iris_tutorial_split_is_103_train_47_test_with_20_12_15_test_species()
    {
        var split = Iris.TutorialSplit();
        Assert.Equal((103, 47), (split.TrainCount, split.TestCount));

        var (_, test) = split.Apply(Iris.Load());
        Assert.Equal([20, 12, 15], test.Categorical("Species").LevelCounts());
    }

    [Fact]
    public void BreastCancer_has_16_missing_values_and_683_complete_rows()
    {
        var data = BreastCancer.Load();
        Assert.Equal(699, data.RowCount);
        Assert.Equal(16, data["Bare.nuclei"].MissingCount);
        Assert.Equal(16, data.Columns.Sum(c => c.MissingCount));

        var complete = BreastCancer.LoadComplete();
        Assert.Equal(683, complete.RowCount);
        Assert.Equal(444, complete.Categorical("Class").Count("benign"));
        Assert.Equal(239, complete.Categorical("Class").Count("malignant"));
    }

    [Fact]
    public void BreastCancer_Id_is_text_with_54_repeats()
    {
        var id = BreastCancer.Load().Categorical("Id");
        Assert.Equal(699 - 54, id.Levels.Count);
    }

    [Fact]
    public void BreastCancer_one_hot_by_level_index_gives_89_inputs()
    {
        var complete = BreastCancer.LoadComplete();
        var widths = BreastCancer.AttributeNames.Select(n => complete.Categorical(n).Levels.Count).ToArray();
        Assert.Equal([10, 10, 10, 10, 10, 10, 10, 10, 9], widths);
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7", "8", "10"], complete.Categorical("Mitoses").Levels);

        var x = CategoricalEncoding.OneHot(complete, [.. BreastCancer.AttributeNames]);
        Assert.Equal([683, 89], x.Shape); // hence the tutorial's Dense(8) has 89·8 + 8 = 720 parameters

        // The tutorial's cbind(to_categorical(as.numeric(tt[, i]) - 1)) gives the same matrix when every level index occurs.
        var first = CategoricalEncoding.ToCategorical(complete.Categorical("Cl.thickness").ToCodes());
        Assert.Equal(first.ToArray(), Enumerable.Range(0, 683).SelectMany(i => Enumerable.Range(0, 10).Select(j => x[i, j])).ToArray());
    }

    [Fact]
    public void BreastCancer_tutorial_split_is_481_train_202_test_with_127_benign_75_malignant()
    {
        var split = BreastCancer.TutorialSplit();
        Assert.Equal((481, 202), (split.TrainCount, split.TestCount));

        var (_, test) = split.Apply(BreastCancer.LoadComplete());
        Assert.Equal(127, test.Categorical("Class").Count("benign"));
        Assert.Equal(75, test.Categorical("Class").Count("malignant"));
    }

    [Fact]
    public void Ibex35_keeps_the_whole_file_with_null_rows_as_missing()
    {
        var ibex = Ibex35.Load();
        Assert.Equal(7062, ibex.RowCount);
        Assert.Equal(["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"], ibex.ColumnNames);
        Assert.Equal(174, ibex.CompleteCases().Count(c => !c));
        Assert.Equal(174, ibex["Close"].MissingCount);
        Assert.Equal(new DateTime(1993, 2, 15), ibex.Date("Date")[0]);
        Assert.Equal(new DateTime(2020, 6, 30), ibex.Date("Date")[ibex.RowCount - 1]);
    }

    [Fact]
    public void Ibex35_tutorial_window_is_the_last_3000_complete_days_up_to_2018_11_16()
    {
        var window = Ibex35.TutorialWindow();
        Assert.Equal(3000, window.RowCount);
        Assert.Equal(["Date", "price", "vol"], window.ColumnNames);
        Assert.Equal(new DateTime(2007, 2, 16), window.Date("Date")[0]);
        Assert.Equal(new DateTime(2018, 11, 16), window.Date("Date")[2999]);
        Assert.Equal(3000, window.CompleteCases().Count(c => c));
    }

    [Fact]
    public void Ibex35_tutorial_window_has_the_tutorials_mean_and_sd()
    {
        var window = Ibex35.TutorialWindow();
        var scaler = new StandardScaler();
        scaler.Fit(window, "price", "vol");

        Assert.Equal(10183.5593110433, scaler.Mean[0], 1e-9 * 10183.5593110433);
        Assert.Equal(1916.2965274799, scaler.StandardDeviation[0], 1e-9 * 1916.2965274799);
        Assert.Equal(167917841.533333, scaler.Mean[1], 1e-9 * 167917841.533333);
        Assert.Equal(132088203.237590, scaler.StandardDeviation[1], 1e-9 * 132088203.237590);
    }

    [Fact]
    public void Ibex35_tutorial_window_standardised_reproduces_the_printed_summary()
    {
        var window = Ibex35.TutorialWindow();
        var scaler = new StandardScaler();
        scaler.Fit(window, "price", "vol");
        var scaled = scaler.Transform(window);

        var price = Statistics.Summary(scaled.Numeric("price").ToArray());
        AssertPrinted([-2.20595, -0.73810, -0.06936, 0.36329, 3.00692], price, decimals: 5);
        Assert.Equal(0, price.Mean, 1e-9);

        var vol = Statistics.Summary(scaled.Numeric("vol").ToArray());
        AssertPrinted([-1.2713, -1.2689, 0.1166, 0.6992, 4.7057], vol, decimals: 4);
        Assert.Equal(0, vol.Mean, 1e-9);
    }

    /// <summary>Each value rounds to what R printed with that many decimals.</summary>
    private static void AssertPrinted(double[] printed, NumericSummary s, int decimals)
    {
        double[] actual = [s.Min, s.FirstQuartile, s.Median, s.ThirdQuartile, s.Max];
        for (int i = 0; i < printed.Length; i++)
            Assert.True(Math.Abs(actual[i] - printed[i]) <= 0.5 * Math.Pow(10, -decimals) + 1e-12,
                $"statistic {i}: {actual[i]} does not print as {printed[i]} with {decimals} decimals");
    }
}
