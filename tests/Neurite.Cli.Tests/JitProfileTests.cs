using Neurite.Cli.Tests.Commands;

namespace Neurite.Cli.Tests;

/// <summary>
/// Where the CLI keeps its multicore-JIT profile, and that no state of that folder changes what a run prints or
/// makes it fail. (Whether the profile makes the first steps faster is a timing: bench/results/cold-start.md.)
/// </summary>
public sealed class JitProfileTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables)
        => name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void The_profile_lives_under_the_XDG_cache_folder_keyed_by_the_tool_version()
    {
        string cache = Path.Combine(Path.GetTempPath(), "some-cache");
        Assert.Equal(Path.Combine(cache, "neurite", "jit-profile", "0.1.0_3f2a9c"),
            JitProfile.Folder(Environment(("XDG_CACHE_HOME", cache), ("HOME", "/home/someone")), "0.1.0+3f2a9c"));
    }

    [SkippableFact]
    public void Without_XDG_CACHE_HOME_the_profile_lives_in_the_home_cache_folder()
    {
        Skip.If(OperatingSystem.IsWindows(), "Windows keeps it in the local application data folder, not under HOME.");
        string home = Path.Combine(Path.GetTempPath(), "someone");
        string expected = Path.Combine(home, OperatingSystem.IsMacOS() ? "Library/Caches" : ".cache", "neurite", "jit-profile", "0.1.0");
        Assert.Equal(expected, JitProfile.Folder(Environment(("HOME", home)), "0.1.0"));
        // A relative XDG_CACHE_HOME is invalid by the XDG rules and is ignored.
        Assert.Equal(expected, JitProfile.Folder(Environment(("XDG_CACHE_HOME", "relative/cache"), ("HOME", home)), "0.1.0"));
    }

    [SkippableFact]
    public void No_home_and_no_cache_folder_means_no_profile()
    {
        Skip.If(OperatingSystem.IsWindows(), "Windows always has a local application data folder.");
        Assert.Null(JitProfile.Folder(Environment(), "0.1.0"));
        Assert.Null(JitProfile.Folder(Environment(("HOME", "not/absolute")), "0.1.0"));
    }

    [Fact]
    public void The_opt_out_variable_turns_the_profile_off_whatever_its_value()
    {
        string cache = Path.Combine(Path.GetTempPath(), "some-cache");
        Assert.Null(JitProfile.Folder(Environment((JitProfile.OptOutVariable, "1"), ("XDG_CACHE_HOME", cache)), "0.1.0"));
        Assert.Null(JitProfile.Folder(Environment((JitProfile.OptOutVariable, "0"), ("XDG_CACHE_HOME", cache)), "0.1.0"));
        Assert.NotNull(JitProfile.Folder(Environment((JitProfile.OptOutVariable, ""), ("XDG_CACHE_HOME", cache)), "0.1.0"));
    }

    [Theory]
    [InlineData("classify", "classify.jitprofile")]
    [InlineData("forecast", "forecast.jitprofile")]
    [InlineData("tutorial", "tutorial.jitprofile")]
    [InlineData("--version", null)]
    [InlineData("--help", null)]
    [InlineData("clasify", null)]
    public void Each_command_that_trains_or_predicts_has_its_own_profile_and_nothing_else_has_one(string command, string? expected)
    {
        Assert.Equal(expected, JitProfile.FileName([command]));
        Assert.Null(JitProfile.FileName([]));
    }

    /// <summary>Where a run finds a recording to play back, the early prewarm is left to it (Program.cs).</summary>
    [Fact]
    public void Only_a_written_profile_counts_as_a_recording_to_play_back()
    {
        string folder = _kit.PathOf("profiles");
        Directory.CreateDirectory(folder);
        Assert.False(JitProfile.HasRecording(folder, "classify.jitprofile"));
        // The runtime writes the file when the process ends; one cut off before it wrote anything holds nothing to play.
        File.WriteAllBytes(Path.Combine(folder, "classify.jitprofile"), []);
        Assert.False(JitProfile.HasRecording(folder, "classify.jitprofile"));
        File.WriteAllBytes(Path.Combine(folder, "classify.jitprofile"), [1, 2, 3]);
        Assert.True(JitProfile.HasRecording(folder, "classify.jitprofile"));
        Assert.False(JitProfile.HasRecording(folder, "forecast.jitprofile"));
    }

    [Fact]
    public void The_help_names_the_opt_out()
    {
        var (code, output, _) = CommandTestKit.Run("--help");
        Assert.Equal(CliApp.Success, code);
        Assert.Contains($"{JitProfile.OptOutVariable}=1", output);
    }

    [Fact]
    public async Task A_run_records_a_profile_and_no_state_of_the_cache_folder_changes_its_results_or_fails_it()
    {
        string data = _kit.SeparableTable(rows: 60);
        string cache = _kit.PathOf("cache");
        // One report folder: the JSON names it.
        string report = _kit.PathOf("report");
        async Task<string> Classify(string name, params (string, string)[] environment)
        {
            var variables = environment.ToDictionary(v => v.Item1, v => v.Item2);
            variables.TryAdd("XDG_CACHE_HOME", cache);
            variables.TryAdd(JitProfile.OptOutVariable, "");
            var (code, output, error) = await CommandTestKit.RunProcessAsync(variables,
                "classify", data, "--target", "label", "--epochs", "3", "--threads", "1", "--out", report, "--json");
            Assert.True(code == CliApp.Success, $"{name}: {error}");
            Assert.DoesNotContain("   at ", error);
            return output;
        }
        string ProfileFile() => Assert.Single(Directory.GetFiles(Path.Combine(cache, "neurite", "jit-profile"), "classify.jitprofile", SearchOption.AllDirectories));

        string first = await Classify("first");
        Assert.True(new FileInfo(ProfileFile()).Length > 0, "the first run wrote no profile");

        // The second run plays the profile back: the same figures.
        Assert.Equal(first, await Classify("played-back"));

        // A corrupt profile (as a crash or two runs writing at once could leave) is ignored, and replaced.
        File.WriteAllBytes(ProfileFile(), [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 37 % 251))]);
        Assert.Equal(first, await Classify("corrupt-profile"));

        // A cache folder that cannot be made (a file stands where a folder should be): no profile, same results.
        string blocked = _kit.Write("not-a-folder", "");
        Assert.Equal(first, await Classify("unwritable-cache", ("XDG_CACHE_HOME", Path.Combine(blocked, "cache"))));

        // The opt-out: same results, and nothing written.
        string untouched = _kit.PathOf("untouched-cache");
        Assert.Equal(first, await Classify("opted-out", ("XDG_CACHE_HOME", untouched), (JitProfile.OptOutVariable, "1")));
        Assert.False(Directory.Exists(untouched), "the opt-out still made the cache folder");
    }

    [Fact]
    public void A_new_version_removes_only_the_profiles_of_versions_not_run_for_thirty_days()
    {
        string root = _kit.PathOf("jit-profile");
        var now = new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);
        string Version(string name, int daysSinceLastRun, string file = "classify.jitprofile")
        {
            string folder = Path.Combine(root, name);
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, file);
            File.WriteAllText(path, "profile");
            File.SetLastWriteTimeUtc(path, now.AddDays(-daysSinceLastRun));
            return folder;
        }
        string abandoned = Version("0.1.0", daysSinceLastRun: 45);
        string besideIt = Version("0.2.0", daysSinceLastRun: 2);
        // One command run recently keeps the version's folder, whatever its other profiles' age.
        string mixed = Version("0.3.0", daysSinceLastRun: 90);
        Version("0.3.0", daysSinceLastRun: 29, file: "forecast.jitprofile");
        string stray = Path.Combine(root, "notes.txt");
        File.WriteAllText(stray, "not a version folder");
        File.SetLastWriteTimeUtc(stray, now.AddDays(-400));

        JitProfile.RemoveStaleVersions(root, now);

        Assert.False(Directory.Exists(abandoned), "a version unused for 45 days kept its profiles");
        Assert.True(Directory.Exists(besideIt), "a version used two days ago lost its profiles");
        Assert.True(File.Exists(Path.Combine(mixed, "classify.jitprofile")), "a version used 29 days ago lost its profiles");
        Assert.True(File.Exists(stray), "a file beside the version folders was removed");
        JitProfile.RemoveStaleVersions(Path.Combine(root, "missing"), now);
    }
}
