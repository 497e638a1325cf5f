using System.Globalization;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Tests.Shared;

namespace Neurite.Cli.Tests;

/// <summary>
/// The kernel prewarms of the commands that train, where no JIT profile is played back (the early prewarm first): classify
/// prewarms its model for the batch size it trains with and for the exact short batches its Fit will train and validate on
/// (Compile's own, for Fit's default of 32 rows, is not started beside them); forecast's first network finds its prewarm done by the early one where the window was guessed right; and after
/// them the first training step compiles no CPU kernel on the training thread. (Whether that makes the first steps faster is
/// a timing: bench/results/cold-start-s7.md.)
/// </summary>
public sealed class CommandPrewarmTests
{
    /// <summary>
    /// The short batches (hand-derived): Fit holds out the last fifth of the training rows, floor(rows × 0.8) train; 105
    /// rows (150 at a test fraction of 0.3) leave 84 and 21, so batches of 24 end the epoch with 12 rows and the validation
    /// with 21, batches of 32 with 20 and 21; 100 rows leave 80 and 20, batches of 16 with 16 and 4.
    /// </summary>
    [Theory]
    [InlineData(11, "13,7", 4, 24, 1, 105, new[] { 12, 21 })]
    [InlineData(11, "13,7", 4, 24, 2, 105, new[] { 12, 21 })]
    [InlineData(6, "9", 3, 32, 1, 105, new[] { 20, 21 })]
    [InlineData(4, "8,5", 3, 16, 1, 100, new[] { 4 })]
    public void Classify_prewarms_its_model_for_its_batch_size_and_its_exact_short_batches_and_their_steps_compile_no_kernel(
        int inputs, string hidden, int classes, int batch, int threads, int trainRows, int[] shortBatches)
    {
        if (KernelSelector.Best == KernelPath.Scalar)
        {
            // Without a vector path there is nothing to compile ahead: no prewarm runs at all.
            var (_, prewarm) = Neurite.Cli.Commands.ClassifyCommand.BuildAndPrewarm(inputs, [.. hidden.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture))], classes, batch, shortBatches);
            Assert.True(prewarm.IsCompletedSuccessfully);
            return;
        }
        var (code, output) = RunProbe(CommandPrewarmProbe.Command, inputs.ToString(CultureInfo.InvariantCulture), hidden,
            classes.ToString(CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture),
            trainRows.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"The probe process failed (exit code {code}):\n{output}");
        Assert.Contains("STEP-DONE", output);
        Assert.Equal(shortBatches.Select(r => r.ToString(CultureInfo.InvariantCulture)), Lines(output, "SHORT "));
        // One prewarm per length: the whole batch's and each short one's.
        Assert.Equal(shortBatches.Append(batch).Order(), Lines(output, "PREWARM ").Select(BatchOf).Order());
        AssertNoKernelCompiled(output, $"classify's first training step and short batches of {string.Join(", ", shortBatches)} rows ({threads} thread(s), batch {batch})");
    }

    /// <summary>
    /// The command itself: a table of 150 rows (4 inputs, 2 classes) at the default test fraction leaves 105 training rows,
    /// so batches of 16 end an epoch with 84 − 5 × 16 = 4 rows and a validation with 21 − 16 = 5, and the prediction of all
    /// 150 rows after training, in batches of 32, ends with 150 − 4 × 32 = 22; the model (its hidden width of 7 used by no
    /// other test) is prewarmed for 16, 4, 5 and 22 rows.
    /// </summary>
    [Fact]
    public void Classify_command_prewarms_the_short_batches_of_its_data()
    {
        using var kit = new Commands.CommandTestKit();
        var (code, _, error) = Commands.CommandTestKit.Run("classify", kit.SeparableTable(), "--target", "label", "--hidden", "7", "--batch-size", "16",
            "--epochs", "2", "--out", kit.PathOf("report"));
        Assert.True(code == 0, error);
        var batches = Neurite.Backends.Cpu.CpuBackend.StartedPrewarms.Where(k => k.Contains("|Dense:4>7:", StringComparison.Ordinal)).Select(BatchOf).Order();
        if (KernelSelector.Best == KernelPath.Scalar)
        {
            // Without a vector path there is nothing to compile ahead: no prewarm runs at all.
            Assert.Empty(batches);
            return;
        }
        Assert.Equal([4, 5, 16, 22], batches);
    }

    /// <summary>Fit's split rounded as Fit rounds it (floor of rows × 0.8 train), each short length once (hand-derived).</summary>
    [Theory]
    [InlineData(105, 32, new[] { 20, 21 })]     // 84 + 21
    [InlineData(478, 32, new[] { 30 })]         // 382 = 11 × 32 + 30, and 96 = 3 × 32
    [InlineData(40, 8, new int[0])]             // 32 + 8: both whole
    [InlineData(60, 9, new[] { 3 })]            // 48 = 5 × 9 + 3, and 12 = 9 + 3: one length
    [InlineData(10, 32, new[] { 8, 2 })]        // both shorter than a batch
    public void Classifys_short_batches_are_the_last_batch_of_an_epoch_and_of_a_validation(int trainRows, int batch, int[] expected)
    {
        Assert.Equal(expected, Neurite.Cli.Commands.ClassifyCommand.ShortBatches(trainRows, batch));
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
