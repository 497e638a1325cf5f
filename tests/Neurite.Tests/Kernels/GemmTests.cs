using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Tests.Kernels;

// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmTests
{
    private static readonly int[] Sizes = [0, 1, 3, 17, 33, 64, 101];

    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    /// <summary>op(A)·op(B) in double, the independent reference, with Σ|a·b| per element for the error bound.</summary>
    internal static (double[] Product, double[] AbsSum) Reference(float[] a, float[] b, int m, int k, int n, bool transA, bool transB)
    {
        var product = new double[m * n];
        var absSum = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, sa = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * m + i] : a[i * k + p];
                    double y = transB ? b[j * k + p] : b[p * n + j];
                    s += x * y;
                    sa += Math.Abs(x * y);
                }
                product[i * n + j] = s;
                absSum[i * n + j] = sa;
            }
        return (product, absSum);
    }

    internal static void AssertClose(float[] initial, bool accumulate, double[] product, double[] absSum, float[] actual, int k, string what)
    {
        // Float summation of k terms errs by at most about k·2^-24·Σ|a·b|, plus one rounding of the C addend.
        for (int i = 0; i < product.Length; i++)
        {
            double expected = product[i] + (accumulate ? initial[i] : 0);
            double tolerance = (k + 2) * Math.Pow(2, -24) * (absSum[i] + (accumulate ? Math.Abs(initial[i]) : 0)) + 1e-30;
            if (Math.Abs(actual[i] - expected) > tolerance)
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected} ± {tolerance}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesDoubleReferenceForEveryTransposeAndOddSizes(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int seed = 0;
        foreach (int m in Sizes)
            foreach (int k in Sizes)
                foreach (int n in Sizes)
                    for (int t = 0; t < 4; t++)
                    {
                        bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                        bool accumulate = (seed & 4) != 0;
                        var a = KernelPaths.RandomValues(m * k, ++seed);
                        var b = KernelPaths.RandomValues(k * n, ++seed);
                        var c = KernelPaths.RandomValues(m * n, ++seed);
                        var initial = (float[])c.Clone();
                        Gemm.Multiply(a, b, c, m, k, n, transA, transB, accumulate);
                        var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
                        AssertClose(initial, accumulate, product, absSum, c, k, $"{path} m={m} k={k} n={n} transA={transA} transB={transB} accumulate={accumulate}");
                    }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SmallShapesMatchTheDoubleReference(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int seed = 1000;
        // Every N up to 40 (each column chunk width and ragged tail), K from 1 to 100, and row counts
        // around the micro-kernel heights, all transposes, with and without accumulate.
        int[] rowCounts = [1, 5, 9, 50];
        int[] depths = [1, 2, 8, 37, 100];
        for (int n = 1; n <= 40; n++)
            foreach (int m in rowCounts)
                foreach (int k in depths)
                    for (int t = 0; t < 8; t++)
                    {
                        bool transA = (t & 1) != 0, transB = (t & 2) != 0, accumulate = (t & 4) != 0;
                        var a = KernelPaths.RandomValues(m * k, ++seed);
                        var b = KernelPaths.RandomValues(k * n, ++seed);
                        var c = KernelPaths.RandomValues(m * n, ++seed);
                        var initial = (float[])c.Clone();
                        Gemm.Multiply(a, b, c, m, k, n, transA, transB, accumulate);
                        var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
                        AssertClose(initial, accumulate, product, absSum, c, k, $"{path} m={m} k={k} n={n} transA={transA} transB={transB} accumulate={accumulate}");
                    }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ATransposedAndCopiedIntoTileRunsGivesTheBitsOfAReadInPlace(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int seed = 3000;
        // Two panels or more copy a transposed A into one run per register tile, row of A by row; the same product of A stored
        // the other way reads A in place. Odd row counts (tiles of uneven height, a last tile short of 8 columns at A's end;
        // on the 512-bit path tiles of 9 to 12 rows, moved 16 values at a time but for a last tile short of 16 columns)
        // and several K blocks. The last row of A and a last tile short of a whole move's columns go in two overlapping
        // moves (8 or 4 wide) inside their group. Rows of up to 128 values whose K block stays in L1 are read in place
        // (MLP U=128's dW, tiles of 12 and 11); longer rows, or 64 and 128 with longer K blocks, are copied.
        foreach (var (m, k, n, copiesA) in new[] { (64, 300, 96, true), (137, 300, 96, true), (161, 513, 64, true), (213, 40, 160, true), (250, 100, 100, true),
            (144, 70, 64, true), (128, 200, 64, true), (256, 64, 64, true), (37, 300, 96, false), (13, 40, 160, false), (5, 9, 64, false),
            (100, 64, 96, false), (128, 64, 128, false) })
        {
            Assert.Equal(copiesA, Gemm.CopiesTransposedA(m, k / ((k + 255) / 256), (n + 31) / 32));
            var aT = KernelPaths.RandomValues(k * m, ++seed);
            var a = new float[m * k];
            for (int p = 0; p < k; p++)
                for (int i = 0; i < m; i++) a[i * k + p] = aT[p * m + i];
            var b = KernelPaths.RandomValues(k * n, ++seed);
            var packed = Gemm.PackB(b, k, n);
            var initial = KernelPaths.RandomValues(m * n, ++seed);
            var inPlace = (float[])initial.Clone();
            var copied = (float[])initial.Clone();
            Gemm.Multiply(a, packed, inPlace, m, accumulate: true);
            Gemm.Multiply(aT, packed, copied, m, transA: true, accumulate: true);
            Assert.Equal(inPlace, copied);
            Assert.NotEqual(initial, copied);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SmallShapesGiveBitIdenticalResultsToTheBlockedKernels(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int seed = 2000;
        // The packed overload always runs the blocked kernels, so it is the independent witness that
        // the small-shape path keeps each element's operation order.
        foreach (var (m, k, n) in new[] { (50, 89, 8), (89, 50, 8), (50, 8, 89), (50, 8, 5), (5, 4, 3), (4, 5, 3), (8, 50, 5), (5, 50, 2), (50, 2, 5), (13, 100, 40), (3, 7, 17), (7, 30, 1), (5, 400, 36), (9, 390, 20) })
            for (int t = 0; t < 4; t++)
            {
                bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                Assert.True(2.0 * m * n * k < Gemm.SmallMaxFlops, "the shape must take the small path");
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var initial = KernelPaths.RandomValues(m * n, ++seed);
                var packed = Gemm.PackB(b, k, n, transB);
                foreach (bool accumulate in new[] { false, true })
                {
                    var small = (float[])initial.Clone();
                    var blocked = (float[])initial.Clone();
                    Gemm.Multiply(a, b, small, m, k, n, transA, transB, accumulate);
                    Gemm.Multiply(a, packed, blocked, m, transA, accumulate);
                    Assert.Equal(blocked, small);
                }
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SmallShapesLeaveMemoryOutsideCUntouched(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        // C is a window of a larger array: the ragged last column chunk must write only its valid columns.
        const int m = 9, k = 6, n = 13, offset = 3;
        var a = KernelPaths.RandomValues(m * k, 1);
        var b = KernelPaths.RandomValues(k * n, 2);
        var storage = new float[m * n + 2 * offset];
        storage.AsSpan().Fill(7f);
        Gemm.Multiply(a, b, storage.AsSpan(offset, m * n), m, k, n);
        for (int i = 0; i < offset; i++)
        {
            Assert.Equal(7f, storage[i]);
            Assert.Equal(7f, storage[offset + m * n + i]);
        }
        var (product, absSum) = Reference(a, b, m, k, n, false, false);
        AssertClose(new float[m * n], false, product, absSum, storage.AsSpan(offset, m * n).ToArray(), k, $"{path} window");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AccumulateAddsToCAndOverwriteIgnoresIt(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        // 2x2 by hand: [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50].
        float[] a = [1, 2, 3, 4], b = [5, 6, 7, 8];
        float[] c = [100, 200, 300, 400];
        Gemm.Multiply(a, b, c, 2, 2, 2, accumulate: true);
        Assert.Equal([119f, 222f, 343f, 450f], c);
        Gemm.Multiply(a, b, c, 2, 2, 2);
        Assert.Equal([19f, 22f, 43f, 50f], c);
        // Transposes of the same data: Aᵀ = [1 3; 2 4], Bᵀ = [5 7; 6 8]; Aᵀ·Bᵀ = [1·5+3·6 1·7+3·8; 2·5+4·6 2·7+4·8] = [23 31; 34 46].
        Gemm.Multiply(a, b, c, 2, 2, 2, transA: true, transB: true);
        Assert.Equal([23f, 31f, 34f, 46f], c);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LongInnerDimensionSpansSeveralKBlocks(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        const int m = 13, k = 1000, n = 45;
        for (int t = 0; t < 4; t++)
        {
            bool transA = (t & 1) != 0, transB = (t & 2) != 0;
            var a = KernelPaths.RandomValues(m * k, 10 + t);
            var b = KernelPaths.RandomValues(k * n, 20 + t);
            var c = KernelPaths.RandomValues(m * n, 30 + t);
            var initial = (float[])c.Clone();
            Gemm.Multiply(a, b, c, m, k, n, transA, transB, accumulate: true);
            var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
            AssertClose(initial, true, product, absSum, c, k, $"{path} transA={transA} transB={transB}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PackedBGivesTheSameProductAsUnpacked(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int seed = 100;
        foreach (var (m, k, n) in new[] { (50, 102, 400), (17, 33, 101), (1, 3, 1), (64, 64, 64), (3, 0, 5) })
            for (int t = 0; t < 4; t++)
            {
                bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var packed = Gemm.PackB(b, k, n, transB);
                Assert.Equal(k, packed.K);
                Assert.Equal(n, packed.N);
                foreach (bool accumulate in new[] { false, true })
                {
                    var c = KernelPaths.RandomValues(m * n, ++seed);
                    var initial = (float[])c.Clone();
                    Gemm.Multiply(a, packed, c, m, transA, accumulate);
                    var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
                    AssertClose(initial, accumulate, product, absSum, c, k, $"{path} packed m={m} k={k} n={n} transA={transA} transB={transB}");
                }
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void RepackRefreshesThePackedValues(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        const int m = 7, k = 20, n = 40;
        var a = KernelPaths.RandomValues(m * k, 1);
        var packed = Gemm.PackB(KernelPaths.RandomValues(k * n, 2), k, n);
        var fresh = KernelPaths.RandomValues(k * n, 3);
        Gemm.Repack(packed, fresh, transB: false);
        var c = new float[m * n];
        Gemm.Multiply(a, packed, c, m);
        var (product, absSum) = Reference(a, fresh, m, k, n, false, false);
        AssertClose(c, false, product, absSum, c, k, $"{path} repacked");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void RepackOfWholePanelsPutsEveryValueWhereThePanelLayoutSays(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        // N a multiple of 32 takes the row-block copy; 37 rows end in a partial block, 1 row is a block of its own.
        foreach (var (k, n) in new[] { (37, 96), (1, 32), (16, 64) })
        {
            var b = KernelPaths.RandomValues(k * n, k + n);
            var packed = new PackedMatrix(k, n);
            Gemm.Repack(packed, b);
            var data = packed.Data;
            const int w = PackedMatrix.PanelWidth;
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(b[p * n + j], data[(j / w) * k * w + p * w + j % w]);
        }
    }

    [Fact]
    public void RepackRejectsBOfTheWrongSize()
    {
        var packed = Gemm.PackB(new float[12], 3, 4);
        var error = Assert.Throws<ArgumentException>(() => Gemm.Repack(packed, new float[11]));
        Assert.Contains("3*4 = 12", error.Message);
        Assert.Contains("11", error.Message);
    }

    [Fact]
    public void ShortSpansAreRejectedWithTheNeededSize()
    {
        var error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[5], new float[6], new float[6], 2, 3, 2));
        Assert.Contains("m*k = 2*3 = 6", error.Message);
        error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[6], new float[6], new float[3], 2, 3, 2));
        Assert.Contains("m*n = 2*2 = 4", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(new float[6], new float[6], new float[6], -1, 3, 2));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TallProductsInRowChunksAndKBlocksMatchRowByRowProductsBitForBit(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        // 300 rows × K blocks of 200 exceed the A block one chunk of rows may hold, so the rows go in
        // chunks; 260 × 264 is large enough that even an in-place B is packed (ragged last panel included).
        // Each row alone (1×K×N) takes the small path, one unblocked chain per element: the witness.
        int seed = 900;
        foreach (var (m, k, n) in new[] { (300, 600, 70), (Gemm.PackBMinRows + 4, 300, Gemm.PackBMinColumns + 8) })
        {
            for (int t = 0; t < 4; t++)
            {
                bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var rowByRow = new float[m * n];
                var row = new float[k];
                for (int i = 0; i < m; i++)
                {
                    for (int p = 0; p < k; p++) row[p] = transA ? a[p * m + i] : a[i * k + p];
                    Gemm.Multiply(row, b, rowByRow.AsSpan(i * n, n), 1, k, n, transB: transB);
                }
                foreach (int threads in new[] { 1, 2 })
                {
                    Threading.MaxThreads = threads;
                    var c = new float[m * n];
                    Gemm.Multiply(a, b, c, m, k, n, transA, transB);
                    Assert.Equal(rowByRow, c);
                }
                var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
                AssertClose(rowByRow, false, product, absSum, rowByRow, k, $"{path} transA={transA} transB={transB}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ShortProductsWithALargeTransposedBSwapOperandsAndKeepTheBitsOfTheDirectProduct(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        // C = A·Bᵀ with a few rows (a whole number of 32-column panels) beside a B of at least 512 × 512 (256 × 256 for up
        // to 64 rows) is made as (B·Aᵀ)ᵀ on the vector paths: each element's chain over k is the same with the factors of
        // every multiply-add swapped. Witnesses: the direct product (swapping off) and each row alone (1×K×N, one chain per element).
        // Ragged N (544 + 20), several K blocks, up to 64 rows beside a B of 256 × 256 and more, and shapes that stay direct:
        // 48 rows, 256 rows, K under 512 (under 256 for 64 rows), 96 rows beside 256 × 256, 16 rows, accumulate.
        int seed = 4000;
        foreach (var (m, k, n, accumulate, swaps) in new[] { (64, 512, 512, false, true), (32, 700, 564, false, true),
            (96, 1024, 512, false, true), (224, 520, 640, false, true), (32, 256, 256, false, true), (64, 256, 1024, false, true),
            (64, 300, 276, false, true), (48, 512, 512, false, false), (256, 512, 512, false, false),
            (96, 300, 512, false, false), (64, 200, 512, false, false), (96, 256, 256, false, false), (16, 256, 256, false, false),
            (64, 512, 512, true, false) })
        {
            Assert.Equal(swaps && path != KernelPath.Scalar, Gemm.SwapsOperands(path, m, k, n, false, true, accumulate));
            var a = KernelPaths.RandomValues(m * k, ++seed);
            var b = KernelPaths.RandomValues(n * k, ++seed);
            var initial = KernelPaths.RandomValues(m * n, ++seed);
            var rowByRow = (float[])initial.Clone();
            for (int i = 0; i < m; i++)
                Gemm.Multiply(a.AsSpan(i * k, k), b, rowByRow.AsSpan(i * n, n), 1, k, n, transB: true, accumulate: accumulate);
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                var swapped = (float[])initial.Clone();
                var direct = (float[])initial.Clone();
                Gemm.Multiply(a, b, swapped, m, k, n, transB: true, accumulate: accumulate);
                Gemm.SwapOperandsEnabled = false;
                try { Gemm.Multiply(a, b, direct, m, k, n, transB: true, accumulate: accumulate); }
                finally { Gemm.SwapOperandsEnabled = true; }
                Assert.Equal(direct, swapped);
                Assert.Equal(rowByRow, swapped);
            }
            var (product, absSum) = Reference(a, b, m, k, n, false, true);
            AssertClose(initial, accumulate, product, absSum, rowByRow, k, $"{path} {m}x{k}x{n}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void FewRowsOnAWidePackedBMatchRowByRowProductsBitForBit(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        // A recurrent step's shape: few rows (a half's), B packed once and many panels wide, K in several blocks,
        // so each tile fetches its share of the next panel's block ahead; the last panel is ragged (n = 20·32 + 8).
        int seed = 1700;
        foreach (var (m, k, n) in new[] { (32, 600, 648), (7, 300, 264) })
            foreach (bool transB in new[] { false, true })
            {
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var packed = Gemm.PackB(b, k, n, transB);
                var rowByRow = new float[m * n];
                for (int i = 0; i < m; i++)
                    Gemm.Multiply(a.AsSpan(i * k, k), b, rowByRow.AsSpan(i * n, n), 1, k, n, transB: transB);
                foreach (int threads in new[] { 1, 2 })
                {
                    Threading.MaxThreads = threads;
                    var c = new float[m * n];
                    Gemm.Multiply(a, packed, c, m);
                    Assert.Equal(rowByRow, c);
                }
                var (product, absSum) = Reference(a, b, m, k, n, false, transB);
                AssertClose(rowByRow, false, product, absSum, rowByRow, k, $"{path} m={m} k={k} n={n} transB={transB}");
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LongRowsOfAOnAPackedBAsWideAsThePackingThresholdMatchRowByRowProductsBitForBit(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        // K and N at or above the thresholds where an untransposed A is copied into tile runs (K in several blocks, the
        // last panel ragged: 1037 = 32·32 + 13); 13 rows make uneven tiles, 67 rows two threads' uneven shares.
        int seed = 2100;
        int k0 = Gemm.PackRowMajorAMinK, n0 = Gemm.PackRowMajorAMinPanels * PackedMatrix.PanelWidth;
        // 40 rows make tiles of 10: eight rows of each go through register transposes, and K blocks of 206 and 207
        // values leave a few that do not. Beside a B packed whole (each tile prefetching the next panel) A is copied from
        // shorter rows: one K block (K = 256) and two ragged ones (K = 300 + 9). M = 8, 9, 12 and 23 make 512-bit tiles of
        // exactly eight rows, of eight and one, of eight and four, and of 12 and 11 (the copy's transposed rows and its tails).
        int k1 = Gemm.PackRowMajorAPrefetchingMinK;
        foreach (var (m, k, n) in new[] { (13, k0 + 7, n0 + 13), (67, k0, n0), (40, k0 + 7, n0), (64, k1, n0), (29, k1 + 53, n0 + 9),
            (8, k0 + 3, n0), (9, k0 + 7, n0), (12, k0 + 5, n0 + 13), (23, k1 + 53, n0) })
            foreach (bool transB in new[] { false, true })
            {
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var packed = Gemm.PackB(b, k, n, transB);
                var rowByRow = new float[m * n];
                for (int i = 0; i < m; i++)
                    Gemm.Multiply(a.AsSpan(i * k, k), b, rowByRow.AsSpan(i * n, n), 1, k, n, transB: transB);
                foreach (int threads in new[] { 1, 2 })
                {
                    Threading.MaxThreads = threads;
                    var c = new float[m * n];
                    Gemm.Multiply(a, packed, c, m);
                    Assert.Equal(rowByRow, c);
                    var accumulated = KernelPaths.RandomValues(m * n, seed + 50);
                    var initial = (float[])accumulated.Clone();
                    Gemm.Multiply(a, packed, accumulated, m, accumulate: true);
                    var (product, absSum) = Reference(a, b, m, k, n, false, transB);
                    AssertClose(initial, true, product, absSum, accumulated, k, $"{path} m={m} k={k} n={n} transB={transB} accumulate threads={threads}");
                }
                var (plain, plainAbs) = Reference(a, b, m, k, n, false, transB);
                AssertClose(rowByRow, false, plain, plainAbs, rowByRow, k, $"{path} m={m} k={k} n={n} transB={transB}");
            }
    }

    [Theory]
    [InlineData(1024, 256, true)]  // rows 4 KiB apart: one set of 8 lines for 256 rows
    [InlineData(128, 128, true)]   // 512 bytes apart: 8 sets, 64 lines
    [InlineData(128, 64, false)]   // 64 rows fit those 64 lines
    [InlineData(256, 64, true)]    // 4 sets, 32 lines
    [InlineData(400, 256, false)]  // 25 lines apart: every set
    [InlineData(200, 256, false)]  // half-line offsets: every set
    [InlineData(48, 256, false)]   // 3 lines apart: every set
    public void AnInPlacePanelThrashesL1WhenItsRowsShareFewSets(int n, int kc, bool thrashes) =>
        Assert.Equal(thrashes, Gemm.InPlacePanelThrashesL1(n, kc));

    [Theory]
    [InlineData(1024 * 1024, 2048 * 1024, true)]      // R of U = 256 in a 2 MiB L2: half of it
    [InlineData(1024 * 1024 + 4, 2048 * 1024, false)] // one float more than half
    [InlineData(256 * 1024, 1024 * 1024, true)]       // half of the smallest L2 taken to keep B
    [InlineData(128 * 1024, 512 * 1024, false)]       // a 512 KiB L2 keeps nothing for sure, however small B is
    [InlineData(4 * 1024, 0, false)]                  // L2 unknown
    public void APackedBStaysInL2OnlyWhenItTakesAtMostHalfOfALargeOne(long packedBytes, int l2Bytes, bool stays) =>
        Assert.Equal(stays, Gemm.StaysInL2(packedBytes, l2Bytes));

    [Theory]
    [InlineData(false, true)]   // B from L3 or memory: every tile shares the next panel's prefetch
    [InlineData(true, false)]   // B in L2: the prefetches would fetch nothing
    public void TheNextPanelIsPrefetchedUnlessBStaysInL2(bool staysInL2, bool prefetches) =>
        Assert.Equal(prefetches, Gemm.PrefetchesPackedPanels(staysInL2));

    [Theory]
    [InlineData(256, 1024 * 1024, false)]       // R of U = 256 (one K block) on a 1 MiB L2: back to back, the hardware follows
    [InlineData(512, 1024 * 1024, true)]        // U = 512: two K blocks, the next panel's block lies a block further on
    [InlineData(1024, 1024 * 1024, true)]       // U = 1024: four
    [InlineData(256, 2048 * 1024, false)]       // R of U = 256 stays in a 2 MiB L2
    [InlineData(1024, 2048 * 1024, true)]       // R of U = 1024 (16 MiB) does not
    [InlineData(257, 0, true)]                  // L2 unknown: two K blocks fetch
    public void OnlyAPackedBCutIntoKBlocksHasItsNextPanelFetched(int k, int l2Bytes, bool prefetches) =>
        Assert.Equal(prefetches, Gemm.PrefetchesNextPanelBlock(Gemm.StaysInL2((long)k * 4 * k * sizeof(float), l2Bytes), k));

    [Theory]
    [MemberData(nameof(GemmLeadTests.VectorPaths), MemberType = typeof(GemmLeadTests))]
    public void ProductsOfOneKBlockGiveTheSameBitsWithAndWithoutTheNextPanelFetched(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        // B of 16 MiB stays in no L2, so only the K-block rule decides; with the fetches forced A is also copied into tile runs
        // and the lead runs in calls of its own.
        const int m = 64, k = 256, n = 16384, leadK = 16;
        var rng = new Random(5);
        float[] Random(int count) { var v = new float[count]; for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() - 0.5); return v; }
        var a = Random(m * k);
        var lead = Random(m * leadK);
        var b = Gemm.PackB(Random(k * n), k, n);
        var leadB = Gemm.PackB(Random(leadK * n), leadK, n);
        var rowInit = Random(n);
        var start = Random(m * n);
        int savedThreads = Threading.MaxThreads;
        float[] Run(bool forced)
        {
            // The fetches are chosen per thread: one thread runs the whole product.
            Threading.MaxThreads = 1;
            Gemm.OneKBlockPanelPrefetchForced = forced;
            try
            {
                var c = new float[m * n];
                Gemm.MultiplyWithLead(lead, leadB, a, b, rowInit, c, m);
                var d = (float[])start.Clone();
                Gemm.Multiply(a, b, d, m, accumulate: true);
                return [.. c, .. d];
            }
            finally { Gemm.OneKBlockPanelPrefetchForced = false; Threading.MaxThreads = savedThreads; }
        }
        var fetched = Run(true);
        var byRule = Run(false);
        Assert.Equal(fetched.Select(BitConverter.SingleToInt32Bits), byRule.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void TheL2SizeIsWhatTheOperatingSystemReportsOrUnknown()
    {
        int l2 = CacheSizes.L2Bytes;
        if (l2 == 0)
        {
            // Unknown only where CPUID cannot tell: not an x86 processor, or one that reports no extended leaf 0x80000006.
            Assert.False(System.Runtime.Intrinsics.X86.X86Base.IsSupported
                && (uint)System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000000), 0).Eax >= 0x80000006
                && (uint)System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx >> 16 != 0);
            return;
        }
        Assert.InRange(l2, 64 * 1024, 256 * 1024 * 1024);
        Assert.Equal(0, l2 % 1024);
        // Linux describes the caches from other CPUID leaves (4 on Intel, 0x8000001D on AMD): an independent reading.
        const string index2 = "/sys/devices/system/cpu/cpu0/cache/index2/";
        if (File.Exists(index2 + "size") && File.ReadAllText(index2 + "level").Trim() == "2" && File.ReadAllText(index2 + "type").Trim() == "Unified")
        {
            string size = File.ReadAllText(index2 + "size").Trim();
            Assert.EndsWith("K", size);
            Assert.Equal(int.Parse(size[..^1]) * 1024, l2);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ShortProductsCopyingBAPanelAtATimeGiveTheBitsOfAPackedBAndOfTwoThreads(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        // Fewer rows than PackBMinRows and rows of B a multiple of a large power of two apart: one thread copies each
        // panel's K block of the in-place B right before using it. K in several blocks (150, 205), A transposed, and K
        // and N past the thresholds where an untransposed A is copied too. Witnesses: the same product on a B packed
        // beforehand, and on two threads (which split the panels, each copying its own).
        int seed = 3100;
        var shapes = new[] { (64, 300, 128, false), (70, 64, 256, true), (Gemm.PackBMinRows - 1, 40, 512, true),
            (13, Gemm.PackRowMajorAMinK + 5, Gemm.PackRowMajorAMinPanels * PackedMatrix.PanelWidth, false) };
        foreach (var (m, k, n, transA) in shapes)
        {
            Assert.True(Gemm.InPlacePanelThrashesL1(n, Math.Min(k, 256)), $"{m}x{k}x{n} should copy B a panel at a time");
            var a = KernelPaths.RandomValues(m * k, ++seed);
            var b = KernelPaths.RandomValues(k * n, ++seed);
            var initial = KernelPaths.RandomValues(m * n, ++seed);
            var packed = Gemm.PackB(b, k, n);
            Threading.MaxThreads = 1;
            var witness = new float[m * n];
            Gemm.Multiply(a, packed, witness, m, transA);
            var accumulatedWitness = (float[])initial.Clone();
            Gemm.Multiply(a, packed, accumulatedWitness, m, transA, accumulate: true);
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                var c = new float[m * n];
                Gemm.Multiply(a, b, c, m, k, n, transA);
                Assert.Equal(witness, c);
                var accumulated = (float[])initial.Clone();
                Gemm.Multiply(a, b, accumulated, m, k, n, transA, accumulate: true);
                Assert.Equal(accumulatedWitness, accumulated);
            }
            var (product, absSum) = Reference(a, b, m, k, n, transA, false);
            AssertClose(witness, false, product, absSum, witness, k, $"{path} m={m} k={k} n={n} transA={transA}");
            AssertClose(initial, true, product, absSum, accumulatedWitness, k, $"{path} m={m} k={k} n={n} transA={transA} accumulate");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ThinProductsGiveTheBitsOfTheBlockedKernels(KernelPath path)
    {
        // One column (N = 1) or one inner step (K = 1), as a Dense(1) layer's products: M and K around the vector width
        // and the transposes' 8, large ones past the small path's limit, every transpose, overwriting and accumulating.
        using var _ = KernelPaths.Force(path);
        int seed = 900;
        var shapes = new List<(int M, int K, int N)>();
        foreach (int m in new[] { 1, 7, 8, 9, 31, 32, 33, 100, 257 })
        {
            foreach (int k in new[] { 2, 7, 8, 9, 64, 129, 515 }) shapes.Add((m, k, 1));
            foreach (int n in new[] { 2, 7, 8, 9, 33, 130 }) shapes.Add((m, 1, n));
        }
        shapes.AddRange([(600, 400, 1), (512, 256, 1), (256, 1, 512), (3000, 1, 700)]);
        bool sawThin = false;
        foreach (var (m, k, n) in shapes)
            for (int t = 0; t < 4; t++)
            {
                bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                sawThin |= Gemm.IsThin(path, m, k, n);
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var initial = KernelPaths.RandomValues(m * n, ++seed);
                var packed = Gemm.PackB(b, k, n, transB);
                foreach (bool accumulate in new[] { false, true })
                {
                    var thin = (float[])initial.Clone();
                    var blocked = (float[])initial.Clone();
                    Gemm.Multiply(a, b, thin, m, k, n, transA, transB, accumulate);
                    Gemm.Multiply(a, packed, blocked, m, transA, accumulate);
                    Assert.True(blocked.AsSpan().SequenceEqual(thin), $"{path} m={m} k={k} n={n} transA={transA} transB={transB} accumulate={accumulate}");
                    var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
                    AssertClose(initial, accumulate, product, absSum, thin, k, $"{path} thin m={m} k={k} n={n}");
                }
            }
        Assert.Equal(path != KernelPath.Scalar && System.Runtime.Intrinsics.X86.Fma.IsSupported, sawThin);
    }

    [Fact]
    public void ThinProductsLeaveMemoryOutsideCUntouched()
    {
        foreach (var (m, k, n) in new[] { (33, 9, 1), (9, 1, 33), (20, 64, 1) })
            for (int t = 0; t < 4; t++)
            {
                bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                var a = KernelPaths.RandomValues(m * k, m + k);
                var b = KernelPaths.RandomValues(k * n, n + k);
                var c = new float[m * n + 16];
                Array.Fill(c, 7f);
                Gemm.Multiply(a, b, c.AsSpan(0, m * n), m, k, n, transA, transB);
                Assert.All(c[(m * n)..], x => Assert.Equal(7f, x));
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TransposedBGivesTheBitsOfTheSameBStoredUntransposed(KernelPath path)
    {
        // op(B) is packed from B stored (N,K) (full panels transposed 8x8 in registers, a ragged panel copied) or read
        // from (K,N): the same values in the same panels, so the same chains and bits. K not a multiple of 8 covers the
        // transposes' tail; N not a multiple of 32 the ragged panel; the shapes are large enough for the blocked kernels.
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        int seed = 700;
        foreach (int threads in new[] { 1, 2 })
            foreach (var (m, k, n) in new[] { (40, 101, 96), (300, 260, 270), (7, 515, 64), (64, 8, 2050) })
            {
                Threading.MaxThreads = threads;
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var stored = KernelPaths.RandomValues(n * k, ++seed);
                var untransposed = new float[k * n];
                for (int j = 0; j < n; j++)
                    for (int p = 0; p < k; p++) untransposed[p * n + j] = stored[j * k + p];
                var fromTransposed = new float[m * n];
                var fromUntransposed = new float[m * n];
                Gemm.Multiply(a, stored, fromTransposed, m, k, n, transB: true);
                Gemm.Multiply(a, Gemm.PackB(untransposed, k, n), fromUntransposed, m);
                Assert.Equal(fromUntransposed, fromTransposed);
                var (product, absSum) = Reference(a, untransposed, m, k, n, false, false);
                AssertClose(fromTransposed, false, product, absSum, fromTransposed, k, $"{path} transposed B m={m} k={k} n={n} threads={threads}");
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TwoThreadsGiveBitIdenticalResultsToOneThread(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        int seed = 500;
        // Row split (m large), panel split (m small) and a transposed B that is packed in parallel.
        foreach (var (m, k, n) in new[] { (50, 102, 400), (8, 100, 400), (50, 400, 102), (101, 64, 33) })
            for (int t = 0; t < 4; t++)
            {
                bool transA = (t & 1) != 0, transB = (t & 2) != 0;
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var single = new float[m * n];
                Threading.MaxThreads = 1;
                Gemm.Multiply(a, b, single, m, k, n, transA, transB);
                Threading.MaxThreads = 2;
                var first = new float[m * n];
                var second = new float[m * n];
                Gemm.Multiply(a, b, first, m, k, n, transA, transB);
                Gemm.Multiply(a, b, second, m, k, n, transA, transB);
                Assert.Equal(first, second);
                Assert.Equal(single, first);
                var (product, absSum) = Reference(a, b, m, k, n, transA, transB);
                AssertClose(first, false, product, absSum, first, k, $"{path} two threads m={m} k={k} n={n}");
            }
    }

    [Fact]
    public void MaxThreadsRejectsOutOfRangeValues()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Threading.MaxThreads = 0);
        Assert.Contains("Received 0", error.Message);
        Assert.Equal(1, Threading.MaxThreads is >= 1 and <= Threading.Limit ? 1 : 0);
    }
}
