using Neurite.Data;

namespace Neurite.Tests.Data;

public class ScalerTests
{
    // Training rows 2, 4, 6, 8: mean 5, Σ(x − 5)² = 20, sample sd √(20/3), population sd √5.
    private static readonly double[] Train = [2, 4, 6, 8];

    [Fact]
    public void Standard_scaler_uses_the_sample_sd_like_R_by_default()
    {
        var scaler = new StandardScaler();
        scaler.Fit(Train);
        Assert.Equal(5, scaler.Mean[0], 12);
        Assert.Equal(Math.Sqrt(20.0 / 3), scaler.StandardDeviation[0], 12);
        Assert.Equal((8 - 5) / Math.Sqrt(20.0 / 3), scaler.Transform([8.0])[0], 12);
    }

    [Fact]
    public void Standard_scaler_can_use_the_population_sd()
    {
        var scaler = new StandardScaler(sampleStandardDeviation: false);
        scaler.Fit(Train);
        Assert.Equal(Math.Sqrt(5), scaler.StandardDeviation[0], 12);
    }

    [Fact]
    public void Test_rows_do_not_change_the_fitted_parameters()
    {
        var table = Table.ReadCsv(new StringReader("v,w\n2,1\n4,1\n6,3\n8,3\n1000,-50\n-7,99\n"), "rows.csv");
        var split = Splits.TimeOrdered(table.RowCount, trainCount: 4);
        var (train, test) = split.Apply(table);

        var standard = new StandardScaler();
        standard.Fit(train, "v", "w");
        var minMax = new MinMaxScaler();
        minMax.Fit(train, "v", "w");

        // Hand values from the four training rows only; the test rows (1000, −7; −50, 99) would change all of them.
        Assert.Equal([5.0, 2.0], standard.Mean);
        Assert.Equal(Math.Sqrt(20.0 / 3), standard.StandardDeviation[0], 12);
        Assert.Equal(Math.Sqrt(4.0 / 3), standard.StandardDeviation[1], 12);
        Assert.Equal([2.0, 1.0], minMax.DataMin);
        Assert.Equal([8.0, 3.0], minMax.DataMax);

        // Transforming the test rows applies the training parameters unchanged, and leaves the scaler as it was.
        var scaledTest = minMax.Transform(test);
        Assert.Equal([(1000 - 2) / 6.0, (-7 - 2) / 6.0], scaledTest.Numeric("v").ToArray());
        Assert.Equal([2.0, 1.0], minMax.DataMin);
        Assert.Equal([8.0, 3.0], minMax.DataMax);
    }

    [Fact]
    public void Inverse_transform_restores_original_units()
    {
        var scaler = new StandardScaler();
        scaler.Fit(Train);
        double[] values = [2, 3.5, 100, -1];
        var back = scaler.InverseTransform(scaler.Transform(values));
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], back[i], 10);
    }

    [Fact]
    public void Inverse_transform_of_a_forecast_tensor_uses_the_named_column()
    {
        var table = Table.ReadCsv(new StringReader("price,vol\n10,1000\n20,3000\n"), "t.csv");
        var scaler = new StandardScaler();
        scaler.Fit(table, "price", "vol");
        // price: mean 15, sd √50; a standardised forecast of 1 is 15 + √50.
        var forecast = scaler.InverseTransform(new Tensor([1f, 0f], 2, 1), "price");
        Assert.Equal(15 + Math.Sqrt(50), forecast[0, 0], 4);
        Assert.Equal(15f, forecast[1, 0]);
    }

    [Fact]
    public void Min_max_scaler_maps_the_training_range_onto_the_target_range()
    {
        var scaler = new MinMaxScaler(-1, 1);
        scaler.Fit(new double[,] { { 0, 10 }, { 4, 20 } });
        var scaled = scaler.Transform(new double[,] { { 0, 10 }, { 2, 15 }, { 4, 20 }, { 6, 25 } });
        Assert.Equal(new double[,] { { -1, -1 }, { 0, 0 }, { 1, 1 }, { 2, 2 } }, scaled);
    }

    [Fact]
    public void Tensor_transform_works_on_the_last_axis()
    {
        var scaler = new MinMaxScaler();
        scaler.Fit(new Tensor([0f, 100f, 2f, 300f], 2, 2));
        var scaled = scaler.Transform(new Tensor([1f, 200f, 2f, 100f, 0f, 300f], 1, 3, 2));
        Assert.Equal([0.5f, 0.5f, 1f, 0f, 0f, 1f], scaled.ToArray());
    }

    [Fact]
    public void Missing_values_are_skipped_when_fitting_and_stay_missing()
    {
        var scaler = new StandardScaler();
        scaler.Fit([2, double.NaN, 4, 6, 8]);
        Assert.Equal(5, scaler.Mean[0], 12);
        Assert.True(double.IsNaN(scaler.Transform([double.NaN])[0]));
    }

    [Fact]
    public void Using_an_unfitted_scaler_says_to_fit_first()
    {
        var e = Assert.Throws<NeuriteException>(() => new StandardScaler().Transform([1.0]));
        Assert.Contains("Call Fit on the training rows first", e.Message);
    }
}

public class ScalerParameterTests
{
    [Fact]
    public void A_standard_scaler_rebuilt_from_saved_parameters_transforms_the_same()
    {
        var fitted = (StandardScaler)new StandardScaler().Fit(new double[,] { { 1, 10 }, { 2, 30 }, { 4, 20 } });
        var restored = StandardScaler.FromParameters(fitted.Mean, fitted.StandardDeviation, ["a", "b"]);
        var rows = new double[,] { { 3, 25 }, { -1, 0 } };
        Assert.Equal(fitted.Transform(rows), restored.Transform(rows));
        // (3 − 7/3)/sd(1, 2, 4) with R's sample sd √(7/3).
        Assert.Equal((3 - 7.0 / 3) / Math.Sqrt(7.0 / 3), restored.Transform(rows)[0, 0], 12);
        Assert.Equal(["a", "b"], restored.FeatureNames!);
    }

    [Fact]
    public void A_min_max_scaler_rebuilt_from_saved_parameters_transforms_the_same()
    {
        var fitted = (MinMaxScaler)new MinMaxScaler(-1, 1).Fit(new double[,] { { 1, 5 }, { 3, 5 }, { 2, 5 } });
        var restored = MinMaxScaler.FromParameters(fitted.DataMin, fitted.DataMax, ["a", "constant"], -1, 1);
        var rows = new double[,] { { 2.5, 5 }, { 4, 7 } };
        Assert.Equal(fitted.Transform(rows), restored.Transform(rows));
        // a + (x − min)(b − a)/(max − min) = −1 + (2.5 − 1)·2/2; a constant feature maps x − min onto a.
        Assert.Equal(0.5, restored.Transform(rows)[0, 0], 12);
        Assert.Equal(-1 + (7 - 5), restored.Transform(rows)[1, 1], 12);
        Assert.Equal([1.0, 5.0], restored.DataMin);
        Assert.Equal([3.0, 5.0], restored.DataMax);
        Assert.Equal(["a", "constant"], restored.FeatureNames!);
        var reversed = Assert.Throws<NeuriteException>(() => MinMaxScaler.FromParameters([0.0, 2.0], [1.0, 1.0]));
        Assert.Contains("feature 1", reversed.Message);
    }

    [Fact]
    public void Unusable_saved_parameters_are_refused_with_the_reason()
    {
        var zero = Assert.Throws<NeuriteException>(() => StandardScaler.FromParameters([0.0, 1.0], [1.0, 0.0]));
        Assert.Contains("feature 1", zero.Message);
        Assert.Contains("positive", zero.Message);
        var lengths = Assert.Throws<NeuriteException>(() => StandardScaler.FromParameters([0.0, 1.0], [1.0]));
        Assert.Contains("2 centres, 1 scales", lengths.Message);
    }
}
