using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Recurrent;

/// <summary>
/// A large LSTM step runs its product and cell pass a block of rows at a time (<see cref="LstmSequence.StepRowBlocks"/>).
/// Each row's values come from the same chains whichever rows share a product, so every output and gradient must keep
/// the bits of whole steps.
/// </summary>
/// <remarks>Alone: the split across threads depends on the process-wide thread count, which other tests change.</remarks>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class LstmStepBlockTests
{
    // 40 rows (a 2-thread part: 20) in blocks of 13–14 (or 6–7), and enough steps that all steps' arrays exceed half of a
    // 2 MiB L2, so the blocks also fetch the next block's arrays ahead (a prefetch changes no value).
    private const int Batch = 40, Steps = 32, Units = 32;

    [Theory]
    [MemberData(nameof(Cases))]
    public void StepsInRowBlocksGiveTheBitsOfWholeSteps(KernelPath path, int blocks, bool dropout, bool returnSequences, int threads)
    {
        using var _ = KernelPaths.Force(path);
        var whole = Run(path, 1, dropout, returnSequences, threads);
        var blocked = Run(path, blocks, dropout, returnSequences, threads);
        Assert.Equal(whole.Length, blocked.Length);
        for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], blocked[i]);
        // Not a comparison of two copies of nothing: the whole step's output moves with its input.
        Assert.Contains(whole[0], v => v != 0f);
    }

    [Fact]
    public void StepsAreCutOnlyWhereTheirArraysCrowdAKernelThatStaysInL2()
    {
        const int mib = 1024 * 1024;
        // LSTM(256), G = 1024: R is 1 MiB (half of a 2 MiB L2); a row's arrays 1792 floats = 7 KiB. The kernel, a block and the
        // next block in three quarters of the L2 leave 256 KiB a block: 128 rows (896 KiB) take 4 blocks, 64 rows (448 KiB) 2.
        Assert.Equal(4, LstmSequence.StepRowBlocks(128, 256, 1024, 2 * mib));
        Assert.Equal(2, LstmSequence.StepRowBlocks(64, 256, 1024, 2 * mib));
        Assert.Equal(1, LstmSequence.StepRowBlocks(36, 256, 1024, 2 * mib));  // 252 KiB: fits
        Assert.Equal(1, LstmSequence.StepRowBlocks(40, 256, 1024, 2 * mib));  // 280 KiB, but blocks of 20 rows are too short
        // LSTM(128): R 256 KiB leaves 640 KiB a block; 128 rows take 448 KiB.
        Assert.Equal(1, LstmSequence.StepRowBlocks(128, 128, 512, 2 * mib));
        Assert.Equal(2, LstmSequence.StepRowBlocks(256, 128, 512, 2 * mib));
        // LSTM(512): R 4 MiB does not stay in a 2 MiB L2; blocks would read it from L3 once each.
        Assert.Equal(1, LstmSequence.StepRowBlocks(128, 512, 2048, 2 * mib));
        // A 512 KiB L2 (below the resident-panel size) or an unknown one: never.
        Assert.Equal(1, LstmSequence.StepRowBlocks(128, 64, 256, 512 * 1024));
        Assert.Equal(1, LstmSequence.StepRowBlocks(128, 256, 1024, 0));
    }

    public static TheoryData<KernelPath, int, bool, bool, int> Cases()
    {
        var data = new TheoryData<KernelPath, int, bool, bool, int>();
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (!KernelSelector.IsSupported(path)) continue;
            data.Add(path, 3, false, false, 1);
            data.Add(path, 2, true, true, 1);
            data.Add(path, 3, true, false, 2);
            data.Add(path, 4, false, true, 2);
        }
        return data;
    }

    private static float[][] Run(KernelPath path, int blocks, bool dropout, bool returnSequences, int threads)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = threads;
        const int features = 5, g = 4 * Units;
        var seq = new LstmSequence(features, Units, returnSequences: returnSequences) { ForcedRowBlocks = blocks };
        var w = KernelPaths.RandomValues(features * g, 41, 0.3f);
        var r = KernelPaths.RandomValues(Units * g, 42, 0.2f);
        var b = KernelPaths.RandomValues(g, 43, 0.5f);
        var x = KernelPaths.RandomValues(Batch * Steps * features, 44);
        var h0 = KernelPaths.RandomValues(Batch * Units, 45, 0.5f);
        var c0 = KernelPaths.RandomValues(Batch * Units, 46, 0.5f);
        var inputMask = dropout ? KernelPaths.DropoutMask(Batch * features, 47) : [];
        var recurrentMask = dropout ? KernelPaths.DropoutMask(Batch * Units, 48) : [];
        var output = new float[returnSequences ? Batch * Steps * Units : Batch * Units];
        seq.Forward(Batch, Steps, x, h0, c0, w, r, b, output, inputMask, recurrentMask);
        Assert.Equal(path != KernelPath.Scalar, seq.FusedProjection);
        var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length]; var dB = new float[g];
        var dH0 = new float[Batch * Units]; var dC0 = new float[Batch * Units];
        seq.Backward(KernelPaths.RandomValues(output.Length, 49), KernelPaths.RandomValues(Batch * Units, 50), default,
            w, r, dx, dW, dR, dB, dH0, dC0);
        return [output, seq.FinalCell.ToArray(), dx, dW, dR, dB, dH0, dC0];
    }
}
