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
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error, Action<int> setExitCode)
    {
        yield return Classify(output, error, setExitCode);
        yield return Forecast(output, error, setExitCode);
        yield return Summary(output, error, setExitCode);
        yield return Predict(output, error, setExitCode);
        yield return Evaluate(output, error, setExitCode);
    }

    private static Command Classify(TextWriter output, TextWriter error, Action<int> setExitCode)
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
        var device = DeviceChoice.CreateOption();
        var command = new Command("classify", "Trains an MLP to predict a column of classes from the other columns of a CSV, and writes a report.")
        {
            data, target, features, hidden, epochs, batch, testFraction, seed, outFolder, save, json, threads, device,
        };
        command.SetAction(parsed =>
        {
            Neurite.Kernels.Threading.MaxThreads = parsed.GetValue(threads);
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
            }, o))))
                setExitCode(CliApp.UsageError);
        });
        return command;
    }

    private static Command Forecast(TextWriter output, TextWriter error, Action<int> setExitCode)
    {
        var data = DataArgument();
        var column = new Option<string>("--column") { Description = "The numeric column to forecast.", Required = true, HelpName = "column" };
        var date = new Option<string>("--date") { Description = "A date column that orders the rows (default: the file's order).", HelpName = "column" };
        var dateFormat = new Option<string>("--date-format") { Description = "How the --date column writes dates, in .NET's letters (default yyyy-MM-dd; e.g. dd/MM/yyyy).", HelpName = "format" };
        var features = FeaturesOption("More numeric input columns besides the forecast column itself.");
        var lookback = PositiveOption("--lookback", $"Steps of history each forecast reads (default {ForecastOptions.DefaultLookback}).", ForecastOptions.DefaultLookback);
        var horizon = PositiveOption("--horizon", $"Steps ahead each forecast predicts (default {ForecastOptions.DefaultHorizon}).", ForecastOptions.DefaultHorizon);
        var units = new Option<string>("--units") { Description = "Units of the stacked LSTM layers, comma-separated.", DefaultValueFactory = _ => "100,50", HelpName = "100,50" };
        var stateful = new Option<bool>("--stateful") { Description = "Stateful LSTMs: the series cut into --batch-size contiguous streams whose states carry from batch to batch." };
        var epochs = PositiveOption("--epochs", $"Most training epochs; early stopping may end sooner when not stateful (default {ForecastOptions.DefaultEpochs}).", ForecastOptions.DefaultEpochs);
        var batch = new Option<int?>("--batch-size")
        {
            Description = $"Windows per batch (default {ForecastOptions.DefaultBatchSize}; with --stateful the number of streams, default 1).",
            HelpName = "count",
            CustomParser = result => ParsePositive(result, "--batch-size", "32"),
        };
        var testFraction = FractionOption(ForecastOptions.DefaultTestFraction);
        var season = new Option<int?>("--season")
        {
            Description = "Season length of the seasonal-naive baseline (default: the lag of strongest autocorrelation in the training part).",
            HelpName = "steps",
            CustomParser = result => ParsePositive(result, "--season", "7"),
        };
        var seed = SeedOption(ForecastOptions.DefaultSeed);
        var outFolder = OutOption(ForecastOptions.DefaultOutputFolder);
        var save = SaveOption();
        var json = JsonOption();
        var threads = ThreadsOption();
        var device = DeviceChoice.CreateOption();
        var command = new Command("forecast", "Trains stacked LSTMs to forecast a numeric column of a CSV, scores them against naive forecasts, and writes a report.")
        {
            data, column, date, dateFormat, features, lookback, horizon, units, stateful, epochs, batch, testFraction, season, seed, outFolder, save, json, threads, device,
        };
        command.SetAction(parsed =>
        {
            Neurite.Kernels.Threading.MaxThreads = parsed.GetValue(threads);
            if (!DeviceChoice.TryRunOn(parsed.GetValue(device), "forecast", error, () => Guarded("forecast", output, error, parsed.GetValue(json), setExitCode, o => ForecastCommand.Run(new ForecastOptions
            {
                DataPath = parsed.GetValue(data)!,
                Column = parsed.GetValue(column)!,
                Date = parsed.GetValue(date),
                DateFormat = parsed.GetValue(dateFormat),
                Features = DataFile.ParseNames(parsed.GetValue(features)),
                Lookback = parsed.GetValue(lookback),
                Horizon = parsed.GetValue(horizon),
                Units = DataFile.ParseSizes(parsed.GetValue(units) ?? "100,50", "--units", "100,50"),
                Stateful = parsed.GetValue(stateful),
                Epochs = parsed.GetValue(epochs),
                BatchSize = parsed.GetValue(batch),
                TestFraction = parsed.GetValue(testFraction),
                Season = parsed.GetValue(season),
                Seed = parsed.GetValue(seed),
                OutputFolder = parsed.GetValue(outFolder)!,
                SavePath = parsed.GetValue(save),
            }, o))))
                setExitCode(CliApp.UsageError);
        });
        return command;
    }

    private static Option<int> ThreadsOption() =>
        PositiveOption("--threads", "Threads the kernels may use (default: all cores of this machine).", Math.Max(1, Environment.ProcessorCount));

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
        var command = new Command("predict", "Applies a model saved by classify or forecast to the rows of a CSV and writes its predictions.") { model, data, outFile };
        command.SetAction(parsed =>
        {
            string? outPath = parsed.GetValue(outFile);
            // Without --out the CSV goes to standard output, so the messages go to the error writer.
            Guarded("predict", output, error, outPath is null, setExitCode, o => ModelCommands.Predict(parsed.GetValue(model)!, parsed.GetValue(data)!, outPath, o));
        });
        return command;
    }

    private static Command Evaluate(TextWriter output, TextWriter error, Action<int> setExitCode)
    {
        var model = ModelArgument();
        var data = DataArgument();
        var json = JsonOption();
        var command = new Command("evaluate", "Scores a model saved by classify or forecast on the rows of a CSV that holds the answers.") { model, data, json };
        command.SetAction(parsed => Guarded("evaluate", output, error, parsed.GetValue(json), setExitCode, o => ModelCommands.Evaluate(parsed.GetValue(model)!, parsed.GetValue(data)!, o)));
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
        catch (Exception e) when (e is not OutOfMemoryException)
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
