namespace Neurite.Kernels;

/// <summary>
/// Single-precision matrix products on row-major spans.
/// <c>C[M,N] = op(A)[M,K] · op(B)[K,N]</c>, optionally added to C.
/// </summary>
/// <remarks>
/// Shapes: A is (M,K) or, with <c>transA</c>, stored as (K,M); B is (K,N) or, with <c>transB</c>,
/// stored as (N,K). C is always (M,N).
/// </remarks>
public static class Gemm
{
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool transA = false, bool transB = false, bool accumulate = false)
    {
        if (!accumulate) c[..(m * n)].Clear();
        if (m == 0 || n == 0 || k == 0) return;
        ReferenceMultiply(a, b, c, m, k, n, transA, transB);
    }

    /// <summary>The plain triple loop: an algorithmic reference for tests and a fallback.</summary>
    internal static void ReferenceMultiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool transA, bool transB)
    {
        for (int i = 0; i < m; i++)
        {
            var crow = c.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * m + i] : a[i * k + p];
                if (av == 0f) continue;
                if (transB)
                    for (int j = 0; j < n; j++) crow[j] += av * b[j * k + p];
                else
                    { var brow = b.Slice(p * n, n); for (int j = 0; j < n; j++) crow[j] += av * brow[j]; }
            }
        }
    }
}
