using Neurite.Data;

namespace Neurite.Tests.Data;

public class StatisticsTests
{
    [Fact]
    public void Quantile_type_7_interpolates_between_order_statistics()
    {
        // R: quantile(c(1, 2, 4, 10), c(.25, .5, .9)) = 1.75, 3, 8.2 (h = 3p + 1).
        double[] x = [10, 1, 4, 2];
        Assert.Equal(1.75, Statistics.Quantile(x, 0.25), 12);
        Assert.Equal(3.0, Statistics.Quantile(x, 0.5), 12);
        Assert.Equal(8.2, Statistics.Quantile(x, 0.9), 12);
        Assert.Equal(1.0, Statistics.Quantile(x, 0), 12);
        Assert.Equal(10.0, Statistics.Quantile(x, 1), 12);
    }

    [Fact]
    public void Summary_is_R_summary()
    {
        var s = Statistics.Summary([1, 2, 3, 4, 100]);
        Assert.Equal(new NumericSummary(1, 2, 3, 22, 4, 100), s);
    }

    [Fact]
    public void Acf_of_1_to_5_matches_R()
    {
        // R: acf(1:5, plot = FALSE) gives 1.0, 0.4, -0.1, -0.4, -0.4 (centred −2..2, Σ² = 10; lag sums 4, −1, −4, −4).
        var acf = Statistics.Acf([1, 2, 3, 4, 5], lagMax: 4);
        double[] expected = [1, 0.4, -0.1, -0.4, -0.4];
        for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], acf[k], 12);
    }

    [Fact]
    public void Acf_default_lag_max_is_R_10_log10_n()
    {
        var series = Enumerable.Range(0, 200).Select(i => Math.Sin(i * 0.3)).ToArray();
        Assert.Equal(24, Statistics.Acf(series).Length); // ⌊10·log10(200)⌋ = 23 lags plus lag 0
    }

    [Fact]
    public void Variance_and_sd_default_to_the_sample_versions()
    {
        Assert.Equal(20.0 / 3, Statistics.Variance([2, 4, 6, 8]), 12);
        Assert.Equal(5.0, Statistics.Variance([2, 4, 6, 8], sample: false), 12);
    }
}
