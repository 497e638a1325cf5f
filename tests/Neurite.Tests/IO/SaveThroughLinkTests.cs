using Neurite.IO;
using Neurite.Layers;

namespace Neurite.Tests.IO;

/// <summary>Saving to a symbolic link replaces the file it names; the link stays a link.</summary>
public sealed class SaveThroughLinkTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "neurite-links-" + Guid.NewGuid().ToString("N"));

    public SaveThroughLinkTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Sequential Mlp(int seed)
    {
        NeuriteRandom.SetSeed(seed);
        var model = new Sequential([new Dense(3, inputShape: [2]), new Dense(1)]) { Output = TextWriter.Null };
        model.Compile(loss: "mse", optimizer: "sgd");
        return model;
    }

    [Fact]
    public void A_model_saved_to_a_link_lands_in_the_link_target()
    {
        string target = Path.Combine(_folder, "real.keras");
        Mlp(1).Save(target);
        string link = Path.Combine(_folder, "link.keras");
        File.CreateSymbolicLink(link, target);
        var second = Mlp(2);
        second.Save(link);

        Assert.Equal(target, new FileInfo(link).LinkTarget);
        var loaded = Sequential.Load(target);
        Assert.Equal(second.GetWeights()[0].ToArray(), loaded.GetWeights()[0].ToArray());
        Assert.NotEqual(Mlp(1).GetWeights()[0].ToArray(), loaded.GetWeights()[0].ToArray());
    }
}
