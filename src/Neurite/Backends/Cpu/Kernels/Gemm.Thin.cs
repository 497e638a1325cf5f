using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

// Products with one column (N = 1: a Dense(1) output's forward and weight gradient) or one inner step (K = 1: its input
// gradient, an outer product). The blocked and small kernels run them on 32- or 8-column tiles with one useful lane, and
// the larger ones fork for a few microseconds of work; here they run on one thread with every lane used. Each C element
// is the same chain as in those kernels: from +0 (or C's value when accumulating), one fused multiply-add per p in
// order, so the bits are the same.
internal static unsafe partial class Gemm
{
    // Up to this much work a thin product runs here on one thread (about 20 us): beyond it, memory or threads matter more.
    internal const double ThinMaxFlops = 4_000_000;

    /// <summary>Whether <see cref="MultiplyThin"/> takes this product on <paramref name="path"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsThin(KernelPath path, int m, int k, int n) =>
        path != KernelPath.Scalar && ThinKernels.Supported && (n == 1 || k == 1)
        && (long)m * n * k > TinyMaxMultiplyAdds && 2.0 * m * n * k <= ThinMaxFlops;

    // Read once, in a class of its own: ReadyToRun code that asks whether the processor has AVX2 or FMA is thrown away on
    // processors that have them, so Multiply, which inlines IsThin, ran unoptimised in a fresh process of the tool until
    // the tiered JIT replaced it (issue 14's cold start). Optimised code reads this as a constant, as it read the checks.
    private static class ThinKernels
    {
        public static readonly bool Supported = Fma.IsSupported && Avx2.IsSupported;
    }

    private static void MultiplyThin(KernelPath path, float* a, float* b, float* c, int m, int k, int n, bool transA, bool accumulate)
    {
        // With K = 1, A's only column (or row) is A[i] either way, and B's only row is B[j] either way; with N = 1,
        // B's only column is B[p] either way.
        if (k == 1) OuterProduct(a, b, c, m, n, accumulate, wide: path == KernelPath.Vector512);
        else if (transA) ColumnTransposed(a, b, c, m, k, accumulate);
        else Column(a, b, c, m, k, accumulate);
    }

    /// <summary>C[i, j] (+)= A[i]·B[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OuterProduct(float* a, float* b, float* c, int m, int n, bool accumulate, bool wide)
    {
        for (int i = 0; i < m; i++)
        {
            float* row = c + (nint)i * n;
            int j = 0;
            // Half the stores of the 256-bit loop where 512-bit vectors are fast (a Dense(1)'s input gradient is all stores).
            if (wide)
            {
                var wideAi = Vector512.Create(a[i]);
                for (; j + 16 <= n; j += 16)
                {
                    var start = accumulate ? Vector512.Load(row + j) : Vector512<float>.Zero;
                    Vector512.FusedMultiplyAdd(wideAi, Vector512.Load(b + j), start).Store(row + j);
                }
            }
            var ai = Vector256.Create(a[i]);
            for (; j + 8 <= n; j += 8)
            {
                var start = accumulate ? Vector256.Load(row + j) : Vector256<float>.Zero;
                Vector256.FusedMultiplyAdd(ai, Vector256.Load(b + j), start).Store(row + j);
            }
            for (; j < n; j++) row[j] = MathF.FusedMultiplyAdd(a[i], b[j], accumulate ? row[j] : 0f);
        }
    }

    /// <summary>C[i] (+)= Σ_p A[p, i]·B[p], A stored (K, M): M consecutive values per p, 32 rows of C at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnTransposed(float* a, float* b, float* c, int m, int k, bool accumulate)
    {
        int i = 0;
        for (; i + 32 <= m; i += 32)
        {
            Vector256<float> c0, c1, c2, c3;
            if (accumulate) { c0 = Vector256.Load(c + i); c1 = Vector256.Load(c + i + 8); c2 = Vector256.Load(c + i + 16); c3 = Vector256.Load(c + i + 24); }
            else c0 = c1 = c2 = c3 = Vector256<float>.Zero;
            float* ap = a + i;
            for (int p = 0; p < k; p++, ap += m)
            {
                var bp = Vector256.Create(b[p]);
                c0 = Vector256.FusedMultiplyAdd(Vector256.Load(ap), bp, c0);
                c1 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + 8), bp, c1);
                c2 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + 16), bp, c2);
                c3 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + 24), bp, c3);
            }
            c0.Store(c + i); c1.Store(c + i + 8); c2.Store(c + i + 16); c3.Store(c + i + 24);
        }
        for (; i + 8 <= m; i += 8)
        {
            var acc = accumulate ? Vector256.Load(c + i) : Vector256<float>.Zero;
            float* ap = a + i;
            for (int p = 0; p < k; p++, ap += m) acc = Vector256.FusedMultiplyAdd(Vector256.Load(ap), Vector256.Create(b[p]), acc);
            acc.Store(c + i);
        }
        for (; i < m; i++)
        {
            float acc = accumulate ? c[i] : 0f;
            for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(a[(nint)p * m + i], b[p], acc);
            c[i] = acc;
        }
    }

    /// <summary>C[i] (+)= Σ_p A[i, p]·B[p], A stored (M, K): eight rows at a time, their 8×8 blocks transposed in
    /// registers so that each p is one fused multiply-add over the eight rows' chains.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Column(float* a, float* b, float* c, int m, int k, bool accumulate)
    {
        float* block = stackalloc float[128];
        int kMain = k & ~7;
        int i = 0;
        // Sixteen rows at a time as two groups of eight: each group's chain is one fused multiply-add after another, so
        // alone it waited on the previous one's latency at every p (a Dense(1) forward at 64 × 128: ~1.5 µs).
        for (; i + 16 <= m && kMain == k; i += 16)
        {
            var acc = accumulate ? Vector256.Load(c + i) : Vector256<float>.Zero;
            var acc2 = accumulate ? Vector256.Load(c + i + 8) : Vector256<float>.Zero;
            float* rows = a + (nint)i * k;
            float* rows2 = rows + (nint)8 * k;
            for (int p = 0; p < k; p += 8)
            {
                TransposedPacking.Transpose8x8(rows + p, k, block, 8);
                TransposedPacking.Transpose8x8(rows2 + p, k, block + 64, 8);
                for (int q = 0; q < 8; q++)
                {
                    var bq = Vector256.Create(b[p + q]);
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 8 * q), bq, acc);
                    acc2 = Vector256.FusedMultiplyAdd(Vector256.Load(block + 64 + 8 * q), bq, acc2);
                }
            }
            acc.Store(c + i);
            acc2.Store(c + i + 8);
        }
        for (; i + 8 <= m; i += 8)
        {
            var acc = accumulate ? Vector256.Load(c + i) : Vector256<float>.Zero;
            float* rows = a + (nint)i * k;
            int p = 0;
            for (; p < kMain; p += 8)
            {
                // block row q holds A[i..i+7, p+q].
                TransposedPacking.Transpose8x8(rows + p, k, block, 8);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block), Vector256.Create(b[p]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 8), Vector256.Create(b[p + 1]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 16), Vector256.Create(b[p + 2]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 24), Vector256.Create(b[p + 3]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 32), Vector256.Create(b[p + 4]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 40), Vector256.Create(b[p + 5]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 48), Vector256.Create(b[p + 6]), acc);
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(block + 56), Vector256.Create(b[p + 7]), acc);
            }
            for (; p < k; p++)
            {
                var column = Vector256.Create(rows[p], rows[k + p], rows[2 * k + p], rows[3 * k + p],
                    rows[4 * k + p], rows[5 * k + p], rows[6 * k + p], rows[7 * k + p]);
                acc = Vector256.FusedMultiplyAdd(column, Vector256.Create(b[p]), acc);
            }
            acc.Store(c + i);
        }
        for (; i < m; i++)
        {
            float acc = accumulate ? c[i] : 0f;
            float* row = a + (nint)i * k;
            for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(row[p], b[p], acc);
            c[i] = acc;
        }
    }
}
