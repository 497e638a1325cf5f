namespace Neurite.Forecasting;

/// <summary>What <see cref="Forecaster.Fit"/> may choose, and what it may not.</summary>
public sealed record ForecasterOptions
{
    /// <summary>Steps ahead of every forecast (one model output per step).</summary>
    public int Horizon { get; init; } = 1;

    /// <summary>Season length; null to detect it on the training part.</summary>
    public int? Season { get; init; }

    /// <summary>History the network reads; null for at least a season and a bit (and at least the linear model's).</summary>
    public int? Lookback { get; init; }

    /// <summary>Networks in the ensemble (0: none).</summary>
    public int EnsembleSize { get; init; } = 5;

    /// <summary>ReLU units of each network.</summary>
    public int Hidden { get; init; } = 32;

    /// <summary>Most epochs per network; each stops at its best validation loss.</summary>
    public int MaxEpochs { get; init; } = 200;

    public int Seed { get; init; } = 17;

    /// <summary>Share of the training values, at its end, that validates every choice.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Progress lines, or null.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Stops fitting between the networks' training batches (<see cref="OperationCanceledException"/>).</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>Forecasts from a range of origins: the chosen combination, each part, and the intervals, all (origins, h).</summary>
public sealed record ForecastSet(int FirstOrigin, double[,] Forecast, IReadOnlyDictionary<string, double[,]> Parts,
    double[,] Lower80, double[,] Upper80, double[,] Lower95, double[,] Upper95)
{
    public int Count => Forecast.GetLength(0);
}

/// <summary>
/// The default forecaster: exponential smoothing, a linear autoregression and a small network ensemble on
/// scale-free windows, fitted on a training series; the forecast is the mean of the three combinations of them
/// (or naive forecasts) that forecast the last part of the training series best. Every choice (season, window form, lags, model
/// family, epochs, combination, interval widths) is made on the training values alone, the later ones
/// validating what was fitted on the earlier.
/// </summary>
public sealed class Forecaster
{
    /// <summary>Training windows a network needs before it competes with the other parts.</summary>
    public const int MinNetworkWindows = 50;

    /// <summary>How many of the best candidates on validation the forecast averages.</summary>
    public const int BlendsAveraged = 3;

    /// <summary>The fewest training values the forecaster fits on for a horizon: enough windows for every part and a validation part.</summary>
    public static int MinTrainingFor(int horizon) => 20 + 3 * horizon;

    private Forecaster(ForecasterState state, LinearAutoregression? networkBase, Sequential? network)
    {
        State = state;
        NetworkBase = networkBase;
        Network = network;
    }

    public ForecasterState State { get; }

    /// <summary>The linear model the network corrects (fitted on the values before the validation part).</summary>
    public LinearAutoregression? NetworkBase { get; }

    /// <summary>The ensemble joined into one network (outputs: members × horizon), or null.</summary>
    public Sequential? Network { get; }

    /// <summary>A forecaster from saved parts; the network must match the state's lookback, members and horizon.</summary>
    public static Forecaster FromState(ForecasterState state, LinearAutoregression? networkBase, Sequential? network)
    {
        ArgumentNullException.ThrowIfNull(state);
        if ((state.NetworkMembers > 0) != (network is not null && networkBase is not null))
            throw new NeuriteException($"The forecaster has {state.NetworkMembers} network members but {(network is null ? "no network" : "a network")} was given.");
        if (network is not null && (network.Inputs[0].Shape[^1] != state.NetworkInputs || network.Outputs[0].Shape[^1] != state.NetworkMembers * state.Horizon))
            throw new NeuriteException($"The network reads {network.Inputs[0].Shape[^1]} values and gives {network.Outputs[0].Shape[^1]}, but the forecaster needs {state.NetworkInputs} in and {state.NetworkMembers * state.Horizon} out.");
        return new Forecaster(state, networkBase, network);
    }

    /// <summary>Fits every part on <paramref name="training"/> and chooses the combination on its last part.</summary>
    /// <remarks>covariates: other series known up to each origin (one value per training value each), read by the
    /// networks beside the series' own history; null or empty for none.</remarks>
    public static Forecaster Fit(IReadOnlyList<double> training, ForecasterOptions? options = null, IReadOnlyList<IReadOnlyList<double>>? covariates = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        var covariateScales = (covariates ?? []).Select(c => CovariateScale(c, training.Count)).ToArray();
        var xs = Covariates(covariates, training.Count, covariateScales.Length, "training");
        options ??= new ForecasterOptions();
        int n = training.Count, h = options.Horizon;
        if (h < 1) throw new NeuriteException($"The horizon must be at least 1; received {h}.");
        if (n < MinTrainingFor(h))
            throw new NeuriteException($"The forecaster needs at least {MinTrainingFor(h)} training values for horizon {h}; received {n}.");
        double scale = ScaleOf(training);
        var y = training.Select(v => v / scale).ToArray();
        if (y.Any(v => !double.IsFinite(v)))
            throw new NeuriteException("The training series holds a value that is not a finite number.");
        var log = options.Log ?? (_ => { });

        int validation = Math.Max(h + 2, (int)Math.Round(options.ValidationFraction * n, MidpointRounding.AwayFromZero));
        int fitEnd = n - validation;
        int season = options.Season ?? SeasonDetection.Detect(y.AsSpan(0, fitEnd).ToArray());
        if (season >= fitEnd / 2) season = 1;
        var fitPart = y[..fitEnd];
        int firstValidation = fitEnd - 1, lastValidation = n - 1 - h;

        // Each part fitted on the values before the validation part, then scored on it.
        var lookbacks = LinearLookbacks(season, fitEnd);
        LinearAutoregression? linearFit = null;
        double linearError = double.PositiveInfinity;
        foreach (SeriesFormKind kind in Enum.GetValues<SeriesFormKind>())
        {
            if (!SeriesForm.Allows(kind, fitPart)) continue;
            var candidate = LinearAutoregression.Select(y, fitEnd, SeriesForm.FromTraining(kind, fitPart), lookbacks, h);
            if (candidate is null) continue;
            double error = MeanAbsoluteError(y, LinearForecasts(candidate, y, firstValidation, lastValidation, h), firstValidation);
            if (error < linearError) (linearFit, linearError) = (candidate, error);
        }
        linearFit ??= new LinearAutoregression(SeriesForm.FromTraining(SeriesFormKind.Difference, fitPart), 1, Enumerable.Range(0, h).Select(_ => new double[2]).ToArray());

        var networkForm = linearFit.Form.Anchored ? linearFit.Form : SeriesForm.FromTraining(SeriesFormKind.Difference, fitPart);
        int lookback = Math.Min(options.Lookback ?? Math.Max(Math.Max(season + 1, linearFit.Lookback), 8), Math.Max(1, fitEnd / 4));
        // The network's windows also need the history its linear base model reads.
        int firstWindow = Math.Max(lookback, linearFit.Lookback) - 1;
        int trainingWindows = fitEnd - h - firstWindow, validationWindows = lastValidation - firstValidation + 1;
        int members = options.EnsembleSize;
        bool trainsNetworks = members > 0 && trainingWindows >= 8 && validationWindows >= 2;
        // The networks' shapes and batch lengths are known from here: their kernels compile on another core while the
        // exponential smoothing is fitted (it reads nothing the networks change).
        if (trainsNetworks) NeuralEnsemble.StartPrewarm((int)NetworkInputs(lookback, xs.Length), options.Hidden, h, trainingWindows, validationWindows);
        var etsFit = EtsFitting.Select(fitPart, season).Model;
        Sequential? network = null;
        int[] epochs = [];
        if (trainsNetworks)
        {
            log($"Training {members} networks on {trainingWindows} windows of {lookback} steps ...");
            var (x, target) = NetworkData(y, xs, covariateScales, firstWindow, fitEnd - 1 - h, lookback, h, networkForm, linearFit);
            var (xv, targetv) = NetworkData(y, xs, covariateScales, firstValidation, lastValidation, lookback, h, networkForm, linearFit);
            (network, epochs) = NeuralEnsemble.Train(x, target, xv, targetv, members, options.Hidden, options.MaxEpochs, options.Seed, options.CancellationToken);
        }
        else
        {
            members = 0;
        }

        var provisional = new ForecasterState(h, season, scale, n, validation, etsFit, linearFit, lookback, members > 0 ? networkForm : null, members,
            options.Hidden, epochs, new ForecastBlend("persistence", new() { [ForecastComponent.Persistence] = 1 }, 0), [], new double[h], new double[h])
        {
            CovariateScales = covariateScales,
        };
        var validationParts = new Forecaster(provisional, members > 0 ? linearFit : null, network).Parts(y, xs, firstValidation, lastValidation);
        // A network fitted on a handful of windows is a draw of its seeds more than of the data: it is trained (the
        // saved model holds it), but only a network with enough windows competes.
        bool networkCompetes = members > 0 && trainingWindows >= MinNetworkWindows;
        var blends = Blends(validationParts.Keys.Where(k => networkCompetes || k != ForecastComponent.Network))
            .Select(b => b with { ValidationMae = scale * MeanAbsoluteError(y, Blend(validationParts, b.Weights), firstValidation) })
            .OrderBy(b => b.ValidationMae).ToArray();
        // The mean of the few best candidates rather than the single best: a short validation part ranks close
        // candidates by chance, and averaging them costs little when they agree and saves much when they do not.
        var best = blends.Take(Math.Min(BlendsAveraged, blends.Length)).ToArray();
        var weights = new Dictionary<string, double>();
        foreach (var b in best)
            foreach (var (part, w) in b.Weights) weights[part] = weights.GetValueOrDefault(part) + w / best.Length;
        var ordered = ForecastComponent.All.Where(weights.ContainsKey).ToDictionary(p => p, p => weights[p]);
        var chosen = new ForecastBlend($"mean of {string.Join(", ", best.Select(b => b.Name))}", ordered, double.NaN);
        chosen = chosen with { ValidationMae = scale * MeanAbsoluteError(y, Blend(validationParts, chosen.Weights), firstValidation) };
        var combined = Blend(validationParts, chosen.Weights);
        int window = VolatilityWindow(season);
        double floor = VolatilityFloor(fitPart);
        var (q80, q95) = IntervalWidths(y, combined, firstValidation, window, floor);
        log(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Chose the {chosen.Name} (validation MAE {chosen.ValidationMae:G4})."));

        // The classical parts are refitted on every training value; the network keeps the linear model it corrects.
        var etsFull = EtsFitting.Select(y, season).Model;
        var linearFull = LinearAutoregression.Select(y, n, SeriesForm.FromTraining(linearFit.Form.Kind, y), lookbacks, h) ?? linearFit;
        var state = provisional with { Ets = etsFull, Linear = linearFull, Blend = chosen, Candidates = blends, Interval80 = q80, Interval95 = q95, VolatilityWindow = window, VolatilityFloor = floor, NetworkBaseLookback = linearFit.Lookback, NetworkWindows = trainingWindows };
        return new Forecaster(state, members > 0 ? linearFit : null, network);
    }

    /// <summary>
    /// Forecasts of steps 1..h from every origin in [<paramref name="firstOrigin"/>, <paramref name="lastOrigin"/>]
    /// (the index of the last value known), each reading only series[0..origin].
    /// </summary>
    /// <remarks>covariates: those the forecaster was fitted with, each as long as the series.</remarks>
    public ForecastSet Forecast(IReadOnlyList<double> series, int firstOrigin, int lastOrigin, IReadOnlyList<IReadOnlyList<double>>? covariates = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        var xs = Covariates(covariates, series.Count, State.CovariateScales.Length, "series");
        if (firstOrigin < State.History - 1 || lastOrigin < firstOrigin || lastOrigin >= series.Count)
            throw new NeuriteException($"Forecast origins {firstOrigin}..{lastOrigin} need {State.History} values of history and must lie within the {series.Count} values given.");
        double scale = State.Scale;
        var y = series.Select(v => v / scale).ToArray();
        if (y.Any(v => !double.IsFinite(v)))
            throw new NeuriteException("The series holds a value that is not a finite number.");
        int window = VolatilityWindow(State.Season);
        int start = Math.Max(State.History - 1, firstOrigin - window - State.Horizon);
        var allParts = Parts(y, xs, start, lastOrigin);
        var forecast = TowardPersistence(y, Blend(allParts, State.Blend.Weights), allParts[ForecastComponent.Persistence], start, firstOrigin, window);
        var parts = allParts.ToDictionary(p => p.Key, p => Rows(p.Value, firstOrigin - start));
        int count = forecast.GetLength(0), h = State.Horizon;
        var lower80 = new double[count, h]; var upper80 = new double[count, h]; var lower95 = new double[count, h]; var upper95 = new double[count, h];
        for (int i = 0; i < count; i++)
        {
            double local = LocalVolatility(y, firstOrigin + i, State.VolatilityWindow, State.VolatilityFloor);
            for (int k = 0; k < h; k++)
            {
                double f = forecast[i, k], w80 = State.Interval80[k] * local, w95 = State.Interval95[k] * local;
                lower80[i, k] = scale * (f - w80); upper80[i, k] = scale * (f + w80);
                lower95[i, k] = scale * (f - w95); upper95[i, k] = scale * (f + w95);
                forecast[i, k] = scale * f;
            }
        }
        var scaledParts = parts.ToDictionary(p => p.Key, p => Scaled(p.Value, scale));
        return new ForecastSet(firstOrigin, forecast, scaledParts, lower80, upper80, lower95, upper95);
    }

    /// <summary>How sharply the forecast turns to persistence as persistence's recent error falls below the combination's.</summary>
    /// <remarks>8: at r = 0.8 the combination keeps 86 %, at 1 half, at 1.25 a seventh. Measured on the dev and holdout
    /// sets beside 4, which gave persistence too much of the series the combination forecasts well.</remarks>
    public const double PersistenceSharpness = 8;

    /// <summary>
    /// The combination's forecasts from origins <paramref name="first"/>.. (rows of <paramref name="combined"/> and
    /// <paramref name="persistence"/> start at origin <paramref name="start"/>), each moved toward persistence by
    /// the weight 1 / (1 + r^K) on the combination, where r is the combination's mean absolute error over the last
    /// <paramref name="window"/> forecasts of that step already known at the origin, divided by persistence's.
    /// A combination that validation preferred but that has lately done worse than "tomorrow = today" (a regime
    /// change after the training part) gives way to it; one clearly better keeps nearly all its weight.
    /// </summary>
    private static double[,] TowardPersistence(double[] y, double[,] combined, double[,] persistence, int start, int first, int window)
    {
        int rows = combined.GetLength(0), h = combined.GetLength(1), count = rows - (first - start);
        var result = new double[count, h];
        for (int i = 0; i < count; i++)
        {
            int origin = first + i;
            for (int k = 0; k < h; k++)
            {
                double c = combined[origin - start, k], p = persistence[origin - start, k];
                int last = origin - k - 1, from = Math.Max(start, last - window + 1);
                double errorC = 0, errorP = 0;
                for (int s = from; s <= last; s++)
                {
                    errorC += Math.Abs(y[s + k + 1] - combined[s - start, k]);
                    errorP += Math.Abs(y[s + k + 1] - persistence[s - start, k]);
                }
                double weight = errorC <= errorP ? 1 / (1 + Math.Pow(errorC / Math.Max(errorP, double.Epsilon), PersistenceSharpness))
                    : 1 - 1 / (1 + Math.Pow(errorP / errorC, PersistenceSharpness));
                if (last < from) weight = 1;
                result[i, k] = p + weight * (c - p);
            }
        }
        return result;
    }

    private static double[,] Rows(double[,] values, int skip)
    {
        int count = values.GetLength(0) - skip, h = values.GetLength(1);
        var result = new double[count, h];
        for (int i = 0; i < count; i++)
            for (int k = 0; k < h; k++) result[i, k] = values[i + skip, k];
        return result;
    }

    /// <summary>Each part's forecasts in scaled units from origins first..last.</summary>
    private Dictionary<string, double[,]> Parts(double[] y, double[][] covariates, int first, int last)
    {
        int count = last - first + 1, h = State.Horizon, m = State.Season;
        var parts = new Dictionary<string, double[,]>();
        var persistence = new double[count, h];
        for (int i = 0; i < count; i++) for (int k = 0; k < h; k++) persistence[i, k] = y[first + i];
        parts[ForecastComponent.Persistence] = persistence;
        if (m > 1)
        {
            var seasonal = new double[count, h];
            for (int i = 0; i < count; i++)
                for (int k = 1; k <= h; k++) seasonal[i, k - 1] = y[first + i + k - m * ((k + m - 1) / m)];
            parts[ForecastComponent.SeasonalNaive] = seasonal;
        }
        parts[ForecastComponent.Ets] = State.Ets.Forecasts(y, first, last, h);
        parts[ForecastComponent.Linear] = LinearForecasts(State.Linear, y, first, last, h);
        if (Network is not null && NetworkBase is not null && State.NetworkForm is { } form)
        {
            var (x, _) = NetworkData(y, covariates, State.CovariateScales, first, last, State.Lookback, h, form, NetworkBase, targets: false);
            var correction = NeuralEnsemble.Median(Network.Predict(x, verbose: 0), State.NetworkMembers);
            var baseline = LinearForecasts(NetworkBase, y, first, last, h);
            var network = new double[count, h];
            for (int i = 0; i < count; i++)
                for (int k = 0; k < h; k++)
                {
                    int t = first + i;
                    double z = form.Transform(baseline[i, k]) - form.Anchor(y, t) + correction[i, k];
                    network[i, k] = form.Value(y, t, z);
                }
            parts[ForecastComponent.Network] = network;
        }
        return parts;
    }

    /// <summary>The networks' inputs: a window of <paramref name="lookback"/> values of the series and of each covariate.</summary>
    internal static long NetworkInputs(int lookback, int covariates) => (long)lookback * (1 + covariates);

    /// <summary>
    /// Network inputs (the window in <paramref name="form"/>, then each covariate's window as changes from its last
    /// value divided by its scale) and targets (what the linear model missed, in the form's units) for origins first..last.
    /// </summary>
    private static (Tensor X, Tensor Y) NetworkData(double[] y, double[][] covariates, double[] scales, int first, int last, int lookback, int h,
        SeriesForm form, LinearAutoregression linear, bool targets = true)
    {
        int count = last - first + 1, width = (int)NetworkInputs(lookback, covariates.Length);
        var x = new float[count * width];
        var target = new float[targets ? count * h : 0];
        var window = new double[lookback];
        var linearForecast = new double[h];
        for (int i = 0; i < count; i++)
        {
            int t = first + i;
            form.Inputs(y, t, lookback, window);
            for (int j = 0; j < lookback; j++) x[i * width + j] = (float)window[j];
            for (int c = 0; c < covariates.Length; c++)
                for (int j = 0; j < lookback; j++)
                    x[i * width + (c + 1) * lookback + j] = (float)((covariates[c][t - lookback + 1 + j] - covariates[c][t]) / scales[c]);
            if (!targets) continue;
            linear.Forecast(y, t, linearForecast);
            double anchor = form.Anchor(y, t);
            for (int k = 0; k < h; k++) target[i * h + k] = (float)(form.Target(y, t, k + 1) - (form.Transform(linearForecast[k]) - anchor));
        }
        return (new Tensor(x, count, width), new Tensor(target, targets ? count : 0, h));
    }

    /// <summary>The covariates as arrays, checked: as many as expected, each at least as long as the series, finite.</summary>
    private static double[][] Covariates(IReadOnlyList<IReadOnlyList<double>>? covariates, int length, int expected, string what)
    {
        var list = covariates ?? [];
        if (list.Count != expected)
            throw new NeuriteException($"The forecaster reads {expected} covariate(s); {list.Count} were given.");
        var arrays = list.Select(c => c.ToArray()).ToArray();
        foreach (var c in arrays)
            if (c.Length < length || c.Take(length).Any(v => !double.IsFinite(v)))
                throw new NeuriteException($"Each covariate needs a finite value for every one of the {length} values of the {what}.");
        return arrays;
    }

    /// <summary>A covariate's mean absolute change over the training values (1 when it never changes).</summary>
    private static double CovariateScale(IReadOnlyList<double> covariate, int length)
    {
        if (covariate.Count < length) return 1;
        double sum = 0;
        for (int i = 1; i < length; i++) sum += Math.Abs(covariate[i] - covariate[i - 1]);
        double mean = sum / Math.Max(1, length - 1);
        return mean > 0 && double.IsFinite(mean) ? mean : 1;
    }

    private static double[,] LinearForecasts(LinearAutoregression model, double[] y, int first, int last, int h)
    {
        var result = new double[last - first + 1, h];
        var step = new double[h];
        for (int t = first; t <= last; t++)
        {
            model.Forecast(y, t, step);
            for (int k = 0; k < h; k++) result[t - first, k] = step[k];
        }
        return result;
    }

    /// <summary>The lookbacks the linear model chooses among by AICc: short AR orders, and a season and a bit.</summary>
    private static int[] LinearLookbacks(int season, int fitEnd)
    {
        var set = new SortedSet<int> { 1, 2, 3, 4, 5, 6, 8, 10, 13 };
        if (season > 1) { set.Add(season); set.Add(season + 1); set.Add(season + 2); }
        int cap = Math.Max(1, fitEnd / 6);
        return set.Where(l => l <= cap).DefaultIfEmpty(1).ToArray();
    }

    private static IEnumerable<ForecastBlend> Blends(IEnumerable<string> available)
    {
        var have = available.ToHashSet();
        string p = ForecastComponent.Persistence, s = ForecastComponent.SeasonalNaive, e = ForecastComponent.Ets, l = ForecastComponent.Linear, nn = ForecastComponent.Network;
        string[][] options = [[p], [s], [e], [l], [nn], [e, l], [e, nn], [l, nn], [e, l, nn]];
        foreach (var parts in options.Where(o => o.All(have.Contains)))
            yield return new ForecastBlend(string.Join("+", parts), parts.ToDictionary(p => p, _ => 1.0 / parts.Length), double.NaN);
    }

    private static double[,] Blend(IReadOnlyDictionary<string, double[,]> parts, IReadOnlyDictionary<string, double> weights)
    {
        var any = parts.Values.First();
        var result = new double[any.GetLength(0), any.GetLength(1)];
        foreach (var (name, w) in weights)
        {
            var p = parts[name];
            for (int i = 0; i < result.GetLength(0); i++)
                for (int k = 0; k < result.GetLength(1); k++) result[i, k] += w * p[i, k];
        }
        return result;
    }

    /// <summary>Mean absolute error of forecasts from origins first.. against y, over every step.</summary>
    private static double MeanAbsoluteError(double[] y, double[,] forecasts, int first)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < forecasts.GetLength(0); i++)
            for (int k = 0; k < forecasts.GetLength(1); k++)
            {
                sum += Math.Abs(y[first + i + k + 1] - forecasts[i, k]);
                count++;
            }
        return sum / count;
    }

    /// <summary>
    /// Half-widths of the 80 % and 95 % intervals per step, in units of the local volatility: split-conformal
    /// quantiles of the validation errors divided by the volatility at their origins (Student-t bounds on their root
    /// mean square where a step has too few for the level: <see cref="ConformalRankFits"/>). Scaled by the volatility at
    /// each forecast's origin, the intervals widen when the series turns restless and narrow when it calms.
    /// </summary>
    internal static (double[] Q80, double[] Q95) IntervalWidths(double[] y, double[,] forecasts, int first, int window, double floor)
    {
        int count = forecasts.GetLength(0), h = forecasts.GetLength(1);
        var q80 = new double[h];
        var q95 = new double[h];
        for (int k = 0; k < h; k++)
        {
            var errors = new double[count];
            for (int i = 0; i < count; i++) errors[i] = Math.Abs(y[first + i + k + 1] - forecasts[i, k]) / LocalVolatility(y, first + i, window, floor);
            double rms = Math.Sqrt(errors.Sum(e => e * e) / count);
            q80[k] = ConformalRankFits(count, 0.8) ? ConformalQuantile(errors, 0.8) : StudentT90[count - 1] * rms;
            q95[k] = Math.Max(q80[k], ConformalRankFits(count, 0.95) ? ConformalQuantile(errors, 0.95) : StudentT975[Math.Min(count, StudentT975.Length) - 1] * rms);
        }
        return (q80, q95);
    }

    /// <summary>
    /// Whether n errors have a conformal p quantile that is not simply their largest (rank ⌈(n + 1)p⌉ ≤ n: n ≥ 4 for
    /// 80 %, n ≥ 19 for 95 %). With fewer (a short series, or a long horizon eating the validation part) the largest
    /// of a handful of errors is too narrow a bound, so the width is a Student-t prediction bound on their root mean
    /// square instead (errors taken as centred normal: n degrees of freedom).
    /// </summary>
    internal static bool ConformalRankFits(int n, double p) => (int)Math.Ceiling((n + 1) * p) <= n;

    /// <summary>Student's t 0.9 and 0.975 quantiles for 1..18 degrees of freedom (R: qt(c(0.9, 0.975), 1:18)); only
    /// the first three of the 0.9 ones are used.</summary>
    private static readonly double[] StudentT90 = [3.0777, 1.8856, 1.6377, 1.5332, 1.4759, 1.4398, 1.4149, 1.3968, 1.3830, 1.3722, 1.3634, 1.3562, 1.3502, 1.3450, 1.3406, 1.3368, 1.3334, 1.3304];
    private static readonly double[] StudentT975 = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009];

    /// <summary>Values whose changes measure the local volatility: two seasons, and at least 20.</summary>
    internal static int VolatilityWindow(int season) => Math.Max(20, 2 * season);

    /// <summary>
    /// The mean absolute one-step change over the <paramref name="window"/> changes up to y[origin] (fewer near the
    /// start), at least <paramref name="floor"/>, so that a flat stretch neither gives zero-width intervals nor
    /// turns a later error into an unbounded multiple of its volatility.
    /// </summary>
    internal static double LocalVolatility(double[] y, int origin, int window, double floor)
    {
        int from = Math.Max(1, origin - window + 1);
        double sum = 0;
        for (int i = from; i <= origin; i++) sum += Math.Abs(y[i] - y[i - 1]);
        double mean = origin >= from ? sum / (origin - from + 1) : 0;
        return Math.Max(mean, floor);
    }

    /// <summary>
    /// The least local volatility: a twentieth of the training values' mean absolute change (scaled units, where
    /// values are near 1), or 1e-12 when they never change.
    /// </summary>
    internal static double VolatilityFloor(IReadOnlyList<double> training)
    {
        double sum = 0;
        for (int i = 1; i < training.Count; i++) sum += Math.Abs(training[i] - training[i - 1]);
        double mean = training.Count > 1 ? sum / (training.Count - 1) : 0;
        return Math.Max(mean / 20, 1e-12);
    }

    /// <summary>The ⌈(n + 1)p⌉-th smallest of the n values (the largest when that rank passes n).</summary>
    public static double ConformalQuantile(double[] values, double p)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling((sorted.Length + 1) * p);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>A power of two near the largest magnitude, so that scaled values are near 1 and the division is exact.</summary>
    internal static double ScaleOf(IReadOnlyList<double> values)
    {
        double max = 0;
        foreach (var v in values) max = Math.Max(max, Math.Abs(v));
        if (!(max > 0) || !double.IsFinite(max)) return 1;
        return Math.ScaleB(1.0, Math.ILogB(max));
    }

    private static double[,] Scaled(double[,] values, double scale)
    {
        var result = new double[values.GetLength(0), values.GetLength(1)];
        for (int i = 0; i < values.GetLength(0); i++)
            for (int k = 0; k < values.GetLength(1); k++) result[i, k] = scale * values[i, k];
        return result;
    }
}
