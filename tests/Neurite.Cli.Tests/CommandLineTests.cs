using System.Diagnostics;

namespace Neurite.Cli.Tests;

public sealed class CommandLineTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("--part", "lstm", "--part 'lstm' is not a part of the tutorial")]
    [InlineData("--epochs", "0", "--epochs must be a positive whole number; received 0")]
    [InlineData("--epochs", "-5", "--epochs must be a positive whole number; received -5")]
    [InlineData("--epochs", "many", "--epochs must be a whole number; received 'many'")]
    [InlineData("--threads", "0", "--threads must be a positive whole number; received 0")]
    public void A_bad_option_value_is_a_usage_error_with_one_line_naming_it(string option, string value, string message)
    {
        var (code, output, error) = Run("tutorial", option, value, "--out", Path.Combine(Path.GetTempPath(), "never-written-" + Guid.NewGuid()));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains(message, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Report:", output);
    }

    [Theory]
    [InlineData("classify", "--target")]
    [InlineData("forecast", "--column")]
    public void Training_commands_take_a_thread_count_and_refuse_a_bad_one(string command, string targetOption)
    {
        var (code, _, error) = Run(command, "data.csv", targetOption, "x", "--threads", "0");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--threads must be a positive whole number; received '0'", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void An_unknown_option_is_a_usage_error()
    {
        var (code, _, error) = Run("tutorial", "--fast");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("'--fast'", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Help_lists_every_tutorial_option()
    {
        var (code, output, _) = Run("tutorial", "--help");
        Assert.Equal(CliApp.Success, code);
        foreach (var option in new[] { "--part", "--out", "--epochs", "--quick", "--seed", "--threads" })
            Assert.Contains(option, output);
        Assert.Contains("neurite tutorial", output);
    }

    [Fact]
    public void The_built_command_runs_one_part_and_fails_cleanly_on_bad_input()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Neurite.Cli.dll");
        Assert.True(File.Exists(dll), $"The CLI was not copied beside the tests: {dll}");
        string folder = Path.Combine(Path.GetTempPath(), "neurite-cli-process-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ok = RunProcess(dll, "tutorial", "--part", "iris", "--quick", "--out", folder);
            Assert.True(ok.Code == 0, $"exit code {ok.Code}: {ok.Error}");
            Assert.Contains("Total params: 15", ok.Output);
            Assert.True(File.Exists(Path.Combine(folder, "index.html")));
            Assert.True(File.Exists(Path.Combine(folder, "iris-history.png")));

            var bad = RunProcess(dll, "tutorial", "--part", "mnist");
            Assert.Equal(2, bad.Code);
            Assert.Contains("--part 'mnist'", bad.Error);
            Assert.DoesNotContain("   at ", bad.Error);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static (int Code, string Output, string Error) RunProcess(string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment[JitProfile.OptOutVariable] = "1";
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}
