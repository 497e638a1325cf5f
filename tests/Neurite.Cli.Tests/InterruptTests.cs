using System.Runtime.InteropServices;
using System.Text;
using Neurite.Cli.Tests.Commands;

namespace Neurite.Cli.Tests;

/// <summary>Ctrl+C during training: one line on stderr saying what was kept, nothing written, exit code 130.</summary>
public sealed class InterruptTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    /// <summary>Standard output that cancels the interrupt once <paramref name="trigger"/> has been written: the user's Ctrl+C at a known point.</summary>
    private sealed class InterruptOnText(string trigger, CancellationTokenSource interrupt) : StringWriter
    {
        public override void Write(char value) { base.Write(value); Check(); }
        public override void Write(string? value) { base.Write(value); Check(); }
        public override void Write(char[] buffer, int index, int count) { base.Write(buffer, index, count); Check(); }
        public override void Write(ReadOnlySpan<char> buffer) { base.Write(buffer); Check(); }
        public override void WriteLine(string? value) { base.WriteLine(value); Check(); }
        public override void WriteLine(ReadOnlySpan<char> buffer) { base.WriteLine(buffer); Check(); }

        private void Check()
        {
            if (!interrupt.IsCancellationRequested && GetStringBuilder().ToString().Contains(trigger, StringComparison.Ordinal)) interrupt.Cancel();
        }
    }

    private static (int Code, string Output, string Error) RunInterrupted(string trigger, params string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        var output = new InterruptOnText(trigger, interrupt);
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error, interrupt.Token);
        Assert.True(interrupt.IsCancellationRequested, $"'{trigger}' was never printed, so the run was not interrupted. Output:\n{output}");
        return (code, output.ToString(), error.ToString());
    }

    private static void AssertNothingIn(string folder)
    {
        if (Directory.Exists(folder)) Assert.Empty(Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Classify_interrupted_after_its_first_epoch_writes_nothing_and_exits_130()
    {
        string data = _kit.SeparableTable();
        string report = _kit.PathOf("report"), model = _kit.PathOf("model.keras");

        var (code, _, error) = RunInterrupted("classify epoch ", "classify", data, "--target", "label", "--epochs", "50", "--out", report, "--save", model);

        Assert.Equal(CliApp.Interrupted, code);
        Assert.Equal("neurite classify: interrupted (Ctrl+C) in training epoch 2 (1 completed); nothing was written (no report, predictions or model).",
            Assert.Single(error.TrimEnd().Split('\n')));
        AssertNothingIn(report);
        Assert.False(File.Exists(model));
        Assert.Empty(Directory.EnumerateFiles(_kit.Folder, "model.keras*"));
    }

    [Fact]
    public void Forecast_interrupted_in_network_training_writes_nothing_and_exits_130()
    {
        var (data, _) = _kit.SeasonalSeries();
        string report = _kit.PathOf("forecast-report");

        // The forecaster announces its networks' training, then trains them: the interrupt lands in their first epoch.
        var (code, _, error) = RunInterrupted(" networks on ", "forecast", data, "--column", "value", "--units", "4", "--epochs", "20", "--out", report);

        Assert.Equal(CliApp.Interrupted, code);
        Assert.Equal("neurite forecast: interrupted (Ctrl+C) in training epoch 1 (0 completed); nothing was written (no report, predictions or model).",
            Assert.Single(error.TrimEnd().Split('\n')));
        AssertNothingIn(report);
    }

    [Fact]
    public void The_tutorial_interrupted_in_training_writes_no_report_and_exits_130()
    {
        string report = _kit.PathOf("tutorial");

        var (code, _, error) = RunInterrupted("iris epoch ", "tutorial", "--part", "iris", "--out", report);

        Assert.Equal(CliApp.Interrupted, code);
        Assert.Equal($"neurite tutorial: interrupted (Ctrl+C) while training the iris part; no report was written, so {Path.GetFullPath(report)} is as it was.",
            Assert.Single(error.TrimEnd().Split('\n')));
        AssertNothingIn(report);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private const int Sigint = 2;

    [UnixFact]
    public void Ctrl_c_sent_to_the_neurite_process_stops_the_tutorial_cleanly_with_exit_code_130()
    {
        string report = _kit.PathOf("ibex-report");
        using var process = CliProcess.StartReceivingSigint("tutorial", "--part", "ibex", "--out", report, "--threads", "1");
        var error = process.StandardError.ReadToEndAsync();
        var output = new StringBuilder();
        // The first LSTM epoch line: training is under way.
        var training = Task.Run(() =>
        {
            while (process.StandardOutput.ReadLine() is { } line)
            {
                output.AppendLine(line);
                if (line.StartsWith("lstm epoch", StringComparison.Ordinal)) return true;
            }
            return false;
        });
        if (!training.Wait(TimeSpan.FromSeconds(90)) || !training.Result)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The tutorial never reported an LSTM epoch. Output:\n{output}\nErrors:\n{(error.IsCompleted ? error.Result : "")}");
        }

        Assert.Equal(0, SendSignal(process.Id, Sigint));
        var rest = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("The tutorial did not stop within 60 s of Ctrl+C.");
        }

        Assert.Equal(CliApp.Interrupted, process.ExitCode);
        Assert.Equal($"neurite tutorial: interrupted (Ctrl+C) while training the ibex part; no report was written, so {Path.GetFullPath(report)} is as it was.",
            Assert.Single(error.Result.TrimEnd().Split('\n')));
        Assert.DoesNotContain("   at ", rest.Result);
        AssertNothingIn(report);
    }
}

/// <summary>A fact that runs where POSIX signals exist, and is skipped, saying why, elsewhere.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows()) Skip = "Sends SIGINT with kill(2), which Windows does not have; the in-process interrupt tests cover the same code path.";
    }
}
