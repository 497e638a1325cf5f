using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

public class GemmLeadTests
{
    public static TheoryData<KernelPath> VectorPaths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in Enum.GetValues<KernelPath>())
            if (path != KernelPath.Scalar && KernelSelector.IsSupported(path)) data.Add(path);
        return data;
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void ALeadProductGivesTheBitsOfFillingAddingTheLeadThenTheProduct(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        int seed = 40;
        // Ragged N (partial and one-vector tiles), several K blocks, row counts that split unevenly, no init row; the last
        // shapes are long and wide enough that A is copied into tile runs while the lead reads its rows in place (the
        // packed B's next panel prefetched from K = 256, so from there).
        int longK = Gemm.PackRowMajorAMinK, wideN = Gemm.PackRowMajorAMinPanels * PackedMatrix.PanelWidth + 5;
        int prefetchingK = Gemm.PackRowMajorAPrefetchingMinK;
        foreach (var (m, leadK, k, n, init) in new[] { (37, 3, 70, 100, true), (64, 12, 300, 256, true), (250, 100, 100, 400, false), (5, 1, 9, 8, true), (16, 5, longK, wideN, true), (45, 32, prefetchingK + 1, wideN, true), (64, 32, 2 * prefetchingK, wideN - 5, false) })
        {
            var lead = KernelPaths.RandomValues(m * leadK, ++seed);
            var leadB = KernelPaths.RandomValues(leadK * n, ++seed);
            var a = KernelPaths.RandomValues(m * k, ++seed);
            var b = KernelPaths.RandomValues(k * n, ++seed);
            var rowInit = init ? KernelPaths.RandomValues(n, ++seed) : [];
            var packedLead = Gemm.PackB(leadB, leadK, n);
            var packed = Gemm.PackB(b, k, n);
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                var expected = new float[m * n];
                for (int i = 0; i < m; i++)
                    if (init) rowInit.CopyTo(expected, i * n);
                Gemm.Multiply(lead, packedLead, expected, m, accumulate: init);
                Gemm.Multiply(a, packed, expected, m, accumulate: true);
                var c = KernelPaths.RandomValues(m * n, 99); // overwritten, never read
                Gemm.MultiplyWithLead(lead, packedLead, a, packed, rowInit, c, m);
                Assert.Equal(expected, c);
            }
        }
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void AShortProductOverManyKBlocksGivesTheBitsOfProductsOnAnUnpackedB(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        int seed = 80;
        // A few rows against a packed B of several K blocks (a step's h·R at U = 1024 is 32 × 1024 × 4096, each tile
        // prefetching its share of the next panel's block) against the same products on B read in place, whatever
        // blocking either takes: ragged N, odd rows, with a lead and an init row and without.
        foreach (var (m, leadK, k, n) in new[] { (13, 7, 900, 200), (32, 0, 1024, 96), (3, 2, 513, 40), (40, 0, 820, 64) })
        {
            var lead = KernelPaths.RandomValues(m * Math.Max(leadK, 1), ++seed);
            var leadB = KernelPaths.RandomValues(Math.Max(leadK, 1) * n, ++seed);
            var a = KernelPaths.RandomValues(m * k, ++seed);
            var b = KernelPaths.RandomValues(k * n, ++seed);
            var rowInit = KernelPaths.RandomValues(n, ++seed);
            var packed = Gemm.PackB(b, k, n);
            var expected = new float[m * n];
            if (leadK > 0)
            {
                for (int i = 0; i < m; i++) rowInit.CopyTo(expected, i * n);
                Gemm.Multiply(lead, leadB, expected, m, leadK, n, accumulate: true);
            }
            Threading.MaxThreads = 1;
            Gemm.Multiply(a, b, expected, m, k, n, accumulate: leadK > 0);
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                var c = KernelPaths.RandomValues(m * n, 99);
                if (leadK > 0) Gemm.MultiplyWithLead(lead, Gemm.PackB(leadB, leadK, n), a, packed, rowInit, c, m);
                else Gemm.Multiply(a, packed, c, m);
                Assert.Equal(expected, c);
            }
        }
    }

    [Fact]
    public void ALeadProductRefusesTheScalarPathAndMismatchedColumns()
    {
        var packed = Gemm.PackB(new float[4 * 8], 4, 8);
        using (KernelPaths.Force(KernelPath.Scalar))
            Assert.Contains("vector paths only", Assert.Throws<InvalidOperationException>(() =>
                Gemm.MultiplyWithLead(new float[8], packed, new float[8], packed, default, new float[16], 2)).Message);
        var narrow = Gemm.PackB(new float[4 * 4], 4, 4);
        if (KernelSelector.Best != KernelPath.Scalar)
            Assert.Contains("same N", Assert.Throws<ArgumentException>(() =>
                Gemm.MultiplyWithLead(new float[8], narrow, new float[8], packed, default, new float[16], 2)).Message);
    }
}

/// <remarks>Alone: whether the shared pass is taken depends on the process-wide thread count, which other tests change.</remarks>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmTransposedPartsTests
{
    [Theory]
    [MemberData(nameof(GemmLeadTests.VectorPaths), MemberType = typeof(GemmLeadTests))]
    public void TransposedProductsSharingBGiveTheBitsOfEachProductAndColumnSum(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = 1;
        // K over several K blocks; 70 rows of A: tiles of uneven height and chunks; 5 and 1 rows: short parts.
        // The second shape's C (139 rows of 1024, over an L2) is one whose rows each tile prefetches for a later tile. The
        // first shape's tiles also fetch the next K block (148 KiB) on an L2 of 1 MiB or more (Gemm.TransposedPartsPrefetchNextBlock).
        // The third, a GRU(256)'s reset-before gate pass (dR's 256 rows, dW's 16, 512 columns), runs K blocks of 200 rows on a
        // 2 MiB L2 to fetch the next one (Gemm.TransposedPartsKBlock), of 256 on a smaller one.
        foreach (var (k, n, rows) in new[] { (600, 96, new[] { 70, 5, 13 }), (300, 1024, new[] { 131, 5, 3 }), (600, 512, new[] { 256, 16, 1 }) })
            CheckTransposedProducts(k, n, rows);
        // Packed blocks over half of a 2 MiB L2 (2.4 MiB and 1.6 MiB), whose tiles fetch the next panel's block: two K
        // blocks; one K block in two chunks of rows, where the first chunk's last panel fetches the first for the second.
        // Each also with that fetch and the in-kernel C tile fetch switched off (the tiles then ask for C at once).
        foreach (bool fetchInKernels in new[] { true, false })
        {
            Gemm.TransposedPartsPrefetchPanelsEnabled = fetchInKernels;
            Gemm.TransposedPartsTileStreamEnabled = fetchInKernels;
            try
            {
                CheckTransposedProducts(300, 4096, [131, 5, 3]);
                CheckTransposedProducts(200, 2048, [492, 5, 3]);
            }
            finally
            {
                Gemm.TransposedPartsPrefetchPanelsEnabled = true;
                Gemm.TransposedPartsTileStreamEnabled = true;
            }
        }
    }

    private static unsafe void CheckTransposedProducts(int k, int n, int[] rows)
    {
        var b = KernelPaths.RandomValues(k * n, 1);
        var a = rows.Select((r, i) => KernelPaths.RandomValues(k * r, 10 + i)).ToArray();
        var start = rows.Select((r, i) => KernelPaths.RandomValues(r * n, 20 + i)).ToArray();
        var sumsStart = KernelPaths.RandomValues(n, 30);

        var expected = start.Select(c => (float[])c.Clone()).ToArray();
        for (int i = 0; i < rows.Length; i++) Gemm.Multiply(a[i], b, expected[i], rows[i], k, n, transA: true, accumulate: true);
        var expectedSums = (float[])sumsStart.Clone();
        for (int r = 0; r < k; r++)
            for (int j = 0; j < n; j++) expectedSums[j] += b[r * n + j];

        var actual = start.Select(c => (float[])c.Clone()).ToArray();
        var sums = (float[])sumsStart.Clone();
        Assert.True(Gemm.CanAddTransposedProducts(n));
        fixed (float* a0 = a[0], a1 = a[1], a2 = a[2], c0 = actual[0], c1 = actual[1], c2 = actual[2], s = sums)
        {
            Span<TransposedProductPart> parts =
            [
                new() { A = a0, Rows = rows[0], C = c0 }, new() { A = null, Rows = 1, C = s },
                new() { A = a1, Rows = rows[1], C = c1 }, new() { A = a2, Rows = rows[2], C = c2 },
            ];
            Gemm.AddTransposedProducts(b, k, n, parts);
        }
        for (int i = 0; i < rows.Length; i++) Assert.Equal(expected[i], actual[i]);
        Assert.Equal(expectedSums, sums);
    }

    [Fact]
    public void TransposedProductsRefuseRaggedColumns()
    {
        Assert.False(Gemm.CanAddTransposedProducts(100));
        Assert.Contains("multiple of 32", Assert.Throws<InvalidOperationException>(() =>
            Gemm.AddTransposedProducts(new float[400], 4, 100, [])).Message);
    }
}
