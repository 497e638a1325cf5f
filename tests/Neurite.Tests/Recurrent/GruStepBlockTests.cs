using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Recurrent;

/// <summary>
/// A large reset-after GRU step runs its products and cell passes a block of rows at a time (<see cref="GruSequence.StepRowBlocks"/>,
/// the LSTM's rule). Each row's values come from the same chains whichever rows share a product, so every output and gradient
/// must keep the bits of whole steps.
/// </summary>
/// <remarks>Alone: the split across threads depends on the process-wide thread count, which other tests change.</remarks>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GruStepBlockTests
{
    // 40 rows (a 2-thread part: 20) in blocks of 10–20 (or 5–10); 40 × 44 × 96 gate values take the input projection into the
    // step products on the vector paths, and all steps' arrays (5U a row, 1.1 MiB) exceed half of a 2 MiB L2, so the blocks
    // fetch the next block's lines (a prefetch changes no value).
    private const int Batch = 40, Steps = 44, Units = 32, Features = 5;

    [Theory]
    [MemberData(nameof(Cases))]
    public void StepsInRowBlocksGiveTheBitsOfWholeSteps(KernelPath path, int blocks, bool bias, bool dropout, bool returnSequences, int threads)
    {
        using var _ = KernelPaths.Force(path);
        var whole = Run(1, bias, dropout, returnSequences, threads, path);
        var blocked = Run(blocks, bias, dropout, returnSequences, threads, path);
        Assert.Equal(whole.Length, blocked.Length);
        for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], blocked[i]);
        // Not a comparison of two copies of nothing: the whole step's output and the recurrent kernel's gradient move.
        Assert.Contains(whole[0], v => v != 0f);
        Assert.Contains(whole[3], v => v != 0f);
    }

    [Fact]
    public void StepsAreCutOnlyWhereTheirArraysCrowdAKernelThatStaysInL2()
    {
        const int mib = 1024 * 1024;
        // GRU(256): R is 768 KiB; a row's arrays 6U = 1536 floats = 6 KiB. The kernel, a block and the next block in three
        // quarters of the L2 (1536 KiB) leave 384 KiB a block: 128 rows (768 KiB) take 2 blocks, 64 rows (384 KiB) fit.
        Assert.Equal(2, GruSequence.StepRowBlocks(128, 256, 2 * mib));
        Assert.Equal(1, GruSequence.StepRowBlocks(64, 256, 2 * mib));
        Assert.Equal(3, GruSequence.StepRowBlocks(160, 256, 2 * mib));  // 960 KiB: 2.5 blocks' worth
        Assert.Equal(2, GruSequence.StepRowBlocks(65, 256, 2 * mib));   // 390 KiB: just over
        // GRU(128): R 192 KiB leaves 672 KiB a block; 64 rows take 192 KiB, 256 rows 768 KiB.
        Assert.Equal(1, GruSequence.StepRowBlocks(64, 128, 2 * mib));
        Assert.Equal(2, GruSequence.StepRowBlocks(256, 128, 2 * mib));
        // GRU(512): R 3 MiB does not stay in a 2 MiB L2; nor GRU(256)'s 768 KiB in a 1 MiB one.
        Assert.Equal(1, GruSequence.StepRowBlocks(128, 512, 2 * mib));
        Assert.Equal(1, GruSequence.StepRowBlocks(128, 256, mib));
        // A 512 KiB L2 (below the resident-panel size) or an unknown one: never.
        Assert.Equal(1, GruSequence.StepRowBlocks(512, 64, 512 * 1024));
        Assert.Equal(1, GruSequence.StepRowBlocks(128, 256, 0));
    }

    public static TheoryData<KernelPath, int, bool, bool, bool, int> Cases()
    {
        var data = new TheoryData<KernelPath, int, bool, bool, bool, int>();
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (!KernelSelector.IsSupported(path)) continue;
            data.Add(path, 3, true, false, false, 1);
            data.Add(path, 2, true, true, true, 1);
            data.Add(path, 4, false, true, false, 1);
            data.Add(path, 3, true, true, false, 2);
            data.Add(path, 2, false, false, true, 2);
        }
        return data;
    }

    private static float[][] Run(int blocks, bool bias, bool dropout, bool returnSequences, int threads, KernelPath path)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = threads;
        const int g = 3 * Units;
        var seq = new GruSequence(Features, Units, returnSequences: returnSequences) { ForcedRowBlocks = blocks };
        var w = KernelPaths.RandomValues(Features * g, 41, 0.3f);
        var r = KernelPaths.RandomValues(Units * g, 42, 0.2f);
        var b = bias ? KernelPaths.RandomValues(seq.BiasLength, 43, 0.5f) : [];
        var x = KernelPaths.RandomValues(Batch * Steps * Features, 44);
        var h0 = KernelPaths.RandomValues(Batch * Units, 45, 0.5f);
        var inputMask = dropout ? KernelPaths.DropoutMask(Batch * Features, 46) : [];
        var recurrentMask = dropout ? KernelPaths.DropoutMask(Batch * Units, 47) : [];
        var output = new float[returnSequences ? Batch * Steps * Units : Batch * Units];
        seq.Forward(Batch, Steps, x, h0, w, r, b, output, inputMask, recurrentMask);
        Assert.Equal(path != KernelPath.Scalar, seq.FusedProjection);
        var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
        var dB = new float[seq.BiasLength]; var dH0 = new float[Batch * Units];
        seq.Backward(KernelPaths.RandomValues(output.Length, 48), KernelPaths.RandomValues(Batch * Units, 49),
            w, r, dx, dW, dR, bias ? dB : default, dH0);
        return [output, dx, dW, dR, dB, dH0];
    }
}
