using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// Products on a small untransposed B (at most <see cref="Gemm.SmallBInPlaceMaxBytes"/>, e.g. a Dense kernel of 128 × 128) whose
/// panel rows share L1 sets: read in place (<see cref="Gemm.ReadsSmallBInPlace"/>) they keep the bits of the same product with
/// each panel's K block copied first, and of a B packed beforehand, on one thread and two.
/// </summary>
// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmSmallBInPlaceTests
{
    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    [Fact]
    public void TheLimitIsAQuarterOfTheL2AndAtLeast64KiBOnOneThread64KiBOnSeveral()
    {
        Assert.Equal(64 * 1024, Gemm.SmallBInPlaceMaxBytes(0, 1));
        Assert.Equal(128 * 1024, Gemm.SmallBInPlaceMaxBytes(512 * 1024, 1));
        // Zen 4's 1 MiB L2 reads a Dense kernel of 256 × 256 in place.
        Assert.Equal(256 * 1024, Gemm.SmallBInPlaceMaxBytes(1024 * 1024, 1));
        Assert.Equal(512 * 1024, Gemm.SmallBInPlaceMaxBytes(2 * 1024 * 1024, 1));
        Assert.Equal(64 * 1024, Gemm.SmallBInPlaceMaxBytes(2 * 1024 * 1024, 2));
    }

    [Fact]
    public void OnlyASmallBIsReadInPlace()
    {
        bool saved = Gemm.SmallBInPlaceEnabled;
        try
        {
            Gemm.SmallBInPlaceEnabled = true;
            // 128 × 128 floats (64 KiB): rows 512 bytes apart visit 8 of 64 L1 sets, yet B is read in place on any L2.
            Assert.True(Gemm.InPlacePanelThrashesL1(128, 128));
            Assert.False(Gemm.PackingOf(false, false, KernelPath.Vector256, 64, 128, 128, 1).PackPerPanel);
            Assert.False(Gemm.PackingOf(false, false, KernelPath.Vector256, 64, 256, 64, 1).PackPerPanel);
            // 1024 × 1024 floats (4 MiB, past a quarter of any L2 up to 16 MiB) and a transposed B are still copied a panel at a time.
            Assert.True(Gemm.PackingOf(false, false, KernelPath.Vector256, 64, 1024, 1024, 1).PackPerPanel);
            Assert.True(Gemm.PackingOf(false, true, KernelPath.Vector256, 64, 128, 128, 1).PackPerPanel);
            // Two threads read only 64 KiB in place: 128 × 128 yes, 256 × 256 (256 KiB) no, whatever the L2.
            Assert.False(Gemm.PackingOf(false, false, KernelPath.Vector256, 64, 128, 128, 2).PackPerPanel);
            Assert.True(Gemm.PackingOf(false, false, KernelPath.Vector256, 64, 256, 256, 2).PackPerPanel);
            Gemm.SmallBInPlaceEnabled = false;
            Assert.True(Gemm.PackingOf(false, false, KernelPath.Vector256, 64, 128, 128, 1).PackPerPanel);
        }
        finally
        {
            Gemm.SmallBInPlaceEnabled = saved;
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SmallBReadInPlaceGivesTheBitsOfItsPanelsCopied(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int savedThreads = Threading.MaxThreads;
        bool savedInPlace = Gemm.SmallBInPlaceEnabled;
        try
        {
            // The MLP's forward product (64 × 128 × 128) and its dW-like transposed A; rows off the register tiles'
            // heights, short (16, 24) and up to PackBMinRows - 1; B of 256 rows × 64 columns (one K block, 2 panels) and a
            // kernel of 256 × 256 (read in place where a quarter of the L2 holds it, copied otherwise: the same bits either way).
            int seed = 7300;
            var shapes = new[]
            {
                (64, 128, 128, false), (24, 128, 128, false), (Gemm.PackBMinRows - 1, 128, 128, false), (77, 256, 64, false),
                (64, 128, 128, true), (45, 128, 128, true), (16, 256, 256, false), (70, 256, 256, true),
            };
            foreach (var (m, k, n, transA) in shapes)
            {
                Assert.True(Gemm.InPlacePanelThrashesL1(n, k), $"{m}x{k}x{n}: B's panel rows should share L1 sets");
                Assert.True(2.0 * m * n * k >= Gemm.ParallelMinFlops, $"{m}x{k}x{n} should take the blocked path on two threads");
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed); // stored (K, N)
                var initial = KernelPaths.RandomValues(m * n, ++seed);
                var packed = Gemm.PackB(b, k, n, transB: false);
                Threading.MaxThreads = 1;
                var prepacked = new float[m * n];
                Gemm.Multiply(a, packed, prepacked, m, transA);
                string what = $"{path} m={m} k={k} n={n} transA={transA}";
                foreach (bool inPlace in new[] { false, true })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        Gemm.SmallBInPlaceEnabled = inPlace;
                        Threading.MaxThreads = threads;
                        var c = new float[m * n];
                        Gemm.Multiply(a, b, c, m, k, n, transA);
                        Assert.Equal(prepacked, c);
                        var accumulated = (float[])initial.Clone();
                        Gemm.Multiply(a, b, accumulated, m, k, n, transA, accumulate: true);
                        Gemm.SmallBInPlaceEnabled = false;
                        Threading.MaxThreads = 1;
                        var copiedAccumulated = (float[])initial.Clone();
                        Gemm.Multiply(a, b, copiedAccumulated, m, k, n, transA, accumulate: true);
                        Assert.Equal(copiedAccumulated, accumulated);
                        var (product, absSum) = GemmTests.Reference(a, b, m, k, n, transA, false);
                        GemmTests.AssertClose(c, false, product, absSum, c, k, $"{what} inPlace={inPlace} threads={threads}");
                        GemmTests.AssertClose(initial, true, product, absSum, accumulated, k, $"{what} inPlace={inPlace} threads={threads} accumulate");
                    }
            }
        }
        finally
        {
            Threading.MaxThreads = savedThreads;
            Gemm.SmallBInPlaceEnabled = savedInPlace;
        }
    }
}
