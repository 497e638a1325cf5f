using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Recurrent;

/// <summary>
/// A reset-before GRU's step products fetch lines for the passes around them (<see cref="GruSequence"/>'s FetchesAhead): the
/// forward's r ⊙ h̃, h' and the next step's sums, the backward's previous step's ĥ, h, z and r. A prefetch changes no value,
/// so every output and gradient keeps its bits, on one thread and two, with and without dropout masks.
/// </summary>
/// <remarks>Alone: the thread count is process-wide, and other tests change it.</remarks>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GruFetchAheadTests
{
    // 16 rows × 40 steps of 128 units: all steps' arrays (1.3 MiB backward, 1.6 MiB forward) exceed half of a 2 MiB L2, so the
    // steps fetch there; 3 × 128 gate columns fuse the projection (16 × 40 × 384 gate values).
    private const int Batch = 16, Steps = 40, Units = 128, Features = 12;

    [Theory]
    [MemberData(nameof(Cases))]
    public void StepsThatFetchAheadGiveTheBitsOfStepsThatDoNot(KernelPath path, bool bias, bool dropout, int threads)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = threads;
        // What the rule says for the host's L2 (nothing on an L2 under 1 MiB or an unknown one, nor on the scalar path, whose
        // products fetch nothing): the pass must have done that.
        bool expected = path != KernelPath.Scalar
            && GruSequence.FetchesAhead((Batch + threads - 1) / threads, Batch, Steps, Units, forward: false, gatesProduct: true, CacheSizes.L2Bytes);
        var results = new List<float[][]>();
        foreach (bool fetch in new[] { false, true })
        {
            var seq = new GruSequence(Features, Units, resetAfter: false, returnSequences: true) { AllowFetchAhead = fetch };
            var w = KernelPaths.RandomValues(Features * 3 * Units, 41, 0.3f);
            var r = KernelPaths.RandomValues(Units * 3 * Units, 42, 0.1f);
            var b = bias ? KernelPaths.RandomValues(seq.BiasLength, 43, 0.5f) : [];
            var x = KernelPaths.RandomValues(Batch * Steps * Features, 44);
            var h0 = KernelPaths.RandomValues(Batch * Units, 45, 0.5f);
            var inputMask = dropout ? KernelPaths.DropoutMask(Batch * Features, 46) : [];
            var recurrentMask = dropout ? KernelPaths.DropoutMask(Batch * Units, 47) : [];
            var output = new float[Batch * Steps * Units];
            seq.Forward(Batch, Steps, x, h0, w, r, b, output, inputMask, recurrentMask);
            Assert.Equal(fetch && expected, seq.FetchedAhead);
            var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
            var dB = new float[seq.BiasLength]; var dH0 = new float[Batch * Units];
            seq.Backward(KernelPaths.RandomValues(output.Length, 48), default, w, r, dx, dW, dR, bias ? dB : default, dH0);
            Assert.Equal(fetch && expected, seq.FetchedAhead);
            results.Add([output, dx, dW, dR, dB, dH0]);
        }
        for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
    }

    /// <summary>The rule: each product's lines (2U a row, 3U for the forward's candidate product) fit an L2 of at least 1 MiB,
    /// and all steps' arrays (5U a row forward, 4U backward) take more than half of it.</summary>
    [Fact]
    public void ProductsFetchAheadOnlyWhereTheirLinesFitALargeL2ThatCannotHoldTheSequence()
    {
        const int mib = 1024 * 1024;
        // The sweep's GRU(256) at B = 256, T = 50 in 128-row halves: 256 KiB (gates, backward) and 384 KiB (candidate).
        Assert.True(GruSequence.FetchesAhead(128, 128, 50, 256, forward: true, gatesProduct: true, 2 * mib));
        Assert.True(GruSequence.FetchesAhead(128, 128, 50, 256, forward: true, gatesProduct: false, 2 * mib));
        Assert.True(GruSequence.FetchesAhead(128, 128, 50, 256, forward: false, gatesProduct: false, 2 * mib));
        // U = 512: the gates' 512 KiB and the candidate's 768 KiB fit 1 MiB; 256 rows' candidate (1.5 MiB) only 2 MiB.
        Assert.True(GruSequence.FetchesAhead(128, 128, 10, 512, forward: true, gatesProduct: true, mib));
        Assert.True(GruSequence.FetchesAhead(128, 128, 10, 512, forward: true, gatesProduct: false, mib));
        Assert.False(GruSequence.FetchesAhead(256, 256, 10, 512, forward: true, gatesProduct: false, mib));
        Assert.True(GruSequence.FetchesAhead(256, 256, 10, 512, forward: true, gatesProduct: false, 2 * mib));
        // A 1 MiB L2 takes the U = 256 halves' 256 and 384 KiB; 512 KiB or unknown: never.
        Assert.True(GruSequence.FetchesAhead(128, 128, 50, 256, forward: false, gatesProduct: true, mib));
        Assert.True(GruSequence.FetchesAhead(128, 128, 50, 256, forward: true, gatesProduct: false, mib));
        Assert.False(GruSequence.FetchesAhead(8, 8, 50, 64, forward: false, gatesProduct: true, 512 * 1024));
        Assert.False(GruSequence.FetchesAhead(8, 8, 50, 64, forward: false, gatesProduct: true, 0));
        // A sequence whose arrays stay in L2 (8 rows × 10 steps × 4 × 64 units, 80 KiB backward): nothing to fetch.
        Assert.False(GruSequence.FetchesAhead(8, 8, 10, 64, forward: false, gatesProduct: true, 2 * mib));
    }

    public static TheoryData<KernelPath, bool, bool, int> Cases()
    {
        var data = new TheoryData<KernelPath, bool, bool, int>();
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (!KernelSelector.IsSupported(path)) continue;
            data.Add(path, true, false, 1);
            data.Add(path, true, true, 1);
            data.Add(path, false, false, 2);
            data.Add(path, true, true, 2);
        }
        return data;
    }
}
