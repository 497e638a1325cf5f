using System.Diagnostics;
using System.Globalization;
using Neurite.Forecasting;

namespace Neurite.Benchmarks;

/// <summary>
/// The default forecaster on every series of the development set (data/forecast-dev) or, with --set holdout, of the
/// holdout set (data/forecast-holdout, series the defaults were not developed on): one-step test MAE over the
/// last round(0.2 n) points beside the anchors' persistence, seasonal naive, R ETS and R ARIMA on the same points,
/// the geometric means of the ratios, the 80 % and 95 % interval coverage, and the time of a 2,000-point series.
/// </summary>
internal static class ForecastWorkload
{
    public static void Run(string[] args)
    {
        int setAt = Array.IndexOf(args, "--set");
        string set = setAt >= 0 && setAt + 1 < args.Length ? args[setAt + 1] : "dev";
        if (set is not ("dev" or "holdout"))
        {
            Console.Error.WriteLine($"forecast: --set takes dev or holdout; received '{set}'.");
            Environment.Exit(2);
        }
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "forecast-" + set);
        int seedAt = Array.IndexOf(args, "--seed");
        int seed = seedAt >= 0 ? int.Parse(args[seedAt + 1], CultureInfo.InvariantCulture) : new ForecasterOptions().Seed;
        string? only = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || (args[i - 1] != "--seed" && args[i - 1] != "--set" && args[i - 1] != "--horizon"))).FirstOrDefault();
        var anchors = File.ReadAllLines(Path.Combine(folder, "anchors.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        int horizonAt = Array.IndexOf(args, "--horizon");
        if (horizonAt >= 0)
        {
            Horizons(folder, anchors, int.Parse(args[horizonAt + 1], CultureInfo.InvariantCulture), seed);
            return;
        }
        Console.WriteLine($"{"series",-13} {"n",5} {"m",3} {"MAE",10} {"/pers",6} {"/snaive",7} {"/ETS",6} {"/ARIMA",6} {"/min",6} {"cov80",6} {"cov95",6} {"s",6}  chosen");
        var ratios = new List<(double P, double E, double A, double Min)>();
        var coverage = new List<(double C80, double C95)>();
        int better = 0, within = 0;
        foreach (var row in anchors)
        {
            string name = row[0].Trim('"');
            if (only is not null && name != only) continue;
            double persistence = D(row[4]), snaive = D(row[5]), ets = D(row[6]), arima = D(row[7]);
            var y = File.ReadAllLines(Path.Combine(folder, "series", name + ".csv")).Skip(1).Select(l => D(l.Split(',')[1])).ToArray();
            int n = y.Length, split = n - (int)Math.Round(0.2 * n, MidpointRounding.AwayFromZero);
            if (split < Forecaster.MinTrainingFor(1))
            {
                Console.WriteLine($"{name,-13} {n,5}     left out: {split} training values, fewer than the forecaster's least ({Forecaster.MinTrainingFor(1)})");
                continue;
            }
            var clock = Stopwatch.StartNew();
            var forecaster = Forecaster.Fit(y[..split], new ForecasterOptions { Seed = seed });
            var forecasts = forecaster.Forecast(y, split - 1, n - 2);
            double seconds = clock.Elapsed.TotalSeconds;
            double mae = 0, c80 = 0, c95 = 0;
            for (int i = 0; i < forecasts.Count; i++)
            {
                double actual = y[split + i];
                mae += Math.Abs(actual - forecasts.Forecast[i, 0]);
                if (actual >= forecasts.Lower80[i, 0] && actual <= forecasts.Upper80[i, 0]) c80++;
                if (actual >= forecasts.Lower95[i, 0] && actual <= forecasts.Upper95[i, 0]) c95++;
            }
            mae /= forecasts.Count; c80 /= forecasts.Count; c95 /= forecasts.Count;
            double best = Math.Min(ets, arima);
            ratios.Add((mae / persistence, mae / ets, mae / arima, mae / best));
            coverage.Add((c80, c95));
            if (mae < persistence) better++;
            if (mae <= 1.03 * persistence) within++;
            var s = forecaster.State;
            Console.WriteLine($"{name,-13} {n,5} {s.Season,3} {mae,10:G4} {mae / persistence,6:F3} {(double.IsNaN(snaive) ? "" : (mae / snaive).ToString("F3", CultureInfo.InvariantCulture)),7} {mae / ets,6:F3} {mae / arima,6:F3} {mae / best,6:F3} {c80,6:P0} {c95,6:P0} {seconds,6:F1}  {s.Describe()}");
            if (args.Contains("--detail"))
                foreach (var b in s.Candidates) Console.WriteLine($"      {b.Name,-28} validation MAE {b.ValidationMae:G5}   test MAE {TestMae(y, split, forecasts, b):G5}");
        }
        if (ratios.Count == 0) return;
        Console.WriteLine($"geometric mean: /persistence {Geo(ratios.Select(r => r.P)):F3}, /ETS {Geo(ratios.Select(r => r.E)):F3}, /ARIMA {Geo(ratios.Select(r => r.A)):F3}, /min(ETS, ARIMA) {Geo(ratios.Select(r => r.Min)):F3}");
        Console.WriteLine($"better than persistence on {better} of {ratios.Count}; within 1.03 x persistence on {within} of {ratios.Count}; mean coverage 80 %: {coverage.Average(c => c.C80):P1}, 95 %: {coverage.Average(c => c.C95):P1}");
        if (only is null || args.Contains("--time")) TimeLongSeries();
    }

    /// <summary>
    /// With a horizon h: per series, the MAE of steps 1..h over the test part divided by persistence's at the same
    /// steps, and the 80 % and 95 % intervals' coverage over every step and at step h alone.
    /// </summary>
    private static void Horizons(string folder, string[][] anchors, int h, int seed)
    {
        Console.WriteLine($"{"series",-17} {"n",5} {"m",3} {"/pers",6} {"cov80",6} {"cov95",6} {"80@h",6} {"95@h",6}");
        var all80 = new List<double>(); var all95 = new List<double>(); var last80 = new List<double>(); var ratios = new List<double>();
        foreach (var row in anchors)
        {
            string name = row[0].Trim('"');
            var y = File.ReadAllLines(Path.Combine(folder, "series", name + ".csv")).Skip(1).Select(l => D(l.Split(',')[1])).ToArray();
            int n = y.Length, split = n - (int)Math.Round(0.2 * n, MidpointRounding.AwayFromZero);
            if (split < Forecaster.MinTrainingFor(h) || n - split <= h) continue;
            var forecaster = Forecaster.Fit(y[..split], new ForecasterOptions { Seed = seed, Horizon = h });
            var f = forecaster.Forecast(y, split - 1, n - 1 - h);
            double mae = 0, naive = 0, c80 = 0, c95 = 0, h80 = 0, h95 = 0;
            for (int i = 0; i < f.Count; i++)
                for (int k = 0; k < h; k++)
                {
                    double actual = y[split + i + k];
                    mae += Math.Abs(actual - f.Forecast[i, k]);
                    naive += Math.Abs(actual - y[split - 1 + i]);
                    bool in80 = actual >= f.Lower80[i, k] && actual <= f.Upper80[i, k], in95 = actual >= f.Lower95[i, k] && actual <= f.Upper95[i, k];
                    c80 += in80 ? 1 : 0; c95 += in95 ? 1 : 0;
                    if (k == h - 1) { h80 += in80 ? 1 : 0; h95 += in95 ? 1 : 0; }
                }
            c80 /= f.Count * h; c95 /= f.Count * h; h80 /= f.Count; h95 /= f.Count;
            all80.Add(c80); all95.Add(c95); last80.Add(h80); ratios.Add(mae / naive);
            Console.WriteLine($"{name,-17} {n,5} {forecaster.State.Season,3} {mae / naive,6:F3} {c80,6:P0} {c95,6:P0} {h80,6:P0} {h95,6:P0}");
        }
        if (ratios.Count == 0) return;
        Console.WriteLine($"horizon {h}: geometric mean /persistence {Geo(ratios):F3}; mean coverage 80 %: {all80.Average():P1} (at step {h}: {last80.Average():P1}), 95 %: {all95.Average():P1}");
    }

    /// <summary>The whole default fit and test forecast of a 2,000-point series (a seasonal random walk, seed 1).</summary>
    private static void TimeLongSeries()
    {
        var rng = new System.Random(1);
        var y = new double[2000];
        double level = 100;
        for (int t = 0; t < y.Length; t++)
        {
            level += rng.NextDouble() - 0.5;
            y[t] = level + 3 * Math.Sin(2 * Math.PI * t / 7) + 0.3 * (rng.NextDouble() - 0.5);
        }
        var clock = Stopwatch.StartNew();
        var forecaster = Forecaster.Fit(y[..1600]);
        forecaster.Forecast(y, 1599, 1998);
        Console.WriteLine($"2,000-point series: fit and 400 test forecasts in {clock.Elapsed.TotalSeconds:F1} s ({forecaster.State.Describe()})");
    }

    private static double TestMae(double[] y, int split, ForecastSet set, ForecastBlend blend)
    {
        double sum = 0;
        for (int i = 0; i < set.Count; i++)
        {
            double f = blend.Weights.Sum(w => w.Value * set.Parts[w.Key][i, 0]);
            sum += Math.Abs(y[split + i] - f);
        }
        return sum / set.Count;
    }

    private static double Geo(IEnumerable<double> values) => Math.Exp(values.Average(Math.Log));

    private static double D(string s) => s.Trim('"') == "NA" ? double.NaN : double.Parse(s.Trim('"'), CultureInfo.InvariantCulture);
}
