using System.Globalization;
using Neurite.Backends.Cpu;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Forecasting;

namespace Neurite.Tests.Forecasting;

/// <summary>
/// <see cref="NeuralEnsemble.StartPrewarm"/>: the kernel prewarm of the members the forecaster is about to train, for a
/// whole batch and for the short last batch of an epoch and of a validation, on a flow of its own.
/// </summary>
public class EnsemblePrewarmTests
{
    // Shapes no other test builds, so that the prewarms found are this test's.
    private const int Inputs = 37, Hidden = 19, Outputs = 3;

    [Fact]
    public void Prewarms_whole_batches_and_both_short_last_batches_and_leaves_the_callers_seeded_sequence_as_it_was()
    {
        string signature = FormattableString.Invariant($"|Dense:{Inputs}>{Hidden}");
        const int seed = 11;
        NeuriteRandom.SetSeed(seed);
        double[] expected = [NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble()];
        NeuriteRandom.SetSeed(seed);
        double first = NeuriteRandom.NextDouble();

        // 70 training windows: two batches of 32 and one of 6; 45 validation windows: one of 32 and one of 13.
        NeuralEnsemble.StartPrewarm(Inputs, Hidden, Outputs, trainingRows: 70, validationRows: 45);

        if (KernelSelector.Best == KernelPath.Scalar)
        {
            // Without a vector path there is nothing to compile ahead: the backend starts no prewarm for any batch.
            Thread.Sleep(200);
            Assert.DoesNotContain(CpuBackend.StartedPrewarms, k => k.Contains(signature, StringComparison.Ordinal));
        }
        else
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            int[] Rows() => CpuBackend.StartedPrewarms.Where(k => k.Contains(signature, StringComparison.Ordinal))
                .Select(k => int.Parse(k.Split('|')[0].Split('/')[2], CultureInfo.InvariantCulture)).Order().ToArray();
            while (Rows().Length < 3 && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Assert.Equal(new[] { 6, 13, NeuralEnsemble.BatchSize }, Rows());
        }
        // The prewarm's model drew its weights before its first prewarm started: from the unseeded generator, not this flow's.
        Assert.Equal(expected, new[] { first, NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble() });
    }
}
