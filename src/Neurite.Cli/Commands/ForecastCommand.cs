using System.Text.Json.Nodes;
using Neurite.Forecasting;
using Neurite.Plots;

namespace Neurite.Cli.Commands;

internal sealed record ForecastOptions
{
    public const string DefaultOutputFolder = "neurite-forecast";
    public const int DefaultHorizon = 1, DefaultUnits = 32, DefaultEnsemble = 5, DefaultEpochs = 200, DefaultSeed = 17;
    public const double DefaultTestFraction = 0.2;

    public required string DataPath { get; init; }
    public required string Column { get; init; }
    public string? Date { get; init; }

    /// <summary>How the --date column writes its dates (.NET custom format); null for yyyy-MM-dd.</summary>
    public string? DateFormat { get; init; }

    public string[] Features { get; init; } = [];

    /// <summary>History the network reads; null to let the forecaster choose (a season and a bit, at least 8).</summary>
    public int? Lookback { get; init; }

    public int Horizon { get; init; } = DefaultHorizon;
    public int[] Units { get; init; } = [DefaultUnits];
    public int Ensemble { get; init; } = DefaultEnsemble;
    public bool Stateful { get; init; }
    public int Epochs { get; init; } = DefaultEpochs;
    public int? BatchSize { get; init; }
    public double TestFraction { get; init; } = DefaultTestFraction;
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Season length; null to detect it on the training part.</summary>
    public int? Season { get; init; }

    public string OutputFolder { get; init; } = DefaultOutputFolder;
    public string? SavePath { get; init; }

    /// <summary>Stops training between batches (Ctrl+C), before anything is written.</summary>
    public CancellationToken Interrupt { get; init; }
    /// <summary>Tokens read as missing besides NA, null, NaN and empty (--missing).</summary>
    public string[] Missing { get; init; } = [];

    public char Delimiter { get; init; } = ',';
}

/// <summary>
/// <c>neurite forecast</c>: the library's <see cref="Forecaster"/> on a column of a CSV. A time-ordered split;
/// every choice made on the training part (its last fifth validating); forecasts over the test part scored in the
/// series' units beside persistence, seasonal naive and each part of the forecaster, with 80 % and 95 % intervals
/// and their coverage; a report, and the model saved for <c>predict</c> and <c>evaluate</c>.
/// </summary>
internal static class ForecastCommand
{
    public static int Run(ForecastOptions options, CommandOutput output)
    {
        CheckOptions(options);
        string file = options.DataPath;
        int horizon = options.Horizon;
        string dateFormat = DataFile.CheckDateFormat(options.DateFormat);
        output.Say($"Reading {file} ...");
        var table = DataFile.Read(file, DataFile.SeriesReadSettings(options.Date, dateFormat, options.Delimiter, options.Missing));
        var features = options.Features.Where(f => f != options.Column).ToArray();
        var series = ForecastSeries.Read(table, options.Column, options.Date, dateFormat, file, "--column", features);
        var values = series.Values;
        int n = values.Length;
        int split = (int)Math.Round(n * (1 - options.TestFraction), MidpointRounding.AwayFromZero);
        int needTraining = Forecaster.MinTrainingFor(horizon);
        if (split < needTraining || n - split < horizon)
        {
            int neededRows = (int)Math.Ceiling(Math.Max(needTraining / (1 - options.TestFraction), horizon / options.TestFraction));
            throw new UserInputException($"{file} has {n} complete rows: with --test-fraction {Num(options.TestFraction)} that is {split} training and {n - split} test rows; the forecaster needs {needTraining} training rows for --horizon {horizon} and the test part {horizon}. Give at least {neededRows} rows, or a smaller --horizon.");
        }
        if (options.Season is int given && given >= split / 2)
            throw new UserInputException($"--season {given} leaves fewer than two seasons in the {split} training rows. Use a shorter --season, or more rows.");
        if (options.Lookback is int lookback && lookback > split / 4)
            throw new UserInputException($"--lookback {lookback} is more than a quarter of the {split} training rows, too few windows to learn from. Use a --lookback of at most {Math.Max(1, split / 4)}, or more rows.");
        CommandChecks.SeriesSize(options.Lookback, horizon, options.Units[0], options.Ensemble, 1 + features.Length, n, split, file);

        output.Say($"{n} rows in time order ({series.Dropped} incomplete dropped); training rows 1-{split}, test rows {split + 1}-{n}.");
        output.Say($"Fitting exponential smoothing, a linear autoregression and {options.Ensemble} networks on the training rows; the last fifth of them chooses ...");
        var forecaster = Forecaster.Fit(values[..split], new ForecasterOptions
        {
            Horizon = horizon,
            Season = options.Season,
            Lookback = options.Lookback,
            EnsembleSize = options.Ensemble,
            Hidden = options.Units[0],
            MaxEpochs = options.Epochs,
            Seed = options.Seed,
            Log = output.Say,
            CancellationToken = options.Interrupt,
        }, series.Features.Select(f => (IReadOnlyList<double>)f[..split]).ToArray());
        var state = forecaster.State;
        var test = forecaster.Forecast(values, split - 1, n - 1 - horizon, series.Features);
        var scores = ForecastScoreSet.Of(state, test, values, split);
        output.Say($"The forecast: {state.Describe()}.");
        output.Say($"Test scores in the units of '{options.Column}' ({scores.Actual.Length} forecasts{(horizon > 1 ? $", {test.Count} origins x {horizon} steps" : "")}):");
        output.Say(ForecastErrors.Text(scores.Rows));
        if (horizon > 1) output.Say("MAE by step: " + string.Join(", ", scores.StepMae.Select((m, k) => $"{k + 1}: {ForecastErrors.Num(m)}")));
        output.Say($"Intervals: {CommandOutput.Percent(scores.Coverage80)} of the test values lie in the 80% intervals, {CommandOutput.Percent(scores.Coverage95)} in the 95% ones.");
        output.Say(scores.Verdict);
        output.Say(scores.BestSentence);

        output.Say($"Writing the report to {options.OutputFolder} ...");
        var report = ForecastReport.Build(options, table.RowCount, series, split, forecaster, test, scores);
        ReportFolder.Write(options.OutputFolder, report, ("forecasts.csv", ForecastReport.Csv(series, test, state, options.Column)));
        if (options.SavePath is not null)
        {
            var recipe = new ForecastRecipe(options.Column, options.Date, horizon, state.Season, split, ForecastSeries.Hash(values, split), state, forecaster.NetworkBase,
                options.DateFormat is null ? null : dateFormat, features.Length > 0 ? features : null);
            CommandChecks.SaveModel(forecaster.Network!, new ModelRecipe { Task = "forecast", Forecast = recipe, Missing = options.Missing }, options.SavePath, output);
        }
        output.Say($"Report: {Path.Combine(options.OutputFolder, HtmlReport.IndexFileName)}");

        var json = new JsonObject
        {
            ["command"] = "forecast",
            ["data"] = file,
            ["column"] = options.Column,
            ["features"] = new JsonArray(features.Select(f => (JsonNode?)f).ToArray()),
            ["rows"] = table.RowCount,
            ["dropped_incomplete_rows"] = series.Dropped,
            ["train_rows"] = split,
            ["test_rows"] = n - split,
            ["test_forecasts"] = scores.Actual.Length,
            ["horizon"] = horizon,
            ["season"] = state.Season,
            ["season_detected"] = options.Season is null,
            ["validation_rows"] = state.ValidationCount,
            ["lookback"] = state.Lookback,
            ["forecast"] = new JsonObject
            {
                ["made_of"] = state.Describe(),
                ["weights"] = new JsonObject(state.Blend.Weights.Select(w => KeyValuePair.Create(w.Key, (JsonNode?)JsonValue.Create(w.Value)))),
                ["ets"] = state.Ets.Name,
                ["linear"] = new JsonObject { ["form"] = state.Linear.Form.Kind.ToString().ToLowerInvariant(), ["lookback"] = state.Linear.Lookback },
                ["network"] = new JsonObject { ["members"] = state.NetworkMembers, ["units"] = state.NetworkHidden, ["lookback"] = state.Lookback, ["epochs"] = new JsonArray(state.NetworkEpochs.Select(e => (JsonNode?)e).ToArray()) },
                ["candidates"] = new JsonArray(state.Candidates.Select(c => (JsonNode?)new JsonObject { ["name"] = c.Name, ["validation_mae"] = CommandOutput.Number(c.ValidationMae) }).ToArray()),
            },
            ["model_scores"] = scores.Model.ToJson(),
            ["persistence"] = scores.Persistence.ToJson(),
            ["seasonal_naive"] = scores.Seasonal?.ToJson(),
            ["ets"] = scores.Ets.ToJson(),
            ["linear"] = scores.Linear.ToJson(),
            ["network"] = scores.Network.ToJson(),
            ["mae_by_step"] = new JsonArray(scores.StepMae.Select(m => CommandOutput.Number(m)).ToArray()),
            ["coverage_80"] = scores.Coverage80,
            ["coverage_95"] = scores.Coverage95,
            ["beats_persistence"] = scores.Model.Mae < scores.Persistence.Mae,
            ["best"] = scores.BestName,
            ["verdict"] = scores.Verdict + " " + scores.BestSentence,
            ["report"] = Path.GetFullPath(Path.Combine(options.OutputFolder, HtmlReport.IndexFileName)),
            ["model"] = options.SavePath is null ? null : Path.GetFullPath(options.SavePath),
        };
        output.WriteScores(json);
        return CliApp.Success;
    }

    private static void CheckOptions(ForecastOptions options)
    {
        CommandChecks.TestFraction(options.TestFraction);
        CommandChecks.OutputFolder(options.OutputFolder);
        if (options.SavePath is not null) CommandChecks.SavePath(options.SavePath);
        if (options.DateFormat is not null && options.Date is null)
            throw new UserInputException($"--date-format '{options.DateFormat}' was given without --date. Name the date column with --date, or leave --date-format out.");
        if (options.Stateful)
            throw new UserInputException("--stateful is no longer offered: the forecaster's networks read each window afresh, and a state carried through the series would make 'predict' and 'evaluate' disagree with the scores printed here. Leave --stateful out (the tutorial's stateful LSTM is 'neurite tutorial --part ibex').");
        if (options.BatchSize is not null)
            throw new UserInputException("--batch-size is no longer an option of forecast: each network trains on batches of 32 windows. Leave --batch-size out.");
        if (options.Units.Length != 1)
            throw new UserInputException($"--units {string.Join(",", options.Units)}: each network of the ensemble has one hidden layer; give one number of units, e.g. --units 32.");
        if (options.Ensemble is < 1 or > 25)
            throw new UserInputException($"--ensemble must be between 1 and 25 networks; received {options.Ensemble}. Use e.g. --ensemble 5.");
        if (options.Horizon > 10_000 || options.Units[0] > 4096 || options.Lookback > 100_000)
            throw new UserInputException($"--horizon {options.Horizon}, --units {options.Units[0]} or --lookback {options.Lookback} is too large (at most 10000, 4096 and 100000). Use smaller values.");
    }

    private static string Num(double v) => v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
