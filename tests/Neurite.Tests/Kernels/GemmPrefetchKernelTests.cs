using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// The rows-contiguous micro-kernels that also fetch the next packed B block into L2 as they run: at every tile height, with
/// more or fewer lines to fetch than the kernel has pairs of k, against a plain fused multiply-add loop in the kernels' order
/// and against the kernels without the prefetch they stand in for.
/// </summary>
public class GemmPrefetchKernelTests
{
    /// <remarks>Both widths on any processor: without AVX-512 the runtime computes Vector512 in software with the same fused
    /// rounding; without SSE the kernels skip the prefetch, and the values are what is checked.</remarks>
    [Theory]
    [InlineData(KernelPath.Vector256)]
    [InlineData(KernelPath.Vector512)]
    public unsafe void EveryTileHeightGivesTheBitsOfTheChainAndOfTheKernelWithoutPrefetch(KernelPath path)
    {
        bool wide = path == KernelPath.Vector512;
        int columns = wide ? 32 : 16, maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        nint[] prefetchingTable = wide ? GemmMicroKernels.V512TnPf : GemmMicroKernels.V256TnPf;
        nint[] plainTable = wide ? GemmMicroKernels.V512Tn : GemmMicroKernels.V256Tn;
        // Lines for a whole 256 × 32 block: every kernel's share stays inside it.
        var nextBlock = KernelPaths.RandomValues(256 * PackedMatrix.PanelWidth, 1);
        var nextBlockBefore = (float[])nextBlock.Clone();
        int seed = 900;
        // Odd and even K (the kernels take K two at a time), K = 1; no lines, fewer lines than pairs of k, more (two a pair),
        // and more than two a pair (the rest after the loop).
        foreach (var (k, lines) in new[] { (1, 0), (1, 3), (7, 2), (64, 20), (64, 50), (255, 200), (256, 512) })
            for (int mr = 1; mr <= maxRows; mr++)
                foreach (bool accumulate in new[] { true, false })
                {
                    int lda = mr + 2, ldb = columns + 24, ldc = columns + 5;
                    var a = KernelPaths.RandomValues(k * lda, ++seed);
                    var b = KernelPaths.RandomValues(k * ldb, ++seed);
                    var initial = KernelPaths.RandomValues(mr * ldc, ++seed);

                    var chain = TransposedChain(a, lda, b, ldb, initial, ldc, mr, columns, k, accumulate);

                    var plainC = (float[])initial.Clone();
                    var prefetchingC = (float[])initial.Clone(); // the columns past the tile must stay as they are
                    fixed (float* pa = a, pb = b, pp = plainC, pc = prefetchingC, pn = nextBlock)
                    {
                        var plain = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)plainTable[mr - 1];
                        plain(pa, lda, pb, ldb, pp, ldc, k, accumulate);
                        var prefetching = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, void>)prefetchingTable[mr - 1];
                        prefetching(pa, lda, pb, ldb, pc, ldc, k, accumulate, pn, lines);
                    }
                    Assert.Equal(chain, prefetchingC);
                    Assert.Equal(plainC, prefetchingC);
                }
        Assert.Equal(nextBlockBefore, nextBlock);
    }

    /// <summary>
    /// The rows-contiguous kernels that also fetch the rows of a later C tile as they run (the weight-gradient pass's TnPfC):
    /// at every tile height, with no rows, fewer rows than the kernel has slots for (a row every 8 k) and more (the rest after
    /// the loop), against a plain fused multiply-add chain and the kernels without either prefetch; neither the lines nor the
    /// later tile change.
    /// </summary>
    [Theory]
    [InlineData(KernelPath.Vector256)]
    [InlineData(KernelPath.Vector512)]
    public unsafe void KernelsThatFetchALaterCTileGiveTheBitsOfTheChain(KernelPath path)
    {
        bool wide = path == KernelPath.Vector512;
        int columns = wide ? 32 : 16, maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        nint[] tileTable = wide ? GemmMicroKernels.V512TnPfC : GemmMicroKernels.V256TnPfC;
        nint[] plainTable = wide ? GemmMicroKernels.V512Tn : GemmMicroKernels.V256Tn;
        var nextBlock = KernelPaths.RandomValues(256 * PackedMatrix.PanelWidth, 2);
        // The later tile's rows lie the kernel's ldc apart (at most 37 floats here): 16 rows stay inside 16 × 64 floats.
        var laterTile = KernelPaths.RandomValues(16 * 64, 3);
        var nextBlockBefore = (float[])nextBlock.Clone();
        var laterTileBefore = (float[])laterTile.Clone();
        int seed = 2900;
        foreach (var (k, lines, tileRows) in new[] { (1, 0, 0), (1, 3, 2), (7, 2, 12), (64, 20, 6), (64, 0, 12), (213, 30, 12), (256, 512, 16) })
            for (int mr = 1; mr <= maxRows; mr++)
                foreach (bool accumulate in new[] { true, false })
                {
                    int lda = mr + 2, ldb = columns + 24, ldc = columns + 5;
                    var a = KernelPaths.RandomValues(k * lda, ++seed);
                    var b = KernelPaths.RandomValues(k * ldb, ++seed);
                    var initial = KernelPaths.RandomValues(mr * ldc, ++seed);

                    var chain = TransposedChain(a, lda, b, ldb, initial, ldc, mr, columns, k, accumulate);

                    var plainC = (float[])initial.Clone();
                    var fetchingC = (float[])initial.Clone();
                    fixed (float* pa = a, pb = b, pp = plainC, pc = fetchingC, pn = nextBlock, pt = laterTile)
                    {
                        var plain = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)plainTable[mr - 1];
                        plain(pa, lda, pb, ldb, pp, ldc, k, accumulate);
                        var fetching = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, float*, nint, void>)tileTable[mr - 1];
                        fetching(pa, lda, pb, ldb, pc, ldc, k, accumulate, pn, lines, pt, tileRows);
                    }
                    Assert.Equal(chain, fetchingC);
                    Assert.Equal(plainC, fetchingC);
                }
        Assert.Equal(nextBlockBefore, nextBlock);
        Assert.Equal(laterTileBefore, laterTile);
    }

    /// <summary>
    /// The untransposed and lead kernels that fetch a caller's lines as they run (a recurrent step's next arrays): at every
    /// tile height, against a plain fused multiply-add chain in the kernels' order (init row, lead, then A) and against the
    /// kernels without the prefetch.
    /// </summary>
    [Theory]
    [InlineData(KernelPath.Vector256)]
    [InlineData(KernelPath.Vector512)]
    public unsafe void UntransposedAndLeadKernelsThatFetchLinesGiveTheBitsOfTheChain(KernelPath path)
    {
        bool wide = path == KernelPath.Vector512;
        int columns = wide ? 32 : 16, maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        nint[] nnPf = wide ? GemmMicroKernels.V512NnPf : GemmMicroKernels.V256NnPf, nn = wide ? GemmMicroKernels.V512Nn : GemmMicroKernels.V256Nn;
        nint[] leadPf = wide ? GemmMicroKernels.V512LeadNnPf : GemmMicroKernels.V256LeadNnPf, leadPlain = wide ? GemmMicroKernels.V512LeadNn : GemmMicroKernels.V256LeadNn;
        var lines = KernelPaths.RandomValues(512 * 16, 1);
        var linesBefore = (float[])lines.Clone();
        int seed = 1900;
        foreach (var (k, leadK, count) in new[] { (1, 1, 0), (1, 3, 3), (7, 2, 2), (64, 16, 20), (64, 5, 50), (255, 16, 200), (256, 31, 512) })
            for (int mr = 1; mr <= maxRows; mr++)
                foreach (bool withInit in new[] { true, false })
                {
                    int lda = k + 3, ldb = columns + 24, ldc = columns + 5, ldl = leadK; // the lead kernels take the lead's rows leadK apart
                    const int leadB = PackedMatrix.PanelWidth; // a packed panel's row stride, as the lead kernels read it
                    var a = KernelPaths.RandomValues(mr * lda, ++seed);
                    var b = KernelPaths.RandomValues(k * ldb, ++seed);
                    var lead = KernelPaths.RandomValues(mr * ldl, ++seed);
                    var lb = KernelPaths.RandomValues(leadK * leadB, ++seed);
                    var init = KernelPaths.RandomValues(columns, ++seed);
                    var initial = KernelPaths.RandomValues(mr * ldc, ++seed);

                    // Untransposed: C (+)= A·B, accumulating when withInit.
                    var chain = (float[])initial.Clone();
                    var leadChain = (float[])initial.Clone();
                    for (int r = 0; r < mr; r++)
                        for (int j = 0; j < columns; j++)
                        {
                            float v = withInit ? initial[r * ldc + j] : 0f;
                            for (int p = 0; p < k; p++) v = MathF.FusedMultiplyAdd(a[r * lda + p], b[p * ldb + j], v);
                            chain[r * ldc + j] = v;
                            float w = withInit ? init[j] : 0f;
                            for (int p = 0; p < leadK; p++) w = MathF.FusedMultiplyAdd(lead[r * ldl + p], lb[p * leadB + j], w);
                            for (int p = 0; p < k; p++) w = MathF.FusedMultiplyAdd(a[r * lda + p], b[p * ldb + j], w);
                            leadChain[r * ldc + j] = w;
                        }

                    var plainC = (float[])initial.Clone();
                    var pfC = (float[])initial.Clone();
                    var leadPlainC = (float[])initial.Clone();
                    var leadPfC = (float[])initial.Clone();
                    fixed (float* pa = a, pb = b, pl = lead, plb = lb, pi = init, pp = plainC, pc = pfC, plp = leadPlainC, plc = leadPfC, pn = lines)
                    {
                        ((delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)nn[mr - 1])(pa, lda, pb, ldb, pp, ldc, k, withInit);
                        ((delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, void>)nnPf[mr - 1])(pa, lda, pb, ldb, pc, ldc, k, withInit, pn, count);
                        float* initRow = withInit ? pi : null;
                        ((delegate* managed<float*, float*, nint, float*, float*, nint, float*, nint, float*, nint, nint, void>)leadPlain[mr - 1])(
                            pl, plb, ldl, initRow, pa, lda, pb, ldb, plp, ldc, k);
                        ((delegate* managed<float*, float*, nint, float*, float*, nint, float*, nint, float*, nint, nint, float*, nint, void>)leadPf[mr - 1])(
                            pl, plb, ldl, initRow, pa, lda, pb, ldb, plc, ldc, k, pn, count);
                    }
                    Assert.Equal(chain, pfC);
                    Assert.Equal(plainC, pfC);
                    Assert.Equal(leadChain, leadPfC);
                    Assert.Equal(leadPlainC, leadPfC);
                }
        Assert.Equal(linesBefore, lines);
    }

    /// <summary>C (rows × columns, row stride ldc) as plain fused multiply-add chains over k of Aᵀ (rows contiguous, stride lda)
    /// and B (stride ldb), from C's initial values or zero; the columns past the tile keep the initial values.</summary>
    private static float[] TransposedChain(float[] a, int lda, float[] b, int ldb, float[] initial, int ldc, int rows, int columns, int k, bool accumulate)
    {
        var chain = (float[])initial.Clone();
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < columns; j++)
            {
                float v = accumulate ? initial[r * ldc + j] : 0f;
                for (int p = 0; p < k; p++) v = MathF.FusedMultiplyAdd(a[p * lda + r], b[p * ldb + j], v);
                chain[r * ldc + j] = v;
            }
        return chain;
    }
}
