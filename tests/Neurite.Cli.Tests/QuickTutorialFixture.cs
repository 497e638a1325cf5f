using Neurite.Cli.Tutorial;

namespace Neurite.Cli.Tests;

/// <summary>One quick tutorial run, in-process, shared by the tests that inspect its console output and report.</summary>
public sealed class QuickTutorialFixture : IDisposable
{
    public QuickTutorialFixture()
    {
        Folder = Path.Combine(Path.GetTempPath(), "neurite-cli-tests-" + Guid.NewGuid().ToString("N"));
        var console = new StringWriter();
        Result = new TutorialRunner(new TutorialOptions { OutputFolder = Folder, Quick = true, Threads = 1 }, console).Run();
        Console = console.ToString();
    }

    public string Folder { get; }
    public TutorialResult Result { get; }
    public string Console { get; }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
