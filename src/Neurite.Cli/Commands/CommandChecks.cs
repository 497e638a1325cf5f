using System.Globalization;
using Neurite.IO;

namespace Neurite.Cli.Commands;

/// <summary>Checks of option values made before any work starts, and the paired save of a model and its recipe.</summary>
internal static class CommandChecks
{
    public static void TestFraction(double fraction)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new UserInputException($"--test-fraction must lie between 0 and 1 (exclusive); received {fraction.ToString("R", CultureInfo.InvariantCulture)}. Use e.g. --test-fraction 0.3 to test on 30% of the rows.");
    }

    public static void OutputFolder(string folder) => ReportFolder.Check(folder);

    /// <summary>
    /// Refuses a forecast the machine cannot hold, before anything is allocated: the networks' windows, the ensemble
    /// trained with Adam and joined into one model, and the forecasts with their intervals over the test part. The
    /// sums are taken in double arithmetic, so no option value can overflow them.
    /// </summary>
    /// <param name="lookback">--lookback, or null for the forecaster's choice (at most a longest detectable season and a bit).</param>
    public static void SeriesSize(int? lookback, int horizon, int units, int ensemble, int columns, int rows, int split, string file)
    {
        double steps = Math.Min(lookback ?? Neurite.Forecasting.SeasonDetection.MaxPeriod + 3, Math.Max(1, split / 4));
        double windows = split, inputs = steps * columns, origins = Math.Max(1.0, rows - split);
        double members = ensemble, hidden = units;
        double bytes = 8.0 * rows * columns
            + 4.0 * windows * (inputs + horizon)
            + members * MemoryCheck.MlpTrainingBytes(inputs, [units], horizon, 32)
            + 4.0 * (inputs * members * hidden + members * hidden * members * horizon)
            + 8.0 * 12 * origins * horizon;
        string network = $"{ensemble} network(s) of {units} units reading {inputs:0} values over {windows:0} windows, {horizon} step(s) ahead";
        MemoryCheck.Require(bytes, network, "Use a smaller --lookback, --horizon, --units or --ensemble, or fewer rows.");
        MemoryCheck.RequireArray(windows * inputs, $"{windows:0} windows of {steps:0} steps x {columns} column(s)", "Use a smaller --lookback, or fewer rows.");
        MemoryCheck.RequireArray(windows * horizon, $"{windows:0} windows of {horizon} targets", "Use a smaller --horizon, or fewer rows.");
        MemoryCheck.RequireArray(inputs * members * hidden, $"the joined ensemble's first layer ({inputs:0} inputs x {ensemble} x {units} units)", "Use fewer --units, a smaller --ensemble or --lookback.");
        MemoryCheck.RequireArray(members * hidden * members * horizon, $"the joined ensemble's output layer ({ensemble} x {units} units x {ensemble} x {horizon} steps)", "Use fewer --units, a smaller --ensemble or --horizon.");
        MemoryCheck.RequireArray(Math.Max(origins, split) * horizon, $"forecasts of {horizon} steps from {Math.Max(origins, split):0} origins in {file}", "Use a smaller --horizon, or fewer rows.");
    }

    /// <summary>Refuses, before any training, a --save path that cannot take a model and its preprocessing file.</summary>
    public static void SavePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !path.EndsWith(".keras", StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"--save '{path}' does not end in .keras; models are saved in the Keras 3 format. Use e.g. --save model.keras.");
        foreach (var file in new[] { path, ModelRecipe.SidecarPath(path) })
        {
            switch (OutputFile.KindOf(file))
            {
                case OutputFile.Kind.Folder:
                    throw new UserInputException($"--save '{path}': '{file}' is a folder. Pass a file name such as model.keras.");
                case OutputFile.Kind.Stream or OutputFile.Kind.Other:
                    throw new UserInputException($"--save '{path}': '{file}' is not a regular file (a pipe, device or socket), and a model is saved as two regular files. Pass a file name such as model.keras.");
            }
            OutputFile.CheckWritableFile(file, "--save", "model.keras");
        }
    }

    /// <summary>
    /// Saves the model and its recipe as one pair: both are written in full to temporary files (flushed to disk) first,
    /// the recipe recording the SHA-256 of the model file, then renamed into place one after the other while this
    /// process holds the pair's lock, so concurrent saves to one path end as one whole pair. A kill between the two
    /// renames leaves a pair whose fingerprint disagrees, which loading refuses.
    /// </summary>
    public static void SaveModel(Sequential model, ModelRecipe recipe, string path, CommandOutput output)
    {
        string modelTarget = OutputFile.FinalTarget(path, "--save");
        string sidecarTarget = OutputFile.FinalTarget(ModelRecipe.SidecarPath(path), "--save");
        string modelTemporary = OutputFile.TemporaryPath(modelTarget, ".tmp.keras");
        string? sidecarTemporary = null;
        try
        {
            model.Save(modelTemporary);
            var bound = recipe with { ModelSha256 = ModelRecipe.Fingerprint(modelTemporary) };
            sidecarTemporary = OutputFile.WriteTemporary(sidecarTarget, new System.Text.UTF8Encoding(false).GetBytes(bound.ToJson()));
            using (SaveLock.Acquire(modelTarget))
            {
                File.Move(modelTemporary, modelTarget, overwrite: true);
                File.Move(sidecarTemporary, sidecarTarget, overwrite: true);
            }
        }
        catch (ModelFileException e)
        {
            throw new UserInputException($"The model could not be saved to '{path}': {ModelRecipe.OneLine(e.Message)}");
        }
        finally
        {
            OutputFile.TryDelete(modelTemporary);
            if (sidecarTemporary is not null) OutputFile.TryDelete(sidecarTemporary);
        }
        output.Say($"Model: {path} (preprocessing in {Path.GetFileName(ModelRecipe.SidecarPath(path))} beside it)");
    }

    /// <summary>The SHA-256 of a model file, with a read failure as one line.</summary>
    public static string ModelFingerprint(string path)
    {
        if (Directory.Exists(path))
            throw new UserInputException($"'{path}' is a folder, not a model file. Pass the .keras file saved with --save.");
        if (!File.Exists(path))
            throw new UserInputException($"The model file '{path}' does not exist (looked in '{Path.GetFullPath(path)}'). Check the path, or train and save one with 'neurite classify --save model.keras'.");
        try
        {
            return ModelRecipe.Fingerprint(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"The model file '{path}' cannot be read: {ModelRecipe.OneLine(e.Message)} Check that you may read it.");
        }
    }

    /// <summary>Loads a model file, turning every way it can fail into a one-line error; what loading left out is a warning on stderr.</summary>
    public static Sequential LoadModel(string path, CommandOutput output)
    {
        var model = LoadModel(path);
        foreach (var warning in model.LoadWarnings) output.Error.WriteLine($"Warning: '{path}': {warning}");
        return model;
    }

    private static Sequential LoadModel(string path)
    {
        if (Directory.Exists(path))
            throw new UserInputException($"'{path}' is a folder, not a model file. Pass the .keras file saved with --save.");
        if (!File.Exists(path))
            throw new UserInputException($"The model file '{path}' does not exist (looked in '{Path.GetFullPath(path)}'). Check the path, or train and save one with 'neurite classify --save model.keras'.");
        try
        {
            return Sequential.Load(path);
        }
        catch (ModelFileException e)
        {
            throw new UserInputException($"{ModelRecipe.OneLine(e.Message)}");
        }
        catch (OutOfMemoryException)
        {
            throw new UserInputException($"The model file '{path}' needs more memory than this process can get. Free memory, or load it on a larger machine.");
        }
        catch (Exception e) when (e is NeuriteException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"The model file '{path}' cannot be read: {ModelRecipe.OneLine(e.Message)} Pass a .keras file saved with 'neurite classify --save' or 'neurite forecast --save'.");
        }
    }
}
