using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Tests.Recurrent;

public class TransposedPackingTests
{
    // Layout of PackedMatrix: op(B)[p, j] lives at (j / 32)·K·32 + p·32 + j % 32, zero beyond N.
    [Theory]
    [InlineData(400, 100, true)]
    [InlineData(400, 100, false)]
    [InlineData(200, 50, true)]
    [InlineData(13, 70, true)]
    [InlineData(13, 70, false)]
    [InlineData(1, 5, true)]
    [InlineData(100, 400, true)]
    public void PackedElementsAreTheTransposeInPanelLayout(int k, int n, bool allowVector)
    {
        // B stored (N, K); op(B) = Bᵀ is (K, N).
        var b = new float[n * k];
        for (int i = 0; i < b.Length; i++) b[i] = i + 1;
        var packed = Gemm.PackB(new float[k * n], k, n);
        packed.Data.Fill(float.NaN);
        TransposedPacking.Repack(packed, b, allowVector);

        var data = packed.Data;
        int panels = (n + 31) / 32;
        Assert.Equal(panels * k * 32, data.Length);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < panels * 32; j++)
            {
                float expected = j < n ? b[j * k + p] : 0f;
                Assert.Equal(expected, data[j / 32 * k * 32 + p * 32 + j % 32]);
            }
    }

    /// <summary>
    /// A block of a wider matrix's columns packed where it lies (a reset-before GRU's R_zr and R_h, the first 2U and the last U
    /// of R's 3U columns): every packed value at the panel layout's place, from the hand-indexed source, zero beyond N; the
    /// transposed pack likewise for the same block's transpose.
    /// </summary>
    [Theory]
    [InlineData(64, 32, true)]    // whole panels
    [InlineData(64, 32, false)]
    [InlineData(48, 16, true)]    // 2U = 96, U = 48: a ragged last panel
    [InlineData(7, 5, true)]
    public void ColumnBlocksOfAWiderMatrixPackWhereTheyLie(int rows, int units, bool allowVector)
    {
        int width = 3 * units;
        var r = new float[rows * width];
        for (int i = 0; i < r.Length; i++) r[i] = i + 1;
        foreach (var (first, n) in new[] { (0, 2 * units), (2 * units, units) })
        {
            // Untransposed: op(B) = R[:, first .. first + n), (rows, n).
            var packed = Gemm.PackB(new float[rows * n], rows, n);
            packed.Data.Fill(float.NaN);
            Gemm.RepackColumns(packed, r, width, first);
            AssertPanelLayout(packed.Data, rows, n, (p, j) => r[p * width + first + j]);
            // Transposed: op(B) = (R[:, first .. first + n))ᵀ, (n, rows); B's stored rows are R's rows.
            var transposed = Gemm.PackB(new float[n * rows], n, rows);
            transposed.Data.Fill(float.NaN);
            TransposedPacking.RepackRows(transposed, r, width, first, allowVector);
            AssertPanelLayout(transposed.Data, n, rows, (p, j) => r[j * width + first + p]);
        }
        Assert.Throws<ArgumentException>(() => Gemm.RepackColumns(Gemm.PackB(new float[rows * units], rows, units), r, width, 2 * units + 1));
        Assert.Throws<ArgumentException>(() => TransposedPacking.RepackRows(Gemm.PackB(new float[units * rows], units, rows), r, width, 2 * units + 1));
    }

    private static void AssertPanelLayout(Span<float> data, int k, int n, Func<int, int, float> opB)
    {
        int panels = (n + 31) / 32;
        Assert.Equal(panels * k * 32, data.Length);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < panels * 32; j++)
                Assert.Equal(j < n ? opB(p, j) : 0f, data[j / 32 * k * 32 + p * 32 + j % 32]);
    }

    [Fact]
    public void PrePackedTransposedProductsMatchThePerCallPackBitForBit()
    {
        // Gemm.PackB(transB: true) goes through this pack; a product with B transposed per call packs
        // its panels another way. Both must give the same bits.
        var a = RandomValues(13 * 91, seed: 3);
        var b = RandomValues(57 * 91, seed: 4);
        var perCall = new float[13 * 57];
        var prePacked = new float[13 * 57];
        Gemm.Multiply(a, b, perCall, 13, 91, 57, transB: true);
        Gemm.Multiply(a, Gemm.PackB(b, 91, 57, transB: true), prePacked, 13);
        Assert.Equal(perCall, prePacked);
    }

    [Fact]
    public void TooShortSourceIsRefusedWithTheSizes()
    {
        var packed = Gemm.PackB(new float[12], 3, 4);
        var error = Assert.Throws<ArgumentException>(() => TransposedPacking.Repack(packed, new float[11]));
        Assert.Contains("n*k = 4*3 = 12", error.Message);
        Assert.Contains("11", error.Message);
    }

    private static float[] RandomValues(int count, int seed)
    {
        var random = new System.Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
