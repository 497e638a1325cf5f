using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Neurite.Callbacks;
using Neurite.Cli.Tutorial;
using Neurite.Data;
using Neurite.Layers;
using Neurite.Plots;

namespace Neurite.Cli.Commands;

internal sealed record ForecastOptions
{
    public const string DefaultOutputFolder = "neurite-forecast";
    public const int DefaultLookback = 10, DefaultHorizon = 1, DefaultEpochs = 30, DefaultBatchSize = 32, DefaultSeed = 17, Patience = 5;
    public const double DefaultTestFraction = 0.2, ValidationFraction = 0.2;

    public required string DataPath { get; init; }
    public required string Column { get; init; }
    public string? Date { get; init; }

    /// <summary>How the --date column writes its dates (.NET custom format); null for yyyy-MM-dd.</summary>
    public string? DateFormat { get; init; }

    public string[] Features { get; init; } = [];
    public int Lookback { get; init; } = DefaultLookback;
    public int Horizon { get; init; } = DefaultHorizon;
    public int[] Units { get; init; } = [100, 50];
    public bool Stateful { get; init; }
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>Null: 32, or 1 (one stream through the whole series) for a stateful model.</summary>
    public int? BatchSize { get; init; }

    public double TestFraction { get; init; } = DefaultTestFraction;
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Season length of the seasonal-naive baseline; null to take the lag of strongest autocorrelation.</summary>
    public int? Season { get; init; }

    public string OutputFolder { get; init; } = DefaultOutputFolder;
    public string? SavePath { get; init; }

    /// <summary>Tokens read as missing besides NA, null, NaN and empty (--missing).</summary>
    public string[] Missing { get; init; } = [];

    public char Delimiter { get; init; } = ',';
}

/// <summary>
/// <c>neurite forecast</c>: the tutorial's LSTM recipe on any series. A time-ordered split; scalers fitted on the
/// training part only; windows whose targets never cross the split; stacked LSTMs (stateful with contiguous streams
/// when asked); and the forecast scored in original units beside persistence and seasonal-naive baselines.
/// </summary>
internal static class ForecastCommand
{
    private const int PlotWidth = 900, PlotHeight = 560, MinTrainingWindows = 5;

    public static int Run(ForecastOptions options, CommandOutput output)
    {
        CommandChecks.TestFraction(options.TestFraction);
        CommandChecks.OutputFolder(options.OutputFolder);
        if (options.SavePath is not null) CommandChecks.SavePath(options.SavePath);
        string file = options.DataPath;
        int lookback = options.Lookback, horizon = options.Horizon;
        int batch = options.BatchSize ?? (options.Stateful ? 1 : ForecastOptions.DefaultBatchSize);

        if (options.DateFormat is not null && options.Date is null)
            throw new UserInputException($"--date-format '{options.DateFormat}' was given without --date. Name the date column with --date, or leave --date-format out.");
        string dateFormat = DataFile.CheckDateFormat(options.DateFormat);
        output.Say($"Reading {file} ...");
        var table = DataFile.Read(file, DataFile.SeriesReadSettings(options.Date, dateFormat, options.Delimiter, options.Missing));
        DataFile.RequireColumn(table, options.Column, "--column", file);
        var featureNames = new[] { options.Column }.Concat(options.Features.Where(f => f != options.Column)).ToArray();
        var columns = featureNames.Select(name =>
        {
            DataFile.RequireColumn(table, name, name == options.Column ? "--column" : "--features", file);
            var numeric = name == options.Column
                ? DataFile.RequireNumeric(table, name, "the --column to forecast", "Pick a --column of numbers to forecast.", file)
                : DataFile.RequireNumeric(table, name, "a --features column", $"An LSTM forecast reads numbers only; leave '{name}' out of --features.", file);
            DataFile.RequireFinite(numeric, file);
            return numeric;
        }).ToArray();

        // Rows in time order: by the date column when there is one, as the file has them otherwise.
        int[] order = Enumerable.Range(0, table.RowCount).ToArray();
        DateColumn? dates = null;
        if (options.Date is not null)
        {
            var dateColumn = DataFile.RequireColumn(table, options.Date, "--date", file);
            dates = dateColumn as DateColumn ?? throw new UserInputException(
                $"--date column '{options.Date}' does not hold dates written as {dateFormat} (e.g. '{dateColumn.Format(0)}' on line 2 of {file}). Give their format with --date-format (e.g. --date-format dd/MM/yyyy), or leave --date out to keep the rows in file order.");
            order = order.OrderBy(i => dates[i] ?? DateTime.MaxValue).ToArray();
            DataFile.RequireDistinctDates(dates, order, file);
        }
        var rows = order.Where(i => columns.All(c => !c.IsMissing(i)) && (dates is null || !dates.IsMissing(i))).ToArray();
        int dropped = table.RowCount - rows.Length;
        if (columns[0].MissingCount == table.RowCount)
            throw new UserInputException($"The column '{options.Column}' has only missing values in {file}. Pick a --column that holds the series.");

        int n = rows.Length;
        int split = (int)Math.Round(n * (1 - options.TestFraction), MidpointRounding.AwayFromZero);
        CommandChecks.SeriesSize(lookback, horizon, options.Units, batch, featureNames.Length, n, file);
        CheckLength(options, file, n, split, batch);

        var original = rows.Select(i => columns[0][i]).ToArray();
        var trainingSeries = original[..split];
        var recipes = new FeatureRecipe[columns.Length];
        var scaled = new double[n, columns.Length];
        for (int j = 0; j < columns.Length; j++)
        {
            // Fitted on the training rows only: the test part must not shape its own inputs.
            var scaler = new StandardScaler();
            scaler.Fit(rows[..split].Select(i => columns[j][i]).ToArray());
            recipes[j] = new FeatureRecipe(featureNames[j], FeatureRecipe.Numeric, scaler.Mean[0], scaler.StandardDeviation[0]);
            for (int r = 0; r < n; r++) scaled[r, j] = (columns[j][rows[r]] - recipes[j].Mean) / recipes[j].Sd;
        }
        var scaledTarget = Enumerable.Range(0, n).Select(r => scaled[r, 0]).ToArray();
        int season = options.Season ?? DetectSeason(trainingSeries);
        if (season >= split)
            throw new UserInputException($"--season {season} is not shorter than the training part ({split} rows). Use a shorter --season, or more rows.");
        var recipe = new ForecastRecipe(options.Column, options.Date, recipes, lookback, horizon, options.Stateful, batch, season,
            options.DateFormat is null ? null : dateFormat);

        // Test windows start lookback rows before the split: their inputs may read the last training rows (known at
        // the forecast time), but every target lies in the test part, and the training windows end at the split.
        var windows = new TimeSeriesWindows(lookback, horizon);
        WindowSet train, test, testOriginal;
        try
        {
            (train, test, testOriginal) = options.Stateful
                ? (windows.BuildStateful(scaled, scaledTarget, batch, 0, split), windows.BuildStateful(scaled, scaledTarget, batch, split - lookback, n),
                   windows.BuildStateful(scaled, original, batch, split - lookback, n))
                : (windows.Build(scaled, scaledTarget, 0, split), windows.Build(scaled, scaledTarget, split - lookback, n),
                   windows.Build(scaled, original, split - lookback, n));
        }
        catch (NeuriteException e)
        {
            throw new UserInputException($"{file} has too few rows for this layout: {ModelRecipe.OneLine(e.Message)} Give more rows, or a smaller --lookback, --horizon or --batch-size.");
        }

        Neurite.Random.SetSeed(options.Seed);
        var model = BuildModel(recipe, options.Units);
        model.Output = output.Text;
        output.Say($"{n} rows in time order ({dropped} incomplete dropped); training rows 1-{split}, test rows {split + 1}-{n}; {train.Count} training windows, {test.Count} test windows of {lookback} steps x {featureNames.Length} features.");
        output.Say($"Training {(options.Stateful ? "stateful " : "")}LSTM ({string.Join(", ", options.Units)}) for up to {options.Epochs} epochs ...");
        var progress = new EpochProgress(output.Text, options.Epochs, live: false, label: "forecast");
        History history;
        EarlyStopping? early = null;
        if (options.Stateful)
        {
            history = model.Fit(train.X, train.Y, epochs: options.Epochs, batchSize: batch, shuffle: false, verbose: 0,
                callbacks: [new ResetStatesEachEpoch(), new EpochProgressCallback(progress)]);
        }
        else
        {
            early = new EarlyStopping("val_loss", patience: ForecastOptions.Patience, restoreBestWeights: true);
            history = model.Fit(train.X, train.Y, epochs: options.Epochs, batchSize: batch, validationSplit: ForecastOptions.ValidationFraction, verbose: 0,
                callbacks: [early, new EpochProgressCallback(progress)]);
        }

        model.ResetStates();
        var predicted = model.Predict(test.X).ToArray().Select(v => recipe.Unscale(v)).ToArray();
        var actual = ForecastScores.Flatten(testOriginal.Actual);
        var persistence = ForecastScores.Flatten(ForecastBaselines.Persistence(testOriginal));
        var seasonal = ForecastScores.Flatten(ForecastBaselines.SeasonalNaive(testOriginal, season));
        var modelErrors = ForecastErrors.Of(options.Stateful ? "stateful LSTM" : "LSTM", actual, predicted, trainingSeries);
        var persistenceErrors = ForecastErrors.Of("persistence", actual, persistence, trainingSeries);
        var seasonalErrors = ForecastErrors.Of($"seasonal naive (season {season})", actual, seasonal, trainingSeries);
        ForecastErrors[] table3 = [modelErrors, persistenceErrors, seasonalErrors];
        string verdict = ForecastErrors.Verdict(modelErrors, persistenceErrors);
        output.Say($"Test scores in the units of '{options.Column}' ({actual.Length} forecasts):");
        output.Say(ForecastErrors.Text(table3));
        output.Say(verdict);

        output.Say($"Writing the report to {options.OutputFolder} ...");
        var labels = RowLabels(rows, dates);
        var report = BuildReport(options, table, recipe, dropped, n, split, labels, train, test, testOriginal, model, history, early, original, predicted, persistence, table3, verdict, season, batch);
        string forecastsCsv = ForecastsCsv(testOriginal, rows, labels, predicted, persistence, seasonal, options.Column);
        ReportFolder.Write(options.OutputFolder, report, ("forecasts.csv", forecastsCsv));
        if (options.SavePath is not null) CommandChecks.SaveModel(model, new ModelRecipe { Task = "forecast", Forecast = recipe, Missing = options.Missing }, options.SavePath, output);
        output.Say($"Report: {Path.Combine(options.OutputFolder, HtmlReport.IndexFileName)}");

        output.WriteScores(new JsonObject
        {
            ["command"] = "forecast",
            ["data"] = file,
            ["column"] = options.Column,
            ["rows"] = table.RowCount,
            ["dropped_incomplete_rows"] = dropped,
            ["train_rows"] = split,
            ["test_rows"] = n - split,
            ["test_forecasts"] = actual.Length,
            ["lookback"] = lookback,
            ["horizon"] = horizon,
            ["stateful"] = options.Stateful,
            ["epochs_run"] = history.Epoch.Count,
            ["season"] = season,
            ["model_scores"] = modelErrors.ToJson(),
            ["persistence"] = persistenceErrors.ToJson(),
            ["seasonal_naive"] = seasonalErrors.ToJson(),
            ["beats_persistence"] = modelErrors.Mae < persistenceErrors.Mae,
            ["verdict"] = verdict,
            ["report"] = Path.GetFullPath(Path.Combine(options.OutputFolder, HtmlReport.IndexFileName)),
            ["model"] = options.SavePath is null ? null : Path.GetFullPath(options.SavePath),
        });
        return CliApp.Success;
    }

    internal static Sequential BuildModel(ForecastRecipe recipe, int[] units)
    {
        var layers = new List<Layer>();
        for (int i = 0; i < units.Length; i++)
        {
            bool more = i < units.Length - 1;
            layers.Add(i == 0
                ? new Lstm(units[i], returnSequences: more, stateful: recipe.Stateful, inputShape: [recipe.Lookback, recipe.Features.Length], batchSize: recipe.Stateful ? recipe.BatchSize : null)
                : new Lstm(units[i], returnSequences: more, stateful: recipe.Stateful));
        }
        layers.Add(new Dense(recipe.Horizon));
        var model = new Sequential(layers);
        model.Compile(loss: "mse", optimizer: "adam");
        return model;
    }

    private static void CheckLength(ForecastOptions options, string file, int n, int split, int batch)
    {
        int lookback = options.Lookback, horizon = options.Horizon;
        int trainingWindows = split - lookback - horizon + 1;
        int testForecasts = n - split - horizon + 1;
        int neededTraining = MinTrainingWindows + lookback + horizon - 1;
        if (trainingWindows < MinTrainingWindows || testForecasts < 1)
        {
            int neededRows = (int)Math.Ceiling(Math.Max(neededTraining / (1 - options.TestFraction), horizon / options.TestFraction));
            throw new UserInputException($"{file} has {n} complete rows: with --test-fraction {Num(options.TestFraction)} that is {split} training and {n - split} test rows, too few for --lookback {lookback} and --horizon {horizon} " +
                $"(training needs {neededTraining} rows for {MinTrainingWindows} windows, the test part {horizon}). Give at least {neededRows} rows, or a smaller --lookback or --horizon.");
        }
        if (options.Stateful && (split / batch < lookback + horizon || (n - split + lookback) / batch < lookback + horizon))
            throw new UserInputException($"--stateful with --batch-size {batch} cuts the {split} training rows into {batch} streams of {split / batch} rows, too short for --lookback {lookback} + --horizon {horizon}. Use a smaller --batch-size (1 keeps the whole series as one stream), a smaller --lookback, or more rows.");
    }

    /// <summary>
    /// The seasonal-naive baseline's season when none is given: the lag (2 to a third of the training part, at most
    /// 400) at which the training part's step-to-step changes correlate most with themselves.
    /// </summary>
    internal static int DetectSeason(double[] training)
    {
        var changes = new double[training.Length - 1];
        for (int i = 1; i < training.Length; i++) changes[i - 1] = training[i] - training[i - 1];
        int maxLag = Math.Min(400, changes.Length / 3);
        if (maxLag < 2 || changes.All(c => c == changes[0])) return 1;
        var acf = Statistics.Acf(changes, maxLag);
        int best = 2;
        for (int lag = 3; lag <= maxLag; lag++)
            if (acf[lag] > acf[best]) best = lag;
        return acf[best] > 0 ? best : 1;
    }

    private static string[] RowLabels(int[] rows, DateColumn? dates) =>
        rows.Select(i => dates is null ? (i + 2).ToString(CultureInfo.InvariantCulture) : dates.Format(i)!).ToArray();

    private static HtmlReport BuildReport(ForecastOptions options, Table table, ForecastRecipe recipe, int dropped, int n, int split, string[] labels,
        WindowSet train, WindowSet test, WindowSet testOriginal, Sequential model, History history, EarlyStopping? early,
        double[] original, double[] predicted, double[] persistence, ForecastErrors[] scores, string verdict, int season, int batch)
    {
        string what = options.Date is null ? "line" : "date";
        var report = new HtmlReport($"neurite forecast: {Path.GetFileName(options.DataPath)} -> {options.Column}");
        report.AddHeading("Data");
        report.AddKeyValues([
            ("file", options.DataPath),
            ("rows read", table.RowCount.ToString(CultureInfo.InvariantCulture)),
            ("incomplete rows dropped", dropped.ToString(CultureInfo.InvariantCulture)),
            ("order", options.Date is null ? "as in the file" : $"by '{options.Date}'"),
            ("inputs", string.Join(", ", recipe.Features.Select(f => $"{f.Name} (training mean {CommandOutput.Num(f.Mean)}, sd {CommandOutput.Num(f.Sd)})"))),
            ("training part", $"rows 1-{split} ({what} {labels[0]} to {labels[split - 1]})"),
            ("test part", $"rows {split + 1}-{n} ({what} {labels[split]} to {labels[n - 1]})"),
        ]);
        report.AddParagraph($"Each sample reads {recipe.Lookback} consecutive steps of the inputs and predicts the next {recipe.Horizon} step(s) of '{options.Column}'. " +
            "The scalers were fitted on the training part only. Training windows lie wholly in the training part; every test target lies in the test part, " +
            $"and the first test windows read the last {recipe.Lookback} training rows as inputs, values already known when the forecast is made. " +
            (recipe.Stateful
                ? $"Stateful layout: the rows are cut into {batch} contiguous stream(s); batch k holds window k of every stream, so each state carries over the same stretch of time; the states are reset before every epoch and before the test forecasts. Windows within a stream do not overlap, hence {train.Count} training and {test.Count} test windows."
                : $"{train.Count} training windows (the last {CommandOutput.Num(100 * ForecastOptions.ValidationFraction, "0")}% of them validate, for early stopping) and {test.Count} test windows."));

        report.AddHeading("Model and training");
        report.AddPreformatted(model.SummaryText());
        int epochsRun = history.Epoch.Count;
        report.AddParagraph(early is null
            ? $"Adam, mean squared error, batch {batch}, {epochsRun} epochs without shuffling (stateful)."
            : $"Adam, mean squared error, batch {batch}; {(epochsRun < options.Epochs ? $"early stopping ended training after {epochsRun} of {options.Epochs} epochs" : $"all {options.Epochs} epochs ran")}; the weights of epoch {early.BestEpoch + 1} (lowest validation loss) were kept.");
        report.AddImage("history.png", Charts.History(history.Values, "Training history (standardised units)", width: PlotWidth, height: PlotHeight),
            "Loss by epoch" + (early is null ? "." : " on the training windows and the validation windows."));

        report.AddHeading("Test forecasts");
        int h = recipe.Horizon;
        var x = Enumerable.Range(1, n).Select(i => (double)i).ToArray();
        var starts = testOriginal.TargetStarts;
        var forecastX = starts.Select(t => (double)(t + 1)).ToArray();
        var firstStep = Enumerable.Range(0, starts.Count).Select(i => predicted[i * h]).ToArray();
        var firstPersistence = Enumerable.Range(0, starts.Count).Select(i => persistence[i * h]).ToArray();
        var (sortedX, sortedForecast, sortedPersistence) = SortByX(forecastX, firstStep, firstPersistence);
        report.AddImage("forecast.png",
            Charts.SeriesWithForecast(x, original, sortedX, sortedForecast, $"{options.Column}: forecast over the test part", options.Column,
                baseline: sortedPersistence, baselineName: "persistence", xLabel: $"row in time order (1 = {what} {labels[0]})", width: PlotWidth, height: PlotHeight),
            $"The series with the model's {(h == 1 ? "one-step-ahead" : "first-step")} forecast over the test part (shaded) and persistence, in the units of '{options.Column}'.");
        report.AddImage("predicted-vs-actual.png",
            Charts.PredictedVsActual(ForecastScores.Flatten(testOriginal.Actual), predicted, $"{options.Column}: predicted against actual, test part", options.Column, width: PlotWidth, height: PlotHeight),
            "Each test forecast against the real value; the dashed line is a perfect forecast.");
        report.AddTable(ForecastErrors.Header, scores.Select(s => s.Row()).ToList(), $"Test scores in the units of '{options.Column}'");
        report.AddParagraph($"MASE divides the MAE by the training part's mean one-step change, so below 1 beats the in-sample persistence error. " +
            $"The seasonal-naive baseline repeats the value {season} step(s) earlier ({(options.Season is null ? "season taken from the strongest autocorrelation of the training part's changes; set --season to choose it" : "--season")}).");
        report.AddParagraph(verdict);
        report.AddParagraph("forecasts.csv beside this page lists every test forecast with the persistence and seasonal-naive forecasts.");
        return report;
    }

    private static (double[], double[], double[]) SortByX(double[] x, double[] a, double[] b)
    {
        var index = Enumerable.Range(0, x.Length).OrderBy(i => x[i]).ToArray();
        return (index.Select(i => x[i]).ToArray(), index.Select(i => a[i]).ToArray(), index.Select(i => b[i]).ToArray());
    }

    private static string ForecastsCsv(WindowSet windows, int[] rows, string[] labels, double[] predicted, double[] persistence, double[] seasonal, string column)
    {
        var csv = new StringBuilder("origin,target,step,").Append(DataFile.CsvField(column)).Append(",forecast,persistence,seasonal_naive\n");
        int h = windows.Horizon;
        for (int i = 0; i < windows.Count; i++)
            for (int s = 0; s < h; s++)
            {
                int target = windows.TargetStarts[i] + s, k = i * h + s;
                csv.Append(DataFile.CsvField(labels[windows.Origin(i)])).Append(',').Append(DataFile.CsvField(labels[target])).Append(',').Append(s + 1).Append(',')
                   .Append(R(windows.Actual[i, s])).Append(',').Append(R(predicted[k])).Append(',').Append(R(persistence[k])).Append(',').Append(R(seasonal[k])).Append('\n');
            }
        return csv.ToString();
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>Clears the recurrent states before every epoch, as a stateful model trained over the whole series needs.</summary>
internal sealed class ResetStatesEachEpoch : Callback
{
    public override void OnEpochBegin(int epoch, Logs logs) => Model!.ResetStates();
}
