using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// Products that copy B a panel's K block at a time right before the panel's tiles (a transposed B below PackBMinRows rows,
/// as a Dense layer's dx = dz·Wᵀ), on one thread and with the panels split between two threads: the bits of the same product
/// on a B packed whole beforehand, and close to a double-precision reference.
/// </summary>
// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmPanelCopyTests
{
    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    [Theory]
    [MemberData(nameof(Paths))]
    public void TransposedBCopiedAPanelBlockAtATimeGivesTheBitsOfAPrepackedB(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        // M off the register tiles' heights and up to PackBMinRows - 1; K in one block, in blocks of 150 (300) and of 172
        // and 173 (517, not a multiple of 8), and past PackRowMajorAMinK with PackRowMajorAMinPanels panels (A copied into
        // tile runs too); N ragged (100, 20: one panel, fewer than the threads, so the rows are split and each thread
        // copies every panel) and a multiple of 32; A transposed and not.
        int seed = 5200;
        var shapes = new[]
        {
            (64, 300, 128, false), (13, 517, 100, false), (Gemm.PackBMinRows - 1, 72, 64, true), (70, 300, 20, false),
            (29, Gemm.PackRowMajorAMinK + 5, Gemm.PackRowMajorAMinPanels * PackedMatrix.PanelWidth, false), (45, 517, 96, true),
        };
        foreach (var (m, k, n, transA) in shapes)
        {
            Assert.True(2.0 * m * n * k >= Gemm.ParallelMinFlops, $"{m}x{k}x{n} should take the blocked path on two threads");
            var a = KernelPaths.RandomValues(m * k, ++seed);
            var b = KernelPaths.RandomValues(n * k, ++seed); // stored (N, K)
            var initial = KernelPaths.RandomValues(m * n, ++seed);
            var packed = Gemm.PackB(b, k, n, transB: true);
            Threading.MaxThreads = 1;
            var witness = new float[m * n];
            Gemm.Multiply(a, packed, witness, m, transA);
            var accumulatedWitness = (float[])initial.Clone();
            Gemm.Multiply(a, packed, accumulatedWitness, m, transA, accumulate: true);
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                var c = new float[m * n];
                Gemm.Multiply(a, b, c, m, k, n, transA, transB: true);
                Assert.Equal(witness, c);
                var accumulated = (float[])initial.Clone();
                Gemm.Multiply(a, b, accumulated, m, k, n, transA, transB: true, accumulate: true);
                Assert.Equal(accumulatedWitness, accumulated);
            }
            string what = $"{path} m={m} k={k} n={n} transA={transA}";
            var (product, absSum) = GemmTests.Reference(a, b, m, k, n, transA, true);
            GemmTests.AssertClose(witness, false, product, absSum, witness, k, what);
            GemmTests.AssertClose(initial, true, product, absSum, accumulatedWitness, k, what + " accumulate");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TallTransposedProductsStillPackBWholeWithTheSameBits(KernelPath path)
    {
        // At PackBMinRows rows a transposed B is packed whole first (shared by the threads' rows): the bits of the shorter
        // products' path above, row for row.
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        int m = Gemm.PackBMinRows + 3, k = 300, n = 100;
        var a = KernelPaths.RandomValues(m * k, 61);
        var b = KernelPaths.RandomValues(n * k, 62);
        Threading.MaxThreads = 1;
        var tall = new float[m * n];
        Gemm.Multiply(a, b, tall, m, k, n, transB: true);
        var top = new float[(m - 5) * n];
        Gemm.Multiply(a, b, top, m - 5, k, n, transB: true);
        Assert.Equal(top, tall[..top.Length]);
        Threading.MaxThreads = 2;
        var twoThreads = new float[m * n];
        Gemm.Multiply(a, b, twoThreads, m, k, n, transB: true);
        Assert.Equal(tall, twoThreads);
    }
}
