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
        int saved = Threading.MaxThreads;
        try
        {
            int seed = 40;
            // Ragged N (partial and one-vector tiles), several K blocks, row counts that split unevenly, no init row.
            foreach (var (m, leadK, k, n, init) in new[] { (37, 3, 70, 100, true), (64, 12, 300, 256, true), (250, 100, 100, 400, false), (5, 1, 9, 8, true) })
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
        finally
        {
            Threading.MaxThreads = saved;
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
