using System.IO.Compression;
using System.Text;
using Neurite.IO;
using Neurite.Layers;

namespace Neurite.Cli.Tests.Commands;

/// <summary>What loading a model file leaves out reaches the user as a warning on stderr, and the command still runs.</summary>
public sealed class ModelFileWarningTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void Summary_prints_a_warning_for_a_metric_neurite_does_not_compute()
    {
        string path = _kit.PathOf("model.keras");
        var model = new Sequential([new Dense(2, inputShape: [3])]);
        model.Compile("mse", new Neurite.Optimizers.Adam(), ["mae"]);
        model.Save(path);
        RewriteConfig(path, c => c.Replace("[\"mae\"]", "[\"mae\", \"mape\"]", StringComparison.Ordinal));

        var (code, output, error) = CommandTestKit.Run("summary", path);

        Assert.Equal(0, code);
        Assert.Contains("Total params: 8", output);
        var warning = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Warning: ", warning);
        Assert.Contains("'mape'", warning);
    }

    private static void RewriteConfig(string path, Func<string, string> edit)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.GetEntry("config.json")!;
        string text;
        using (var reader = new StreamReader(entry.Open())) text = reader.ReadToEnd();
        string edited = edit(text);
        Assert.NotEqual(text, edited);
        entry.Delete();
        using var writer = zip.CreateEntry("config.json", CompressionLevel.NoCompression).Open();
        writer.Write(Encoding.UTF8.GetBytes(edited));
    }
}
