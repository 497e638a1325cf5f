using System.Xml.Linq;

namespace Neurite.Cli.Tests;

public sealed class VersionTests
{
    [Fact]
    public void Version_prints_the_one_version_set_in_Directory_Build_props()
    {
        // A child process: --version reports the entry assembly's version, which in-process would be the test host's.
        var (code, output, error) = CliProcess.Run(TimeSpan.FromSeconds(60), "--version");

        Assert.True(code == CliApp.Success, error);
        // Source Link appends "+<commit>" where the build knows the commit.
        Assert.Equal(VersionInBuildProps(), output.Trim().Split('+')[0]);
    }

    private static string VersionInBuildProps()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Directory.Build.props"))) folder = folder.Parent;
        Assert.NotNull(folder);
        var props = XDocument.Load(Path.Combine(folder.FullName, "Directory.Build.props"));
        var version = props.Descendants("Version").Single().Value;
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        return version;
    }
}
