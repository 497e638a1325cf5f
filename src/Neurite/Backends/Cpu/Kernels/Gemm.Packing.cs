using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

// Packing op(B) for the kernels: 32-column panels for the blocked path, padded rows for the small path.
internal static unsafe partial class Gemm
{
    /// <summary>Writes op(B) as K rows of <paramref name="paddedN"/> floats, zero beyond column N.</summary>
    private static void PackPadded(float* b, int k, int n, int paddedN, bool transB, float* dst)
    {
        if (transB && Avx.IsSupported && k >= 8 && n >= 8)
        {
            PackTransposedAvx(b, k, n, paddedN, dst);
            return;
        }
        for (int p = 0; p < k; p++, dst += paddedN)
        {
            int j = 0;
            if (transB)
                for (; j < n; j++) dst[j] = b[(nint)j * k + p];
            else
                for (float* src = b + (nint)p * n; j < n; j++) dst[j] = src[j];
            for (; j < paddedN; j++) dst[j] = 0f;
        }
    }

    /// <summary><see cref="PackPadded"/> for B stored (N,K): 8×8 blocks transposed in registers, edges one by one.</summary>
    private static void PackTransposedAvx(float* b, int k, int n, int paddedN, float* dst)
    {
        int fullJ = n & ~7, fullP = k & ~7;
        for (int j0 = 0; j0 < fullJ; j0 += 8)
        {
            float* src = b + (nint)j0 * k;
            for (int p0 = 0; p0 < fullP; p0 += 8)
                TransposedPacking.Transpose8x8(src + p0, k, dst + (nint)p0 * paddedN + j0, paddedN);
            for (int p = fullP; p < k; p++)
                for (int jj = 0; jj < 8; jj++) dst[(nint)p * paddedN + j0 + jj] = src[(nint)jj * k + p];
        }
        for (int p = 0; p < k; p++)
        {
            float* d = dst + (nint)p * paddedN;
            int j = fullJ;
            for (; j < n; j++) d[j] = b[(nint)j * k + p];
            for (; j < paddedN; j++) d[j] = 0f;
        }
    }

    /// <summary>Writes panel <paramref name="jp"/> of op(B) (K rows × 32 columns, zero-padded) to <paramref name="dst"/>.</summary>
    private static void PackPanel(float* b, int k, int n, bool transB, int jp, float* dst) =>
        PackPanel(b, k, n, transB, jp, dst, transB ? k : n);

    /// <summary>
    /// <see cref="PackPanel(float*, int, int, bool, int, float*)"/> for k rows of op(B) whose stored rows lie
    /// <paramref name="stride"/> floats apart: a K block of a transposed B (N stored rows of K, k of each read) as well as a whole one.
    /// </summary>
    private static void PackPanel(float* b, int k, int n, bool transB, int jp, float* dst, int stride)
    {
        int j0 = jp * Panel;
        int cols = Math.Min(Panel, n - j0);
        if (!transB)
        {
            float* src = b + j0;
            if (cols == Panel && Vector512.IsHardwareAccelerated)
            {
                for (int p = 0; p < k; p++, src += stride, dst += Panel)
                {
                    Vector512.Load(src).Store(dst);
                    Vector512.Load(src + 16).Store(dst + 16);
                }
                return;
            }
            if (cols == Panel && Vector256.IsHardwareAccelerated)
            {
                for (int p = 0; p < k; p++, src += stride, dst += Panel)
                {
                    Vector256.Load(src).Store(dst);
                    Vector256.Load(src + 8).Store(dst + 8);
                    Vector256.Load(src + 16).Store(dst + 16);
                    Vector256.Load(src + 24).Store(dst + 24);
                }
                return;
            }
            if (Avx512F.IsSupported)
            {
                // The ragged last panel (e.g. 16 of 32 columns when N = 400) is packed for every product
                // that reads B in place: masked loads read only the valid columns and zero the rest.
                var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
                var low = Vector512.LessThan(lanes, Vector512.Create(cols)).AsSingle();
                var high = Vector512.LessThan(lanes, Vector512.Create(cols - 16)).AsSingle();
                for (int p = 0; p < k; p++, src += stride, dst += Panel)
                {
                    Avx512F.MaskLoad(src, low, Vector512<float>.Zero).Store(dst);
                    Avx512F.MaskLoad(src + 16, high, Vector512<float>.Zero).Store(dst + 16);
                }
                return;
            }
            for (int p = 0; p < k; p++, src += stride, dst += Panel)
            {
                int j = 0;
                for (; j < cols; j++) dst[j] = src[j];
                for (; j < Panel; j++) dst[j] = 0f;
            }
            return;
        }
        // B stored (N,K). A full panel is transposed 8×8 in registers (the same bytes, several times faster than the
        // blocked copy: a product's dx = dz·Wᵀ packs its W with it).
        if (cols == Panel && Avx.IsSupported)
        {
            TransposedPacking.TransposePanel(b + (nint)j0 * stride, stride, k, dst);
            return;
        }
        TransposedPacking.CopyPanel(b + (nint)j0 * stride, stride, k, cols, dst);
    }
    /// <summary>
    /// Panel <paramref name="jp"/>'s <paramref name="k"/> rows of op(B) (stored rows <paramref name="stride"/> floats apart) as
    /// 32 / <paramref name="subWidth"/> sub-panels one after the other, each k rows of <paramref name="subWidth"/> floats:
    /// element (p, j) at <c>(j / subWidth)·k·subWidth + p·subWidth + j % subWidth</c>, zero-padded to 32 columns. At 16 a
    /// 16-wide kernel reads whole lines of its sub-panel, spread over every L1 set, instead of every other line of 128-byte
    /// rows (half the sets). At 32 it is <see cref="PackPanel(float*, int, int, bool, int, float*, int)"/>'s layout.
    /// </summary>
    // Fully optimised from its first call: it runs hundreds of times a step, and the tiered JIT's first code for it
    // (vector loads as calls, the 8×8 transpose not inlined) would otherwise run until a background recompile lands.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void PackPanelBlock(float* b, int k, int n, bool transB, int jp, float* dst, int stride, int subWidth)
    {
        if (subWidth == Panel)
        {
            PackPanel(b, k, n, transB, jp, dst, stride);
            return;
        }
        int j0 = jp * Panel;
        int cols = Math.Min(Panel, n - j0);
        nint subPanel = (nint)k * subWidth;
        if (cols == Panel && subWidth == 16 && Avx.IsSupported)
        {
            float* low = dst, high = dst + subPanel;
            if (!transB)
            {
                float* src = b + j0;
                for (int p = 0; p < k; p++, src += stride, low += 16, high += 16)
                {
                    Vector256.Load(src).Store(low);
                    Vector256.Load(src + 8).Store(low + 8);
                    Vector256.Load(src + 16).Store(high);
                    Vector256.Load(src + 24).Store(high + 8);
                }
                return;
            }
            int kMain = k & ~7;
            for (int jj = 0; jj < Panel; jj += 8)
            {
                float* rows = b + (nint)(j0 + jj) * stride;
                float* group = (jj < 16 ? low : high) + (jj & 15);
                for (int p = 0; p < kMain; p += 8)
                    TransposedPacking.Transpose8x8(rows + p, stride, group + (nint)p * 16, 16);
                for (int p = kMain; p < k; p++)
                    for (int q = 0; q < 8; q++) group[p * 16 + q] = rows[(nint)q * stride + p];
            }
            return;
        }
        // Ragged panels (a transposed B with N not a multiple of 32) and other widths, value by value.
        for (int j = 0; j < Panel; j++)
        {
            float* column = dst + (j / subWidth) * subPanel + j % subWidth;
            if (j >= cols)
            {
                for (int p = 0; p < k; p++) column[p * subWidth] = 0f;
                continue;
            }
            if (transB)
            {
                float* row = b + (nint)(j0 + j) * stride;
                for (int p = 0; p < k; p++) column[p * subWidth] = row[p];
            }
            else
            {
                float* src = b + j0 + j;
                for (int p = 0; p < k; p++) column[p * subWidth] = src[(nint)p * stride];
            }
        }
    }
}
