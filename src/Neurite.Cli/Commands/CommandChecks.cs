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

    public static void OutputFolder(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new UserInputException("--out is empty. Pass a folder for the report, e.g. --out report.");
        if (File.Exists(folder))
            throw new UserInputException($"--out '{folder}' is a file, but the report needs a folder. Pass a folder name (it is created if missing).");
    }

    public static void SavePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !path.EndsWith(".keras", StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"--save '{path}' does not end in .keras; models are saved in the Keras 3 format. Use e.g. --save model.keras.");
        if (Directory.Exists(path))
            throw new UserInputException($"--save '{path}' is a folder. Pass a file name such as model.keras.");
    }

    /// <summary>
    /// Saves the model and then its recipe, each written to a temporary file and renamed, so neither is ever half
    /// written; a model that cannot be saved leaves the previous pair of files as it was.
    /// </summary>
    public static void SaveModel(Sequential model, ModelRecipe recipe, string path, CommandOutput output)
    {
        string sidecar = ModelRecipe.SidecarPath(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        try
        {
            model.Save(path);
            DataFile.WriteAtomically(sidecar, recipe.ToJson());
        }
        catch (ModelFileException e)
        {
            throw new UserInputException($"The model could not be saved to '{path}': {ModelRecipe.OneLine(e.Message)}");
        }
        output.Say($"Model: {path} (preprocessing in {Path.GetFileName(sidecar)} beside it)");
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
