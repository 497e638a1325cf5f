using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Neurite.Callbacks;
using Neurite.Cli.Tutorial;
using Neurite.Data;
using Neurite.Layers;
using Neurite.Plots;

namespace Neurite.Cli.Commands;

internal sealed record ClassifyOptions
{
    public const string DefaultOutputFolder = "neurite-classify";
    public const int DefaultEpochs = 200, DefaultBatchSize = 32, DefaultSeed = 17, Patience = 10;
    public const double DefaultTestFraction = 0.3, ValidationFraction = 0.2;
    public static readonly IReadOnlyList<int> DefaultHidden = [8, 5];

    public required string DataPath { get; init; }
    public required string Target { get; init; }
    public string[] Features { get; init; } = [];
    public int[] Hidden { get; init; } = [.. DefaultHidden];
    public int Epochs { get; init; } = DefaultEpochs;
    public int BatchSize { get; init; } = DefaultBatchSize;
    public double TestFraction { get; init; } = DefaultTestFraction;
    public int Seed { get; init; } = DefaultSeed;
    public string OutputFolder { get; init; } = DefaultOutputFolder;
    public string? SavePath { get; init; }

    /// <summary>Stops training between batches (Ctrl+C), before anything is written.</summary>
    public CancellationToken Interrupt { get; init; }
    /// <summary>Columns left out of the default features (--exclude).</summary>
    public string[] Exclude { get; init; } = [];

    /// <summary>Columns read as text categories whatever they hold (--categorical).</summary>
    public string[] Categorical { get; init; } = [];

    /// <summary>Tokens read as missing besides NA, null, NaN and empty (--missing).</summary>
    public string[] Missing { get; init; } = [];

    public char Delimiter { get; init; } = ',';
}

/// <summary>
/// <c>neurite classify</c>: the tutorial's MLP recipe on any table. Numeric features are standardised with the
/// training rows' mean and sd, text features one-hot encoded, incomplete rows dropped and counted, a seeded
/// train/test split made, and an MLP trained with early stopping on a validation fifth of the training rows.
/// </summary>
internal static class ClassifyCommand
{
    private const int PlotWidth = 900, PlotHeight = 560, MaxNumericClasses = 20, MinRowsForIdCheck = 10;

    /// <summary>The batches every row is predicted in after training (Predict's default), named so that their short last one is prewarmed.</summary>
    internal const int PredictBatchSize = 32;

    public static int Run(ClassifyOptions options, CommandOutput output)
    {
        CommandChecks.TestFraction(options.TestFraction);
        CommandChecks.OutputFolder(options.OutputFolder);
        if (options.SavePath is not null) CommandChecks.SavePath(options.SavePath);
        string file = options.DataPath;

        output.Say($"Reading {file} ...");
        // The target is read as text, so that its classes are the file's own labels ("01" stays "01").
        var kinds = options.Categorical.ToDictionary(c => c, _ => ColumnKind.Categorical, StringComparer.Ordinal);
        kinds[options.Target] = ColumnKind.Categorical;
        var table = DataFile.Read(file, new DataFile.ReadSettings { Delimiter = options.Delimiter, Missing = options.Missing, Kinds = kinds });
        var targetColumn = DataFile.RequireColumn(table, options.Target, "--target", file);
        foreach (var name in options.Categorical) DataFile.RequireColumn(table, name, "--categorical", file);
        var features = ChooseFeatures(table, options, file);
        var target = TargetAsClasses(targetColumn, file);
        CheckFeatures(table, features, options, file);

        // Rows with a missing target or feature cannot train or be scored; they are dropped and counted.
        var complete = Enumerable.Range(0, table.RowCount)
            .Where(i => !target.IsMissing(i) && features.All(f => !table[f].IsMissing(i))).ToArray();
        int dropped = table.RowCount - complete.Length;
        if (target.MissingCount == table.RowCount)
            throw new UserInputException($"The target column '{options.Target}' has only missing values in {file}. Pick a --target column that holds the classes.");
        if (complete.Length == 0)
            throw new UserInputException($"Every row of {file} has a missing value in the target or a feature, so no row is left to train on. Fill in the missing values, or leave the incomplete columns out with --features.");

        var counts = new int[target.Levels.Count];
        foreach (int i in complete) counts[target.Codes[i]]++;
        var usedLevels = Enumerable.Range(0, counts.Length).Where(l => counts[l] > 0).ToArray();
        string[] classes = usedLevels.Select(l => target.Levels[l]).ToArray();
        if (classes.Length < 2)
            throw new UserInputException($"The target column '{options.Target}' has only one class ('{classes[0]}') in the {complete.Length} complete rows of {file}; a classifier needs at least two. Pick a --target column with two or more classes.");
        var classOfLevel = new int[target.Levels.Count];
        for (int c = 0; c < usedLevels.Length; c++) classOfLevel[usedLevels[c]] = c;
        int[] classOfRow = complete.Select(i => classOfLevel[target.Codes[i]]).ToArray();

        var split = Splits.RandomFraction(complete.Length, 1 - options.TestFraction, options.Seed);
        int minimumTrain = (int)Math.Ceiling(1 / ClassifyOptions.ValidationFraction) + 1;
        if (split.TestCount < 1 || split.TrainCount < minimumTrain)
            throw new UserInputException($"{file} has {complete.Length} complete rows; with --test-fraction {Num(options.TestFraction)} that is {split.TrainCount} training and {split.TestCount} test rows, too few (at least {minimumTrain} training rows and 1 test row are needed). Give more rows, or change --test-fraction.");

        var recipe = new ClassifyRecipe(options.Target, classes, FitFeatures(table, features, complete, split.TrainRows), "");
        MemoryCheck.Require(3.0 * 4 * complete.Length * recipe.InputWidth + MemoryCheck.MlpTrainingBytes(recipe.InputWidth, options.Hidden, classes.Length, options.BatchSize),
            $"{complete.Length} rows x {recipe.InputWidth} inputs and an MLP ({recipe.InputWidth} -> {string.Join(" -> ", options.Hidden)} -> {classes.Length}) trained with Adam",
            "Use smaller --hidden layers, leave out text columns with many different values (--exclude), or use fewer rows.");
        MemoryCheck.RequireArray(LargestWeightMatrix(recipe.InputWidth, options.Hidden, classes.Length), "the largest weight matrix of the MLP", "Use smaller --hidden layers, or leave out text columns with many different values (--exclude).");
        // The model is known from here: building it now lets its kernels compile on another core (PrewarmAsync) while the
        // rows are encoded and split, instead of in the first training step.
        NeuriteRandom.SetSeed(options.Seed);
        // With the short last batches of the training, the validation and the prediction of every row after it.
        int[] shortBatches = [.. ShortBatches(split.TrainCount, options.BatchSize).Append(complete.Length % PredictBatchSize).Where(rows => rows > 0).Distinct()];
        var (model, _) = BuildAndPrewarm(recipe.InputWidth, options.Hidden, classes.Length, options.BatchSize, shortBatches);
        EarlyPrewarm.StartExact(EarlyPrewarm.ExactClassifyPlan(options.Hidden, options.BatchSize, options.Epochs, recipe.InputWidth, classes.Length, split.TrainCount));
        var encoded = recipe.Encode(table, file, complete);
        var x = encoded.X;
        var y = CategoricalEncoding.ToCategorical(classOfRow, classes.Length);
        var trainClasses = split.TrainRows.Select(r => classOfRow[r]).ToArray();
        int majority = Enumerable.Range(0, classes.Length).OrderByDescending(c => trainClasses.Count(t => t == c)).ThenBy(c => c).First();
        recipe = recipe with { MajorityClass = classes[majority] };

        // Fit's validation split takes the last rows; shuffling the training rows first makes that fifth a random one.
        var trainOrder = split.TrainRows.ToArray();
        new System.Random(options.Seed).Shuffle(trainOrder);
        var xTrain = x.Gather(trainOrder);
        var yTrain = y.Gather(trainOrder);
        var xTest = x.Gather(split.TestRows.ToArray());

        model.Output = output.Text;
        output.Say($"{complete.Length} complete rows ({dropped} incomplete dropped), {features.Length} features -> {recipe.InputWidth} inputs, {classes.Length} classes; {split.TrainCount} training rows, {split.TestCount} test rows.");
        output.Say($"Training an MLP ({string.Join(" -> ", [recipe.InputWidth.ToString(CultureInfo.InvariantCulture), .. options.Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture)), classes.Length.ToString(CultureInfo.InvariantCulture)])}) for up to {options.Epochs} epochs, early stopping on the validation loss ...");
        var early = new EarlyStopping("val_loss", patience: ClassifyOptions.Patience, restoreBestWeights: true);
        var progress = new EpochProgress(output.Text, options.Epochs, live: false, label: "classify");
        // An array, not a collection expression: typed IEnumerable<Callback>, that makes a compiler-made collection type whose
        // first use (Fit's AddRange) cost forecast's first Fit 31-101 µs (bench/results/cold-start-s10.md, s10-fc) and
        // classify's 8-10 µs (cold-start-s11.md).
        Callback[] callbacks = [early, new EpochProgressCallback(progress)];
        var history = model.Fit(xTrain, yTrain, epochs: options.Epochs, batchSize: options.BatchSize,
            validationSplit: ClassifyOptions.ValidationFraction, verbose: 0, callbacks: callbacks,
            cancellationToken: options.Interrupt);
        int epochsRun = history.Epoch.Count;

        int[] predictedAll = model.PredictClasses(x, batchSize: PredictBatchSize);
        int[] testActual = split.TestRows.Select(r => classOfRow[r]).ToArray();
        int[] testPredicted = split.TestRows.Select(r => predictedAll[r]).ToArray();
        var scores = new ClassScores(testActual, testPredicted, classes, majority);

        output.Say("Test rows, actual class (rows) against predicted (columns):");
        output.Say(scores.Confusion.Format().TrimEnd());
        output.Say(scores.PerClassText());
        output.Say(scores.Verdict());
        // Levels come from the training rows only; a test row's value that training never saw has all-zero inputs.
        if (encoded.Unseen.Describe(file) is { } unseenNote) output.Say(unseenNote);

        output.Say($"Writing the report to {options.OutputFolder} ...");
        var report = BuildReport(options, table, features, recipe, counts, usedLevels, classOfRow, split, dropped, model, history, early, epochsRun, scores);
        string predictionsCsv = PredictionsCsv(table, complete, split, classOfRow, predictedAll, classes, options.Target);
        ReportFolder.Write(options.OutputFolder, report, ("predictions.csv", predictionsCsv));
        if (options.SavePath is not null) CommandChecks.SaveModel(model, new ModelRecipe { Task = "classify", Classify = recipe, Missing = options.Missing }, options.SavePath, output);
        output.Say($"Report: {Path.Combine(options.OutputFolder, HtmlReport.IndexFileName)}");

        var json = new JsonObject
        {
            ["command"] = "classify",
            ["data"] = file,
            ["target"] = options.Target,
            ["rows"] = table.RowCount,
            ["dropped_incomplete_rows"] = dropped,
            ["train_rows"] = split.TrainCount,
            ["test_rows"] = split.TestCount,
            ["classes"] = new JsonArray(classes.Select(c => (JsonNode?)c).ToArray()),
            ["epochs_run"] = epochsRun,
            ["test_rows_with_unseen_values"] = encoded.Unseen.Rows,
        };
        foreach (var (k, v) in scores.ToJson().ToArray()) json[k] = v?.DeepClone();
        json["report"] = Path.GetFullPath(Path.Combine(options.OutputFolder, HtmlReport.IndexFileName));
        json["model"] = options.SavePath is null ? null : Path.GetFullPath(options.SavePath);
        output.WriteScores(json);
        return CliApp.Success;
    }

    internal static Sequential BuildModel(int inputs, int[] hidden, int classes) => BuildModel(inputs, hidden, classes, standInBatch: null);

    /// <summary>The values of the MLP's largest weight matrix (<paramref name="inputs"/> → <paramref name="hidden"/> → <paramref name="classes"/>).</summary>
    internal static long LargestWeightMatrix(int inputs, int[] hidden, int classes) =>
        hidden.Prepend(inputs).Zip(hidden.Append(classes), (a, b) => (long)a * b).Max();

    /// <summary>
    /// The lengths of the short last batches Fit trains and validates on, given <paramref name="trainRows"/> training rows of
    /// which it holds out the last <see cref="ClassifyOptions.ValidationFraction"/> (rounded as Fit rounds it): the epoch's
    /// last training batch and the validation's last batch, where they are not whole; each length once.
    /// </summary>
    internal static int[] ShortBatches(int trainRows, int batchSize)
    {
        int fitted = (int)Math.Floor(trainRows * (1.0 - ClassifyOptions.ValidationFraction));
        return new[] { fitted % batchSize, (trainRows - fitted) % batchSize }.Where(rows => rows > 0).Distinct().ToArray();
    }

    /// <summary>
    /// The model, and the kernel prewarms started for it: for <paramref name="batchSize"/>, the batches it trains on, and for
    /// each of <paramref name="shortBatches"/>, each on a thread of its own. Compile would start one of its own for Fit's
    /// default of 32 rows, another prewarm beside these (and beside the early prewarm's) on a machine whose other core is
    /// what it has to compile on; that one is not started. The early prewarm's guessed short batch lengths stop here
    /// (<see cref="EarlyPrewarm.ShortBatchesKnown"/>).
    /// </summary>
    /// <remarks>
    /// A short batch's register tiles depend on its length (the narrow tiles of a 3-class output split 20 rows into 7, 7 and
    /// 6): left to the early prewarm's guesses of 12 rows down to 1, iris's 20-row batch, the third of the Fit, compiled
    /// its tiles on the training thread in most runs, ~1 ms against 8 µs for a warm batch (bench/results/cold-start-s10.md).
    /// </remarks>
    internal static (Sequential Model, Task Prewarm) BuildAndPrewarm(int inputs, int[] hidden, int classes, int batchSize, IReadOnlyList<int> shortBatches)
    {
        bool prewarmOnCompile = Backends.Backend.PrewarmOnCompile;
        Sequential model;
        // Process-wide, as the tool's one command is; put back at once for whatever runs after it in the same process.
        Backends.Backend.PrewarmOnCompile = false;
        try
        {
            model = BuildModel(inputs, hidden, classes);
        }
        finally
        {
            Backends.Backend.PrewarmOnCompile = prewarmOnCompile;
        }
        EarlyPrewarm.ShortBatchesKnown();
        var whole = model.PrewarmAsync(batchSize);
        return (model, Task.WhenAll([whole, .. shortBatches.Where(rows => rows != batchSize).Select(rows => model.PrewarmAsync(rows))]));
    }

    /// <summary>
    /// The model, or with <paramref name="standInBatch"/> <see cref="EarlyPrewarm"/>'s stand-in for it: that fixed batch
    /// size (its prewarm's), and names of its own, so that it takes none of the default names (sequential, dense, dense_1,
    /// ...) that the trained model's summary in the report shows.
    /// </summary>
    internal static Sequential BuildModel(int inputs, int[] hidden, int classes, int? standInBatch)
    {
        string? Name(string name) => standInBatch is null ? null : "early_prewarm_" + name;
        var layers = new List<Layer> { new Dense(hidden[0], activation: "relu", inputShape: [inputs], batchSize: standInBatch, name: Name("dense")) };
        layers.AddRange(hidden.Skip(1).Select((h, i) => (Layer)new Dense(h, activation: "relu", name: Name($"dense_{i + 1}"))));
        layers.Add(new Dense(classes, activation: "softmax", name: Name($"dense_{hidden.Length}")));
        var model = new Sequential(layers, Name("sequential"));
        model.Compile(loss: "categorical_crossentropy", optimizer: "adam", metrics: ["accuracy"]);
        return model;
    }

    private static string[] ChooseFeatures(Table table, ClassifyOptions options, string file)
    {
        if (options.Features.Length > 0)
        {
            foreach (var name in options.Features)
            {
                var column = DataFile.RequireColumn(table, name, "--features", file);
                if (name == options.Target)
                    throw new UserInputException($"--features includes the target column '{name}', which would let the model read the answer. Leave '{name}' out of --features.");
                if (column is DateColumn)
                    throw new UserInputException($"--features column '{name}' holds dates, which the classifier cannot use as they are. Leave it out of --features, or add a numeric column derived from it (e.g. month).");
            }
            return options.Features;
        }
        foreach (var name in options.Exclude)
        {
            DataFile.RequireColumn(table, name, "--exclude", file);
            if (name == options.Target)
                throw new UserInputException($"--exclude names the target column '{name}'. Leave it out of --exclude; the target is never a feature.");
        }
        var chosen = table.Columns.Where(c => c.Name != options.Target && c is not DateColumn && !options.Exclude.Contains(c.Name)).Select(c => c.Name).ToArray();
        if (chosen.Length == 0)
            throw new UserInputException($"{file} has no column besides the target '{options.Target}' that could be a feature. Add feature columns to the file, or name them with --features.");
        return chosen;
    }

    /// <summary>The target as a factor (the file reads it as text, so "0", "1" and "01" are labels as written).</summary>
    private static CategoricalColumn TargetAsClasses(Column column, string file)
    {
        switch (column)
        {
            case CategoricalColumn categorical:
                if (categorical.Levels.Count > MaxNumericClasses && categorical.Levels.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                    throw new UserInputException($"The target column '{categorical.Name}' holds {categorical.Levels.Count} different numbers, which looks like a measurement rather than classes (at most {MaxNumericClasses} numeric classes are taken). Pick a --target column of class labels; to predict the next values of a series use 'neurite forecast'.");
                return categorical;
            default:
                throw new UserInputException($"The target column '{column.Name}' holds dates, not classes. Pick a --target column of class labels.");
        }
    }

    /// <summary>
    /// Refuses feature columns that cannot help and would mislead or exhaust memory: one with no values, a column of
    /// numbers turned to text by a few stray tokens, and text that differs in every row (an ID).
    /// </summary>
    private static void CheckFeatures(Table table, string[] features, ClassifyOptions options, string file)
    {
        foreach (var name in features)
        {
            var column = table[name];
            if (column.MissingCount == column.Length)
                throw new UserInputException($"The feature column '{name}' has only missing values in {file}, so every row would be dropped. Leave it out with --exclude {name}, or fill it in.");
            if (column is not CategoricalColumn text || options.Categorical.Contains(name)) continue;
            DataFile.RequireNotStrayText(text, file);
            int present = column.Length - column.MissingCount;
            if (present >= MinRowsForIdCheck && text.Levels.Count == present)
                throw new UserInputException($"The feature column '{name}' holds a different text value in every one of its {present} rows (e.g. '{text.Levels[0]}'), like an ID: one-hot encoding it would add {present} inputs that say nothing about new rows. Leave it out with --exclude {name}.");
        }
    }

    private static FeatureRecipe[] FitFeatures(Table table, string[] features, int[] complete, IReadOnlyList<int> trainRows)
    {
        var recipes = new FeatureRecipe[features.Length];
        for (int j = 0; j < features.Length; j++)
        {
            var column = table[features[j]];
            if (column is NumericColumn numeric)
            {
                DataFile.RequireFinite(numeric, table.Source ?? "the data");
                // Mean and sd from the training rows only, so the test rows do not shape their own inputs.
                var scaler = new StandardScaler();
                scaler.Fit(trainRows.Select(r => numeric[complete[r]]).ToArray());
                recipes[j] = new FeatureRecipe(column.Name, FeatureRecipe.Numeric, scaler.Mean[0], scaler.StandardDeviation[0]);
            }
            else
            {
                // Levels from the training rows only: the test rows must not add inputs of their own.
                var levels = trainRows.Select(r => column.Format(complete[r])!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                recipes[j] = new FeatureRecipe(column.Name, FeatureRecipe.Categorical, Levels: levels);
            }
        }
        return recipes;
    }

    private static HtmlReport BuildReport(ClassifyOptions options, Table table, string[] features, ClassifyRecipe recipe, int[] counts, int[] usedLevels,
        int[] classOfRow, TrainTestSplit split, int dropped, Sequential model, History history, EarlyStopping early, int epochsRun, ClassScores scores)
    {
        var classes = recipe.Classes;
        var report = new HtmlReport($"neurite classify: {Path.GetFileName(options.DataPath)} -> {options.Target}");
        report.AddHeading("Data");
        report.AddKeyValues([
            ("file", options.DataPath),
            ("rows read", table.RowCount.ToString(CultureInfo.InvariantCulture)),
            ("incomplete rows dropped", dropped.ToString(CultureInfo.InvariantCulture)),
            ("numeric features (standardised with the training rows' mean and sd)", Join(recipe.Features.Where(f => f.Kind == FeatureRecipe.Numeric).Select(f => f.Name))),
            ("text features (one-hot encoded)", Join(recipe.Features.Where(f => f.Kind == FeatureRecipe.Categorical).Select(f => $"{f.Name} ({f.Levels!.Length} levels)"))),
            ("network inputs", recipe.InputWidth.ToString(CultureInfo.InvariantCulture)),
            ("split", $"{split.TrainCount} training rows, {split.TestCount} test rows (random, seed {options.Seed}, test fraction {Num(options.TestFraction)})"),
        ]);
        report.AddHeading("Class balance");
        var balance = new List<string[]>();
        for (int c = 0; c < classes.Length; c++)
        {
            int train = split.TrainRows.Count(r => classOfRow[r] == c), test = split.TestRows.Count(r => classOfRow[r] == c);
            balance.Add([classes[c], counts[usedLevels[c]].ToString(CultureInfo.InvariantCulture), Share(counts[usedLevels[c]], classOfRow.Length),
                train.ToString(CultureInfo.InvariantCulture), test.ToString(CultureInfo.InvariantCulture)]);
        }
        report.AddTable(["class", "complete rows", "share", "training", "test"], balance, $"Classes of '{options.Target}'");

        report.AddHeading("Model and training");
        report.AddPreformatted(model.SummaryText());
        string stopped = epochsRun < options.Epochs
            ? $"Early stopping ended training after {epochsRun} of {options.Epochs} epochs; the weights of epoch {early.BestEpoch + 1} (lowest validation loss) were kept."
            : $"Trained for all {options.Epochs} epochs; the weights of epoch {early.BestEpoch + 1} (lowest validation loss) were kept.";
        report.AddParagraph($"Adam, categorical cross-entropy, batch {options.BatchSize}; a random fifth of the training rows is held out for validation. {stopped}");
        report.AddImage("history.png", Charts.History(history.Values, "Training history", width: PlotWidth, height: PlotHeight),
            "Loss and accuracy by epoch on the training rows and the validation fifth.");

        report.AddHeading("Test results");
        report.AddKeyValues([
            ("accuracy", CommandOutput.Percent(scores.Accuracy)),
            ($"majority-class baseline (always '{classes[scores.MajorityClass]}')", CommandOutput.Percent(scores.MajorityAccuracy)),
        ]);
        report.AddParagraph(scores.Verdict());
        var (header, rows) = scores.Confusion.ToReportTable();
        report.AddTable(header, rows, "Test rows: actual class (rows) against predicted (columns)");
        report.AddImage("confusion.png", Charts.ConfusionMatrix(scores.Confusion.Counts, classes, "Confusion on the test rows", width: PlotWidth, height: PlotHeight),
            "The confusion table as a heat map.");
        var (classHeader, classRows) = scores.PerClassTable();
        report.AddTable(classHeader, classRows, "Per-class precision and recall on the test rows");
        report.AddParagraph("predictions.csv beside this page lists every complete row with its line in the file, its side of the split, its class and the predicted class.");
        return report;
    }

    private static string PredictionsCsv(Table table, int[] complete, TrainTestSplit split, int[] classOfRow, int[] predicted, string[] classes, string target)
    {
        var isTest = new bool[complete.Length];
        foreach (var r in split.TestRows) isTest[r] = true;
        var csv = new StringBuilder();
        csv.Append("line,split,").Append(DataFile.CsvField(target)).Append(",predicted\n");
        for (int r = 0; r < complete.Length; r++)
            csv.Append(complete[r] + 2).Append(',').Append(isTest[r] ? "test" : "train").Append(',')
               .Append(DataFile.CsvField(classes[classOfRow[r]])).Append(',').Append(DataFile.CsvField(classes[predicted[r]])).Append('\n');
        return csv.ToString();
    }

    private static string Join(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }

    private static string Share(int count, int total) => CommandOutput.Percent((double)count / total);

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
