using Neurite.Forecasting;

namespace Neurite.Tests.Forecasting;

public sealed class ForecastingPartsTests
{
    private static double[] Trend(int n, double start, double step) => Enumerable.Range(0, n).Select(t => start + step * t).ToArray();

    [Theory]
    [InlineData(SeriesFormKind.Level)]
    [InlineData(SeriesFormKind.Difference)]
    [InlineData(SeriesFormKind.Ratio)]
    public void Every_form_maps_its_targets_back_to_the_values(SeriesFormKind kind)
    {
        var y = Enumerable.Range(0, 50).Select(t => 20 + 3 * Math.Sin(t / 3.0) + 0.1 * t).ToArray();
        var form = SeriesForm.FromTraining(kind, y[..40]);
        for (int t = 5; t < 45; t++)
            for (int k = 1; k <= 4; k++)
                Assert.Equal(y[t + k], form.Value(y, t, form.Target(y, t, k)), 1e-9);
    }

    [Theory]
    [InlineData(SeriesFormKind.Difference)]
    [InlineData(SeriesFormKind.Ratio)]
    public void A_trending_series_keeps_its_windows_inside_the_training_range(SeriesFormKind kind)
    {
        // A steady rise (linear, or by a steady percentage for ratios): level inputs would climb out of the
        // training range; anchored inputs and targets are the same in every window, test windows included.
        var y = kind == SeriesFormKind.Ratio ? Enumerable.Range(0, 200).Select(t => 10 * Math.Pow(1.01, t)).ToArray() : Trend(200, 5, 2);
        var form = SeriesForm.FromTraining(kind, y[..160]);
        var window = new double[6];
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (int t = 5; t < 159; t++)
        {
            form.Inputs(y, t, 6, window);
            lo = Math.Min(lo, Math.Min(window.Min(), form.Target(y, t, 1)));
            hi = Math.Max(hi, Math.Max(window.Max(), form.Target(y, t, 1)));
        }
        for (int t = 159; t < 199; t++)
        {
            form.Inputs(y, t, 6, window);
            foreach (var v in window.Append(form.Target(y, t, 1))) Assert.InRange(v, lo - 1e-9, hi + 1e-9);
        }
        // The standardised level form, by contrast, leaves that range on the same series.
        var level = SeriesForm.FromTraining(SeriesFormKind.Level, y[..160]);
        Assert.True(level.Transform(y[199]) > level.Transform(y[159]) + 0.5);
    }

    [Fact]
    public void The_ratio_form_refuses_a_series_that_is_not_positive()
    {
        Assert.False(SeriesForm.Allows(SeriesFormKind.Ratio, [1.0, 0.0, 2.0]));
        Assert.Throws<NeuriteException>(() => SeriesForm.FromTraining(SeriesFormKind.Ratio, [1.0, -1.0, 2.0]));
    }

    [Theory]
    [InlineData(12)]
    [InlineData(4)]
    [InlineData(7)]
    public void The_season_is_found_on_a_noisy_seasonal_series_with_a_trend(int period)
    {
        var rng = new System.Random(3);
        var y = Enumerable.Range(0, 30 * period).Select(t => 0.2 * t + 5 * Math.Sin(2 * Math.PI * t / period) + rng.NextDouble()).ToArray();
        Assert.Equal(period, SeasonDetection.Detect(y));
    }

    [Fact]
    public void Noise_a_random_walk_a_trend_and_a_constant_have_no_season()
    {
        var rng = new System.Random(4);
        var noise = Enumerable.Range(0, 500).Select(_ => rng.NextDouble()).ToArray();
        double level = 0;
        var walk = Enumerable.Range(0, 500).Select(_ => level += rng.NextDouble() - 0.5).ToArray();
        Assert.Equal(1, SeasonDetection.Detect(noise));
        Assert.Equal(1, SeasonDetection.Detect(walk));
        Assert.Equal(1, SeasonDetection.Detect(Trend(100, 1, 0.5)));
        Assert.Equal(1, SeasonDetection.Detect(Enumerable.Repeat(3.0, 100).ToArray()));
    }

    [Fact]
    public void A_bump_on_the_slow_decay_of_a_trending_series_is_no_season()
    {
        // R's datasets::BJsales (sales, no season), its first 96 values: the changes' autocorrelation
        // decays slowly (0.36, 0.31, 0.27) with a small local peak at lag 4 (0.29) that is not a season.
        double[] sales =
        [
            200.1, 199.5, 199.4, 198.9, 199, 200.2, 198.6, 200, 200.3, 201.2, 201.6, 201.5, 201.5, 203.5, 204.9, 207.1,
            210.5, 210.5, 209.8, 208.8, 209.5, 213.2, 213.7, 215.1, 218.7, 219.8, 220.5, 223.8, 222.8, 223.8, 221.7, 222.3,
            220.8, 219.4, 220.1, 220.6, 218.9, 217.8, 217.7, 215, 215.3, 215.9, 216.7, 216.7, 217.7, 218.7, 222.9, 224.9,
            222.2, 220.7, 220, 218.7, 217, 215.9, 215.8, 214.1, 212.3, 213.9, 214.6, 213.6, 212.1, 211.4, 213.1, 212.9,
            213.3, 211.5, 212.3, 213, 211, 210.7, 210.1, 211.4, 210, 209.7, 208.8, 208.8, 208.8, 210.6, 211.9, 212.8,
            212.5, 214.8, 215.3, 217.5, 218.8, 220.7, 222.2, 226.7, 228.4, 233.2, 235.7, 237.1, 240.6, 243.8, 245.3, 246
        ];
        Assert.Equal(1, SeasonDetection.Detect(sales));
    }

    [Fact]
    public void The_conformal_quantile_is_the_rank_n_plus_1_times_p_value()
    {
        double[] errors = [5, 1, 9, 3, 7, 2, 10, 4, 8, 6];
        // n = 10: p = 0.8 takes rank ⌈8.8⌉ = 9, p = 0.5 rank ⌈5.5⌉ = 6, p = 0.95 rank ⌈10.45⌉ = 11 > n, so the largest.
        Assert.Equal(9, Forecaster.ConformalQuantile(errors, 0.8));
        Assert.Equal(6, Forecaster.ConformalQuantile(errors, 0.5));
        Assert.Equal(10, Forecaster.ConformalQuantile(errors, 0.95));
    }

    [Fact]
    public void Intervals_from_validation_errors_cover_about_their_level_on_later_errors_of_the_same_kind()
    {
        // Persistence on a Gaussian random walk: its errors are the steps themselves, so the 80 % interval from the
        // first 400 steps should hold close to 80 % of the next 4,000 (binomial sd of the share about 0.6 %).
        var rng = new System.Random(11);
        var y = new double[4402];
        for (int t = 1; t < y.Length; t++) y[t] = y[t - 1] + Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var validation = new double[400, 1];
        for (int i = 0; i < 400; i++) validation[i, 0] = y[i];
        var (q80, q95) = Forecaster.IntervalWidths(y, validation, 0, 20, 1e-12);
        int in80 = 0, in95 = 0;
        for (int t = 400; t < 4400; t++)
        {
            double local = Forecaster.LocalVolatility(y, t, 20, 1e-12), error = Math.Abs(y[t + 1] - y[t]);
            if (error <= q80[0] * local) in80++;
            if (error <= q95[0] * local) in95++;
        }
        Assert.InRange(in80 / 4000.0, 0.75, 0.85);
        Assert.InRange(in95 / 4000.0, 0.92, 0.98);
    }

    [Fact]
    public void Too_few_validation_errors_for_a_level_give_student_t_widths_on_their_root_mean_square()
    {
        // Three errors (0.3, 0, 0.4) at origins whose local volatility is the floor, 1: the largest of three would
        // be both widths; with 3 degrees of freedom the bounds are qt(0.9, 3) = 1.6377 and qt(0.975, 3) = 3.1824
        // (R) times √((0.09 + 0 + 0.16) / 3).
        double[] y = [0, 0.3, 0, 0.4];
        var (q80, q95) = Forecaster.IntervalWidths(y, new double[3, 1], 0, 20, 1);
        Assert.Equal(1.6377 * Math.Sqrt(0.25 / 3), q80[0], 12);
        Assert.Equal(3.1824 * Math.Sqrt(0.25 / 3), q95[0], 12);
    }

    [Fact]
    public void The_linear_autoregression_recovers_an_ar2_and_forecasts_h_steps_directly()
    {
        // y_t = 10 + 0.6 (y_{t-1} - 10) - 0.3 (y_{t-2} - 10) + small noise, on levels.
        var rng = new System.Random(2);
        var y = new double[3000];
        y[0] = y[1] = 10;
        for (int t = 2; t < y.Length; t++) y[t] = 10 + 0.6 * (y[t - 1] - 10) - 0.3 * (y[t - 2] - 10) + 0.1 * (rng.NextDouble() - 0.5);
        var form = SeriesForm.FromTraining(SeriesFormKind.Level, y);
        var model = LinearAutoregression.Select(y, y.Length, form, [1, 2, 3, 4, 6], 3)!;
        Assert.InRange(model.Lookback, 2, 3);
        var c = model.Coefficients[0];
        // Inputs are oldest first: the last two weights are those of y[t-1] and y[t].
        Assert.Equal(-0.3, c[^2], 0.03);
        Assert.Equal(0.6, c[^1], 0.03);
        // Step 2 directly: y_{t+2} - 10 = 0.6 (y_{t+1} - 10) - 0.3 (y_t - 10) = (0.36 - 0.3)(y_t - 10) - 0.18 (y_{t-1} - 10).
        Assert.Equal(0.06, model.Coefficients[1][^1], 0.03);
        Assert.Equal(-0.18, model.Coefficients[1][^2], 0.03);
    }
}
