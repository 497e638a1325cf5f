using System.Globalization;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Tests.Shared;

namespace Neurite.Cli.Tests;

/// <summary>
/// The kernel prewarms of the commands that train, where no JIT profile is played back (the early prewarm first): classify
/// prewarms its model once, for the batch size it trains with (Compile's own, for Fit's default of 32 rows, is not started
/// beside it); forecast's first network finds its prewarm done by the early one where the window was guessed right; and after
/// them the first training step compiles no CPU kernel on the training thread. (Whether that makes the first steps faster is
/// a timing: bench/results/cold-start-s7.md.)
/// </summary>
public sealed class CommandPrewarmTests
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
        var (code, output) = RunProbe(CommandPrewarmProbe.Command, inputs.ToString(CultureInfo.InvariantCulture), hidden,
            classes.ToString(CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"The probe process failed (exit code {code}):\n{output}");
        Assert.Contains("STEP-DONE", output);
        string prewarmed = Assert.Single(Lines(output, "PREWARM "));
        Assert.Equal(batch, BatchOf(prewarmed));
        AssertNoKernelCompiled(output, $"classify's first training step ({threads} thread(s), batch {batch})");
    }

    /// <summary>
    /// The window guessed right (--lookback given): the network's own prewarm is the early one's (a model alike); guessed
    /// wrong (a season the data told, here 14 values against the 8 guessed), the network's prewarm compiles the rest.
    /// </summary>
    [Theory]
    [InlineData(12, 12, 1)]
    [InlineData(12, 12, 2)]
    [InlineData(14, 8, 1)]
    public void Forecast_finds_its_first_networks_kernels_compiled_by_the_early_prewarm_and_its_own(int inputs, int lookbackGiven, int threads)
    {
        if (KernelSelector.Best == KernelPath.Scalar)
        {
            Assert.True(Forecasting.NeuralEnsemble.CreateMember(inputs, 32, 1).PrewarmAsync().IsCompletedSuccessfully);
            return;
        }
        var (code, output) = RunProbe(CommandPrewarmProbe.ForecastCommand, inputs.ToString(CultureInfo.InvariantCulture), "32", "1",
            lookbackGiven.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"The probe process failed (exit code {code}):\n{output}");
        Assert.Contains("STEP-DONE", output);
        // One prewarm for the network's shapes of whole batches: the early one's where the guess was right, else its own.
        Assert.Single(Lines(output, "PREWARM "), key => BatchOf(key) == Forecasting.NeuralEnsemble.BatchSize);
        AssertNoKernelCompiled(output, $"forecast's first training step and short batches of {string.Join(", ", CommandPrewarmProbe.ShortBatches)} rows " +
            $"({threads} thread(s), {inputs} inputs, {lookbackGiven} guessed)");
        // The stand-in's shuffles drew from a seeded generator, as the members' do: their first shuffle compiles nothing.
        var shuffle = Lines(output, "SHUFFLE ");
        Assert.True(shuffle.Count == 0, "a seeded member's first shuffle compiled these on the training thread after the early prewarm:\n  " + string.Join("\n  ", shuffle));
    }

    // The key: kernel path / threads / batch rows | layers ...
    private static int BatchOf(string key) => int.Parse(key.Split('|')[0].Split('/')[2], CultureInfo.InvariantCulture);

    private static void AssertNoKernelCompiled(string output, string what)
    {
        var compiled = Lines(output, "KERNEL ");
        Assert.True(compiled.Count == 0, $"{what} compiled these CPU kernels on the training thread although the prewarms had finished:\n  " + string.Join("\n  ", compiled));
    }

    private static List<string> Lines(string output, string prefix) =>
        output.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..].Trim()).ToList();

    private static (int Code, string Output) RunProbe(params string[] arguments) => ProbeProcess.Run("Neurite.Cli.Tests.dll", arguments);
}
