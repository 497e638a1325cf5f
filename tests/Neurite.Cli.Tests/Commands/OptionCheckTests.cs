namespace Neurite.Cli.Tests.Commands;

/// <summary>Option values checked before any work: one line naming the option, exit code 2.</summary>
public sealed class OptionCheckTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private const string TwoClasses = "x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n9,a\n10,b\n";

    private static void OneUsageLine((int Code, string Output, string Error) run, string expected)
    {
        Assert.Equal(CliApp.UsageError, run.Code);
        Assert.Contains(expected, run.Error);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", run.Error);
        Assert.DoesNotContain("System.", run.Error);
    }

    [Theory]
    [InlineData("classify", "--target")]
    [InlineData("forecast", "--column")]
    public void More_threads_than_the_kernels_take_is_one_line(string command, string targetOption) =>
        OneUsageLine(CommandTestKit.Run(command, "data.csv", targetOption, "x", "--threads", "65"), "--threads must be at most 64");

    [Fact]
    public void The_tutorial_refuses_more_threads_than_the_kernels_take() =>
        OneUsageLine(CommandTestKit.Run("tutorial", "--threads", "65", "--out", Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid())), "--threads must be at most 64");

    [Theory]
    [InlineData("classify", "--target")]
    [InlineData("forecast", "--column")]
    [InlineData("tutorial", null)]
    public void A_seed_that_is_not_a_number_names_the_option(string command, string? targetOption)
    {
        string[] args = targetOption is null ? [command, "--seed", "abc"] : [command, "data.csv", targetOption, "x", "--seed", "abc"];
        OneUsageLine(CommandTestKit.Run(args), "--seed must be a whole number; received 'abc'");
    }

    [Fact]
    public async Task A_machine_with_more_cores_than_the_kernels_take_runs_with_default_options()
    {
        string data = _kit.Write("t.csv", TwoClasses);
        // .NET reports DOTNET_PROCESSOR_COUNT as Environment.ProcessorCount, whatever the machine has.
        var (code, output, error) = await CommandTestKit.RunProcessAsync(new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "96" },
            "classify", data, "--target", "y", "--epochs", "1", "--out", _kit.PathOf("r"), "--json");
        Assert.True(code == 0, $"exit code {code}: {error}");
        Assert.Equal("classify", CommandTestKit.Json(output).GetProperty("command").GetString());
    }

    [Fact]
    public void The_tutorial_refuses_a_report_folder_in_a_missing_folder_before_running()
    {
        string folder = _kit.PathOf("absent/report");
        OneUsageLine(CommandTestKit.Run("tutorial", "--part", "iris", "--quick", "--out", folder), "which does not exist");
        Assert.False(Directory.Exists(_kit.PathOf("absent")));
    }
}
