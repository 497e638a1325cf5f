using System.Globalization;

namespace Neurite.Tests.IO;

/// <summary>Finds the committed Keras fixtures (tests/fixtures/keras) by walking up to the folder holding Neurite.sln.</summary>
internal static class Fixtures
{
    public static string RepoRoot { get; } = FindRoot();

    public static string KerasDir(string name) => Path.Combine(RepoRoot, "tests", "fixtures", "keras", name);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Neurite.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"Neurite.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>Reads the fixture CSV layout: "# shape: a,b[,c]" then one row per batch element.</summary>
    public static (int[] Shape, double[] Values) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var shape = lines[0]["# shape:".Length..].Split(',').Select(s => int.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
        var values = lines.Skip(1).Where(l => l.Length > 0)
            .SelectMany(l => l.Split(',')).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return (shape, values);
    }
}

/// <summary>A temporary folder deleted after the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "neurite-io-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
