using Neurite.Forecasting;
using Neurite.IO;
using Neurite.Layers;

namespace Neurite.Tests.Forecasting;

public sealed class ForecasterTests
{
    private static double[] Seasonal(int n, int seed = 5)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(t => 50 + 0.1 * t + 6 * Math.Sin(2 * Math.PI * t / 12) + rng.NextDouble()).ToArray();
    }

    [Fact]
    public void A_horizon_of_h_gives_h_steps_from_every_origin_each_from_the_past_alone()
    {
        var y = Seasonal(240);
        var forecaster = Forecaster.Fit(y[..192], new ForecasterOptions { Horizon = 3, EnsembleSize = 3, MaxEpochs = 60 });
        Assert.Equal(3, forecaster.State.Horizon);
        Assert.Equal(12, forecaster.State.Season);
        var set = forecaster.Forecast(y, 191, 236);
        Assert.Equal(46, set.Count);
        Assert.Equal(3, set.Forecast.GetLength(1));
        // Changing values after an origin changes no forecast from it.
        var altered = (double[])y.Clone();
        for (int t = 215; t < altered.Length; t++) altered[t] += 1000;
        var again = forecaster.Forecast(altered, 191, 214);
        for (int i = 0; i < again.Count; i++)
            for (int k = 0; k < 3; k++) Assert.Equal(set.Forecast[i, k], again.Forecast[i, k]);
        // Each step is scored sensibly: every step's MAE beats persistence's on this seasonal series.
        for (int k = 0; k < 3; k++)
        {
            double model = 0, persistence = 0;
            for (int i = 0; i < set.Count; i++)
            {
                double actual = y[191 + i + k + 1];
                model += Math.Abs(actual - set.Forecast[i, k]);
                persistence += Math.Abs(actual - y[191 + i]);
            }
            Assert.True(model < persistence, $"step {k + 1}: {model} vs persistence {persistence}");
        }
        // Intervals are nested around the forecast.
        for (int i = 0; i < set.Count; i++)
            for (int k = 0; k < 3; k++)
                Assert.True(set.Lower95[i, k] <= set.Lower80[i, k] && set.Lower80[i, k] <= set.Forecast[i, k] && set.Forecast[i, k] <= set.Upper80[i, k] && set.Upper80[i, k] <= set.Upper95[i, k]);
    }

    [Fact]
    public void After_a_regime_change_the_forecast_gives_way_to_persistence()
    {
        // A clean season for training, then the season stops and the series wanders: the seasonal parts that
        // validation chose now miss by the season's amplitude, while "tomorrow = today" misses by a step.
        var y = Seasonal(240, seed: 6).Concat(new double[200]).ToArray();
        var rng = new System.Random(7);
        for (int t = 240; t < y.Length; t++) y[t] = y[t - 1] + rng.NextDouble() - 0.5;
        var forecaster = Forecaster.Fit(y[..240], new ForecasterOptions { EnsembleSize = 0 });
        Assert.Equal(12, forecaster.State.Season);
        var set = forecaster.Forecast(y, 239, y.Length - 2);
        // Once two seasons of the new regime are known, the forecast is within 3 % of persistence's error.
        double model = 0, persistence = 0;
        for (int i = 30; i < set.Count; i++)
        {
            model += Math.Abs(y[240 + i] - set.Forecast[i, 0]);
            persistence += Math.Abs(y[240 + i] - y[239 + i]);
        }
        Assert.True(model <= 1.03 * persistence, $"MAE {model / (set.Count - 30)} vs persistence {persistence / (set.Count - 30)}");
    }

    [Fact]
    public void A_saved_and_reloaded_ensemble_repeats_every_forecast_bit_for_bit()
    {
        var y = Seasonal(200, seed: 8);
        var forecaster = Forecaster.Fit(y[..160], new ForecasterOptions { EnsembleSize = 3, MaxEpochs = 40 });
        Assert.Equal(3, forecaster.State.NetworkMembers);
        string path = Path.Combine(Path.GetTempPath(), $"neurite-ensemble-{Guid.NewGuid():N}.keras");
        try
        {
            forecaster.Network!.Save(path);
            var again = Forecaster.FromState(forecaster.State, forecaster.NetworkBase, Sequential.Load(path));
            var a = forecaster.Forecast(y, 159, 198);
            var b = again.Forecast(y, 159, 198);
            foreach (var part in a.Parts.Keys)
                for (int i = 0; i < a.Count; i++) Assert.Equal(a.Parts[part][i, 0], b.Parts[part][i, 0]);
            for (int i = 0; i < a.Count; i++) Assert.Equal(a.Forecast[i, 0], b.Forecast[i, 0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_joined_network_gives_each_members_outputs_and_the_median_of_them()
    {
        NeuriteRandom.SetSeed(3);
        var members = Enumerable.Range(0, 3).Select(_ =>
        {
            var m = new Sequential(new Dense(4, "relu", inputShape: [5]), new Dense(2));
            m.Compile("mse", "adam");
            return m;
        }).ToList();
        var x = new Tensor(Enumerable.Range(0, 35).Select(i => (float)Math.Sin(i)).ToArray(), 7, 5);
        var joined = NeuralEnsemble.Join(members).Predict(x);
        var each = members.Select(m => m.Predict(x)).ToList();
        for (int r = 0; r < 7; r++)
            for (int m = 0; m < 3; m++)
                for (int o = 0; o < 2; o++) Assert.Equal(each[m][r, o], joined[r, m * 2 + o], 1e-6f);
        var median = NeuralEnsemble.Median(joined, 3);
        for (int r = 0; r < 7; r++)
            for (int o = 0; o < 2; o++)
            {
                var values = each.Select(e => (double)e[r, o]).Order().ToArray();
                Assert.Equal(values[1], median[r, o], 1e-6);
            }
    }

    [Theory]
    [InlineData(1e200)]
    [InlineData(1e-310)]
    public void A_series_of_extreme_magnitude_forecasts_as_the_same_series_near_one_does(double magnitude)
    {
        // The forecaster divides by a power of two near the largest value, so 1e200 and 1e-310 (subnormal) work as well as 1.
        var unit = Seasonal(150, seed: 2).Select(v => v / 50).ToArray();
        var y = unit.Select(v => v * magnitude).ToArray();
        var options = new ForecasterOptions { EnsembleSize = 1, MaxEpochs = 20 };
        var set = Forecaster.Fit(y[..120], options).Forecast(y, 119, 148);
        var reference = Forecaster.Fit(unit[..120], options).Forecast(unit, 119, 148);
        for (int i = 0; i < set.Count; i++)
        {
            Assert.True(double.IsFinite(set.Forecast[i, 0]) && double.IsFinite(set.Upper95[i, 0]));
            // Subnormals keep fewer digits: agree to 1e-3 of the magnitude.
            Assert.Equal(reference.Forecast[i, 0], set.Forecast[i, 0] / magnitude, 1e-3);
        }
    }

    [Fact]
    public void Too_short_a_series_is_refused_with_the_length_it_needs() =>
        Assert.Contains("at least 23", Assert.Throws<NeuriteException>(() => Forecaster.Fit(Seasonal(20))).Message);
}
