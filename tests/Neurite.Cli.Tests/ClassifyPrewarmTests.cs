using System.Diagnostics;
using System.Globalization;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Cli.Tests;

/// <summary>
/// classify's kernel prewarms: one for the model it trains, for the batch size it trains with (Compile's own, for Fit's
/// default of 32 rows, is not started beside it), and after it and the early prewarm the first training step compiles no
/// CPU kernel on the training thread. (Whether that makes the first steps faster is a timing: bench/results/cold-start-s7.md.)
/// </summary>
public sealed class ClassifyPrewarmTests
{
    [Theory]
    [InlineData(11, "13,7", 4, 24, 1)]
    [InlineData(11, "13,7", 4, 24, 2)]
    [InlineData(6, "9", 3, 32, 1)]
    public void Classify_prewarms_its_model_once_for_its_batch_size_and_the_first_step_compiles_no_kernel(int inputs, string hidden, int classes, int batch, int threads)
    {
        if (KernelSelector.Best == KernelPath.Scalar)
        {
            // Without a vector path there is nothing to compile ahead: no prewarm runs at all.
            var (_, prewarm) = Neurite.Cli.Commands.ClassifyCommand.BuildAndPrewarm(inputs, [.. hidden.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture))], classes, batch);
            Assert.True(prewarm.IsCompletedSuccessfully);
            return;
        }
        var (code, output) = RunProbe(inputs, hidden, classes, batch, threads);
        Assert.True(code == 0, $"The probe process failed (exit code {code}):\n{output}");
        Assert.Contains("STEP-DONE", output);
        var prewarms = Lines(output, "PREWARM ");
        string prewarmed = Assert.Single(prewarms);
        // The key: kernel path / threads / batch rows | layers ...
        Assert.Equal(batch.ToString(CultureInfo.InvariantCulture), prewarmed.Split('|')[0].Split('/')[2]);
        var compiled = Lines(output, "KERNEL ");
        Assert.True(compiled.Count == 0,
            $"classify's first training step ({threads} thread(s), batch {batch}) compiled these CPU kernels on the training thread although its prewarms had finished:\n  " +
            string.Join("\n  ", compiled));
    }

    private static List<string> Lines(string output, string prefix) =>
        output.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..].Trim()).ToList();

    private static (int Code, string Output) RunProbe(int inputs, string hidden, int classes, int batch, int threads)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "Neurite.Cli.Tests.dll"), ClassifyPrewarmProbe.Command })
            info.ArgumentList.Add(a);
        foreach (int n in new[] { inputs }) info.ArgumentList.Add(n.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(hidden);
        foreach (int n in new[] { classes, batch, threads }) info.ArgumentList.Add(n.ToString(CultureInfo.InvariantCulture));
        // As the neurite tool runs (its runtimeconfig): methods with loops are compiled optimised on their first call.
        info.Environment["DOTNET_TC_QuickJitForLoops"] = "0";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {host}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("The classify prewarm probe did not finish within 120 s.");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
