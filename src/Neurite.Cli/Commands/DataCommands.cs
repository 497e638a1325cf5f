using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Neurite.Cli.Commands;

/// <summary>
/// The commands that bring a user's own CSV to the tutorial's recipes: <c>classify</c>, <c>forecast</c>, and
/// <c>summary</c>, <c>predict</c>, <c>evaluate</c> for a saved model. Every problem the user can cause ends in one
/// line on the error writer and exit code 2; an unexpected failure in one line and exit code 1.
/// </summary>
internal static class DataCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error, Action<int> setExitCode, CancellationToken interrupt = default)
    {
        yield return Classify(output, error, setExitCode, interrupt);
        yield return Forecast(output, error, setExitCode, interrupt);
        yield return Summary(output, error, setExitCode);
        yield return Predict(output, error, setExitCode);
        yield return Evaluate(output, error, setExitCode);
    }

    private static Command Classify(TextWriter output, TextWriter error, Action<int> setExitCode, CancellationToken interrupt)
    {
        var data = DataArgument();
        var target = new Option<string>("--target") { Description = "The column of classes to predict.", Required = true, HelpName = "column" };
        var features = FeaturesOption("Feature columns (default: every column but the target and date columns).");
        var hidden = new Option<string>("--hidden") { Description = "Units of the hidden ReLU layers, comma-separated.", DefaultValueFactory = _ => "8,5", HelpName = "8,5" };
        var epochs = PositiveOption("--epochs", $"Most training epochs; early stopping may end sooner (default {ClassifyOptions.DefaultEpochs}).", ClassifyOptions.DefaultEpochs);
        var batch = PositiveOption("--batch-size", $"Rows per training batch (default {ClassifyOptions.DefaultBatchSize}).", ClassifyOptions.DefaultBatchSize);
        var testFraction = FractionOption(ClassifyOptions.DefaultTestFraction);
        var seed = SeedOption(ClassifyOptions.DefaultSeed);
        var outFolder = OutOption(ClassifyOptions.DefaultOutputFolder);
        var save = SaveOption();
        var json = JsonOption();
        var threads = ThreadsOption();
        var exclude = NamesOption("--exclude", "Columns to leave out of the default features (e.g. an ID column).");
        var categorical = NamesOption("--categorical", "Columns to read as text categories even where they hold numbers (e.g. codes such as 01, 02).");
        var missing = MissingOption();
        var delimiter = DelimiterOption();
        var device = DeviceChoice.CreateOption();
        var command = new Command("classify", "Trains an MLP to predict a column of classes from the other columns of a CSV, and writes a report.")
        {
            data, target, features, exclude, categorical, missing, delimiter, hidden, epochs, batch, testFraction, seed, outFolder, save, json, threads, device,
        };
        command.SetAction(parsed =>
        {
            Neurite.Backends.Backend.MaxThreads = parsed.GetValue(threads);
            if (!DeviceChoice.TryRunOn(parsed.GetValue(device), "classify", error, () => Guarded("classify", output, error, parsed.GetValue(json), setExitCode, o => ClassifyCommand.Run(new ClassifyOptions
            {
                DataPath = parsed.GetValue(data)!,
                Target = parsed.GetValue(target)!,
                Features = DataFile.ParseNames(parsed.GetValue(features)),
                Hidden = DataFile.ParseSizes(parsed.GetValue(hidden) ?? "8,5", "--hidden", "8,5"),
                Epochs = parsed.GetValue(epochs),
                BatchSize = parsed.GetValue(batch),
                TestFraction = parsed.GetValue(testFraction),
                Seed = parsed.GetValue(seed),
                OutputFolder = parsed.GetValue(outFolder)!,
                SavePath = parsed.GetValue(save),
                Interrupt = interrupt,
                Exclude = DataFile.ParseNames(parsed.GetValue(exclude)),
                Categorical = DataFile.ParseNames(parsed.GetValue(categorical)),
                Missing = ParseMissing(parsed.GetValue(missing)),
                Delimiter = DataFile.ParseDelimiter(parsed.GetValue(delimiter)),
            }, o))))
                setExitCode(CliApp.UsageError);
        });
        return command;
    }

    private static Command Forecast(TextWriter output, TextWriter error, Action<int> setExitCode, CancellationToken interrupt)
    {
        var data = DataArgument();
        var column = new Option<string>("--column") { Description = "The numeric column to forecast.", Required = true, HelpName = "column" };
        var date = new Option<string>("--date") { Description = "A date column that orders the rows (default: the file's order).", HelpName = "column" };
        var dateFormat = new Option<string>("--date-format") { Description = "How the --date column writes dates, in .NET's letters (default yyyy-MM-dd; e.g. dd/MM/yyyy).", HelpName = "format" };
        var features = FeaturesOption("More numeric columns the networks read beside the forecast column's own history (each as changes from its last value).");
        var lookback = new Option<int?>("--lookback")
        {
            Description = "Steps of history each network reads (default: a season and one more step, at least 8 and at least the linear model's).",
            HelpName = "count",
            CustomParser = result => ParsePositive(result, "--lookback", "12"),
        };
        var horizon = PositiveOption("--horizon", $"Steps ahead each forecast predicts (default {ForecastOptions.DefaultHorizon}).", ForecastOptions.DefaultHorizon);
        var units = new Option<string>("--units") { Description = $"ReLU units of each network (default {ForecastOptions.DefaultUnits}).", DefaultValueFactory = _ => ForecastOptions.DefaultUnits.ToString(CultureInfo.InvariantCulture), HelpName = "32" };
        var ensemble = PositiveOption("--ensemble", $"Networks in the ensemble; the forecast takes their median (default {ForecastOptions.DefaultEnsemble}).", ForecastOptions.DefaultEnsemble);
        var stateful = new Option<bool>("--stateful") { Description = "No longer offered (the forecaster reads each window afresh); refused with an explanation." };
        var epochs = PositiveOption("--epochs", $"Most training epochs of each network; each stops at its best validation loss (default {ForecastOptions.DefaultEpochs}).", ForecastOptions.DefaultEpochs);
        var batch = new Option<int?>("--batch-size")
        {
            Description = "No longer an option of forecast (networks train on batches of 32); refused with an explanation.",
            HelpName = "count",
            CustomParser = result => ParsePositive(result, "--batch-size", "32"),
        };
        var testFraction = FractionOption(ForecastOptions.DefaultTestFraction);
        var season = new Option<int?>("--season")
        {
            Description = "Season length (default: detected from the autocorrelation of the training part's changes; 1 for none).",
            HelpName = "steps",
            CustomParser = result => ParsePositive(result, "--season", "7"),
        };
        var seed = SeedOption(ForecastOptions.DefaultSeed);
        var outFolder = OutOption(ForecastOptions.DefaultOutputFolder);
        var save = SaveOption();
        var json = JsonOption();
        var threads = ThreadsOption();
        var missing = MissingOption();
        var delimiter = DelimiterOption();
        var device = DeviceChoice.CreateOption();
        var command = new Command("forecast", "Forecasts a numeric column of a CSV (exponential smoothing, a linear autoregression and a network ensemble, combined on validation), scores it against naive forecasts, and writes a report.")
        {
            data, column, date, dateFormat, features, missing, delimiter, lookback, horizon, units, ensemble, stateful, epochs, batch, testFraction, season, seed, outFolder, save, json, threads, device,
        };
        command.SetAction(parsed =>
        {
            Neurite.Backends.Backend.MaxThreads = parsed.GetValue(threads);
            if (!DeviceChoice.TryRunOn(parsed.GetValue(device), "forecast", error, () => Guarded("forecast", output, error, parsed.GetValue(json), setExitCode, o => ForecastCommand.Run(new ForecastOptions
            {
                DataPath = parsed.GetValue(data)!,
                Column = parsed.GetValue(column)!,
                Date = parsed.GetValue(date),
                DateFormat = parsed.GetValue(dateFormat),
                Features = DataFile.ParseNames(parsed.GetValue(features)),
                Lookback = parsed.GetValue(lookback),
                Horizon = parsed.GetValue(horizon),
                Units = DataFile.ParseSizes(parsed.GetValue(units) ?? "32", "--units", "32"),
                Ensemble = parsed.GetValue(ensemble),
                Stateful = parsed.GetValue(stateful),
                Epochs = parsed.GetValue(epochs),
                BatchSize = parsed.GetValue(batch),
                TestFraction = parsed.GetValue(testFraction),
                Season = parsed.GetValue(season),
                Seed = parsed.GetValue(seed),
                OutputFolder = parsed.GetValue(outFolder)!,
                SavePath = parsed.GetValue(save),
                Interrupt = interrupt,
                Missing = ParseMissing(parsed.GetValue(missing)),
                Delimiter = DataFile.ParseDelimiter(parsed.GetValue(delimiter)),
            }, o))))
                setExitCode(CliApp.UsageError);
        });
        return command;
    }

    private static Option<int> ThreadsOption() => new("--threads")
    {
        Description = $"Threads the kernels may use (default: all cores of this machine, at most {Neurite.Backends.Backend.ThreadLimit}).",
        DefaultValueFactory = _ => CliApp.DefaultThreads,
        HelpName = "count",
        CustomParser = result => (ParsePositive(result, "--threads", "2") is int t ? CliApp.WithinThreadLimit(result, t) : null) ?? CliApp.DefaultThreads,
    };

    private static Command Summary(TextWriter output, TextWriter error, Action<int> setExitCode)
    {
        var model = ModelArgument();
        var command = new Command("summary", "Prints a saved model's layers and parameter counts, and the preprocessing saved with it.") { model };
        command.SetAction(parsed => Guarded("summary", output, error, false, setExitCode, o => ModelCommands.Summary(parsed.GetValue(model)!, o)));
        return command;
    }

    private static Command Predict(TextWriter output, TextWriter error, Action<int> setExitCode)
    {
        var model = ModelArgument();
        var data = DataArgument();
        var outFile = new Option<string>("--out") { Description = "CSV file for the predictions (default: standard output).", HelpName = "predictions.csv" };
        var missing = MissingOption();
        var delimiter = DelimiterOption();
        var command = new Command("predict", "Applies a model saved by classify or forecast to the rows of a CSV and writes its predictions.") { model, data, outFile, missing, delimiter };
        command.SetAction(parsed =>
        {
            string? outPath = parsed.GetValue(outFile);
            // Without --out, or into a pipe or device such as /dev/stdout, the CSV may share standard output, so the
            // messages go to the error writer.
            bool messagesToError = outPath is null || OutputFile.KindOf(outPath) == OutputFile.Kind.Stream;
            Guarded("predict", output, error, messagesToError, setExitCode, o => ModelCommands.Predict(parsed.GetValue(model)!, parsed.GetValue(data)!, outPath,
                DataFile.ParseDelimiter(parsed.GetValue(delimiter)), ParseMissing(parsed.GetValue(missing)), o));
        });
        return command;
    }

    private static Command Evaluate(TextWriter output, TextWriter error, Action<int> setExitCode)
    {
        var model = ModelArgument();
        var data = DataArgument();
        var json = JsonOption();
        var missing = MissingOption();
        var delimiter = DelimiterOption();
        var command = new Command("evaluate", "Scores a model saved by classify or forecast on the rows of a CSV that holds the answers.") { model, data, json, missing, delimiter };
        command.SetAction(parsed => Guarded("evaluate", output, error, parsed.GetValue(json), setExitCode, o => ModelCommands.Evaluate(parsed.GetValue(model)!, parsed.GetValue(data)!,
            DataFile.ParseDelimiter(parsed.GetValue(delimiter)), ParseMissing(parsed.GetValue(missing)), o)));
        return command;
    }

    /// <summary>Runs a command's work and turns every failure into one line and an exit code.</summary>
    private static void Guarded(string name, TextWriter output, TextWriter error, bool json, Action<int> setExitCode, Func<CommandOutput, int> work)
    {
        var commandOutput = new CommandOutput(output, error, json);
        try
        {
            setExitCode(work(commandOutput));
        }
        catch (UserInputException e)
        {
            error.WriteLine($"neurite {name}: {ModelRecipe.OneLine(e.Message)}");
            setExitCode(CliApp.UsageError);
        }
        catch (OperationCanceledException e)
        {
            // Training stops before anything is written: the report, predictions and model are written after it.
            string when = e is TrainingCanceledException t ? $" in training epoch {t.Epoch + 1} ({t.History.Epoch.Count} completed)" : "";
            error.WriteLine($"neurite {name}: interrupted (Ctrl+C){when}; nothing was written (no report, predictions or model).");
            setExitCode(CliApp.Interrupted);
        }
        catch (OverflowException)
        {
            // The checks before training size everything in long or double arithmetic; this backstops a size they miss.
            error.WriteLine($"neurite {name}: a size in this run is too large to compute (more than 2^31 values in one array). Use fewer rows or columns, smaller layers or a shorter --lookback.");
            setExitCode(CliApp.UsageError);
        }
        catch (OutOfMemoryException)
        {
            // The checks before allocating estimate the big arrays; this is the backstop for what they do not count.
            error.WriteLine($"neurite {name} failed: the run ran out of memory ({MemoryCheck.Size(MemoryCheck.Available)} available). Use smaller layers, a shorter --lookback, fewer columns or fewer rows.");
            setExitCode(CliApp.RunFailed);
        }
        catch (Exception e)
        {
            error.WriteLine($"neurite {name} failed: {ModelRecipe.OneLine(e.Message)}");
            setExitCode(CliApp.RunFailed);
        }
    }

    private static Argument<string> DataArgument() => new("DATA") { Description = "A CSV file with a header row." };

    private static Argument<string> ModelArgument() => new("MODEL") { Description = "A .keras model saved with --save (its .neurite.json preprocessing file beside it)." };

    private static Option<string[]> FeaturesOption(string description) => new("--features")
    {
        Description = description + " Names separated by commas or spaces.",
        AllowMultipleArgumentsPerToken = true,
        HelpName = "columns",
    };

    private static Option<string[]> NamesOption(string name, string description) => new(name)
    {
        Description = description + " Names separated by commas or spaces.",
        AllowMultipleArgumentsPerToken = true,
        HelpName = "columns",
    };

    private static Option<string[]> MissingOption() => new("--missing")
    {
        Description = "Values that mean missing, besides NA, null, NaN and empty fields (e.g. --missing '?'); rows with a missing feature are dropped and counted. Several may be given, separated by spaces.",
        AllowMultipleArgumentsPerToken = true,
        HelpName = "values",
    };

    /// <summary>--missing tokens as given: each is one exact value, so a token may itself hold a comma.</summary>
    private static string[] ParseMissing(string[]? values) => (values ?? []).Distinct(StringComparer.Ordinal).ToArray();

    private static Option<string> DelimiterOption() => new("--delimiter")
    {
        Description = "The character between fields (default ','); e.g. ';' for files from spreadsheets in comma-decimal locales, or tab.",
        HelpName = "char",
    };

    private static Option<int> PositiveOption(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        HelpName = "count",
        CustomParser = result => ParsePositive(result, name, defaultValue.ToString(CultureInfo.InvariantCulture)) ?? defaultValue,
    };

    private static Option<double> FractionOption(double defaultValue) => new("--test-fraction")
    {
        Description = $"Share of the rows held out for testing (default {defaultValue.ToString(CultureInfo.InvariantCulture)}).",
        DefaultValueFactory = _ => defaultValue,
        HelpName = "fraction",
        CustomParser = result =>
        {
            string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
            result.AddError($"--test-fraction must be a number between 0 and 1; received '{token}'. Use e.g. --test-fraction 0.3.");
            return defaultValue;
        },
    };

    private static Option<int> SeedOption(int defaultValue) => new("--seed")
    {
        Description = $"Seed of the random split, initial weights and shuffling (default {defaultValue}).",
        DefaultValueFactory = _ => defaultValue,
        HelpName = "number",
        CustomParser = result => CliApp.ParseWholeNumber(result, "--seed", "--seed 17") ?? defaultValue,
    };

    private static Option<string> OutOption(string defaultFolder) => new("--out")
    {
        Description = $"Folder for the report (index.html, PNGs and a CSV); created if missing (default ./{defaultFolder}).",
        DefaultValueFactory = _ => defaultFolder,
        HelpName = "folder",
    };

    private static Option<string> SaveOption() => new("--save")
    {
        Description = "Saves the trained model as a .keras file, with its preprocessing in FILE.neurite.json beside it.",
        HelpName = "model.keras",
    };

    private static Option<bool> JsonOption() => new("--json")
    {
        Description = "Prints the final scores as one JSON object on standard output; progress goes to standard error.",
    };

    private static int? ParsePositive(ArgumentResult result, string option, string example)
    {
        string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0) return value;
        result.AddError($"{option} must be a positive whole number; received '{token}'. Use e.g. {option} {example}.");
        return null;
    }
}
