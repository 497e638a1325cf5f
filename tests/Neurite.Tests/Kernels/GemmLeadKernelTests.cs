using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// The lead micro-kernels (init row + lead·leadB + A·B in one call, C in registers throughout) at every tile height, against
/// a plain fused multiply-add loop in the same order and against the two-call path they replace.
/// </summary>
public class GemmLeadKernelTests
{
    /// <remarks>Both widths on any processor: without AVX-512 the runtime computes Vector512 in software, element by element
    /// with the same fused rounding, so the 512-bit kernels' code is checked here too, only slower.</remarks>
    [Theory]
    [InlineData(KernelPath.Vector256)]
    [InlineData(KernelPath.Vector512)]
    public unsafe void EveryTileHeightGivesTheBitsOfTheChainAndOfTheTwoCallPath(KernelPath path)
    {
        bool wide = path == KernelPath.Vector512;
        int columns = wide ? 32 : 16, maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        nint[] leadTable = wide ? GemmMicroKernels.V512LeadNn : GemmMicroKernels.V256LeadNn;
        nint[] plainTable = wide ? GemmMicroKernels.V512Nn : GemmMicroKernels.V256Nn;
        const int leadStride = PackedMatrix.PanelWidth;
        int seed = 500;
        // Odd and even K on both sides (the kernels take K two at a time), K = 1, strides wider than the tile.
        foreach (var (leadK, k) in new[] { (1, 1), (3, 64), (16, 7), (16, 128), (5, 2) })
            for (int mr = 1; mr <= maxRows; mr++)
                foreach (bool init in new[] { true, false })
                {
                    int lda = k + 3, ldb = columns + 24, ldc = columns + 5;
                    var lead = KernelPaths.RandomValues(mr * leadK, ++seed);
                    var leadB = KernelPaths.RandomValues(leadK * leadStride, ++seed);
                    var a = KernelPaths.RandomValues(mr * lda, ++seed);
                    var b = KernelPaths.RandomValues(k * ldb, ++seed);
                    var rowInit = KernelPaths.RandomValues(columns, ++seed);

                    var chain = KernelPaths.RandomValues(mr * ldc, 7);
                    for (int r = 0; r < mr; r++)
                        for (int j = 0; j < columns; j++)
                        {
                            float v = init ? rowInit[j] : 0f;
                            for (int p = 0; p < leadK; p++) v = MathF.FusedMultiplyAdd(lead[r * leadK + p], leadB[p * leadStride + j], v);
                            for (int p = 0; p < k; p++) v = MathF.FusedMultiplyAdd(a[r * lda + p], b[p * ldb + j], v);
                            chain[r * ldc + j] = v;
                        }

                    var twoCalls = KernelPaths.RandomValues(mr * ldc, 7);
                    var fused = KernelPaths.RandomValues(mr * ldc, 7); // the columns past the tile must stay as they are
                    fixed (float* pl = lead, plb = leadB, pa = a, pb = b, pi = rowInit, pt = twoCalls, pf = fused)
                    {
                        var plain = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)plainTable[mr - 1];
                        if (init)
                            for (int r = 0; r < mr; r++) rowInit.CopyTo(twoCalls, r * ldc);
                        plain(pl, leadK, plb, leadStride, pt, ldc, leadK, init);
                        plain(pa, lda, pb, ldb, pt, ldc, k, true);
                        var leadKernel = (delegate* managed<float*, float*, nint, float*, float*, nint, float*, nint, float*, nint, nint, void>)leadTable[mr - 1];
                        leadKernel(pl, plb, leadK, init ? pi : null, pa, lda, pb, ldb, pf, ldc, k);
                    }
                    Assert.Equal(chain, fused);
                    Assert.Equal(twoCalls, fused);
                }
    }
}
