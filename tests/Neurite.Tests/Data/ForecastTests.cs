using Neurite.Data;

namespace Neurite.Tests.Data;

public class ForecastTests
{
    // y = 1, 3, 2, 5, 4, 6; windows of lookback 2, horizon 2: origins 1, 2, 3.
    private static readonly double[] Series = [1, 3, 2, 5, 4, 6];
    private static WindowSet Windows() => new TimeSeriesWindows(lookback: 2, horizon: 2).Build(Series);

    [Fact]
    public void Persistence_repeats_the_value_at_the_origin()
    {
        Assert.Equal(new double[,] { { 3, 3 }, { 2, 2 }, { 5, 5 } }, ForecastBaselines.Persistence(Windows()));
    }

    [Fact]
    public void Seasonal_naive_repeats_the_value_one_season_before()
    {
        // Season 2: ŷ(t+1) = y(t−1), ŷ(t+2) = y(t).
        Assert.Equal(new double[,] { { 1, 3 }, { 3, 2 }, { 2, 5 } }, ForecastBaselines.SeasonalNaive(Windows(), 2));
    }

    [Fact]
    public void Mean_forecast_averages_everything_up_to_the_origin()
    {
        Assert.Equal(new double[,] { { 2, 2 }, { 2, 2 }, { 2.75, 2.75 } }, ForecastBaselines.Mean(Windows()));
    }

    [Fact]
    public void Scores_match_hand_computation()
    {
        double[] actual = [2, 4, 5];
        double[] predicted = [1, 4, 7];
        Assert.Equal(1.0, ForecastScores.MeanAbsoluteError(actual, predicted), 12);            // (1 + 0 + 2)/3
        Assert.Equal(Math.Sqrt(5.0 / 3), ForecastScores.RootMeanSquaredError(actual, predicted), 12); // (1 + 0 + 4)/3
        Assert.Equal(100 * (0.5 + 0 + 0.4) / 3, ForecastScores.MeanAbsolutePercentageError(actual, predicted), 12);
        // Training series 1, 3, 2: naive one-step errors 2, 1 → scale 1.5.
        Assert.Equal(1 / 1.5, ForecastScores.MeanAbsoluteScaledError(actual, predicted, [1, 3, 2]), 12);
        // Reference errors 0, 2, 1 → MSE 5/3, so skill = 1 − (5/3)/(5/3) = 0.
        Assert.Equal(0.0, ForecastScores.Skill(actual, predicted, [2, 2, 6]), 12);
    }

    [Fact]
    public void Compute_puts_the_persistence_baseline_beside_the_model()
    {
        var windows = Windows(); // actual targets: (2,5), (5,4), (4,6); persistence (3,3), (2,2), (5,5)
        var perfect = windows.Actual;
        var scores = ForecastScores.Compute(windows, perfect, trainingSeries: Series);

        Assert.Equal(0, scores.Mae);
        Assert.Equal(1, scores.SkillScore);
        // Persistence errors: 1, 2, 3, 2, 1, 1 → MAE 10/6, MSE 20/6.
        Assert.Equal(10.0 / 6, scores.PersistenceMae, 12);
        Assert.Equal(Math.Sqrt(20.0 / 6), scores.PersistenceRmse, 12);
    }

    [Fact]
    public void Mape_refuses_zero_actuals_and_says_what_to_use_instead()
    {
        var e = Assert.Throws<NeuriteException>(() => ForecastScores.MeanAbsolutePercentageError([0.0], [1.0]));
        Assert.Contains("Use MAE or MASE", e.Message);
    }
}
