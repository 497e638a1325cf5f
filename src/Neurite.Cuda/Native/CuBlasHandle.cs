namespace Neurite.Cuda.Native;

/// <summary>A cuBLAS handle on one stream, in its default (non-TF32) math mode.</summary>
internal sealed class CuBlasHandle : IDisposable
{
    private IntPtr _handle;

    public CuBlasHandle(IntPtr stream)
    {
        CuBlasLibrary.InstallResolver();
        if (CuBlasLibrary.LoadError is { } error) throw new CudaUnavailableException(error);
        CuBlas.Check(CuBlas.Create(out _handle), "cublasCreate");
        CuBlas.Check(CuBlas.SetStream(_handle, stream), "cublasSetStream");
        CuBlas.Check(CuBlas.SetMathMode(_handle, CuBlas.DefaultMath), "cublasSetMathMode");
    }

    /// <summary>
    /// Row-major <c>c = op(a)·op(b) (+ c)</c> on device pointers. cuBLAS is column-major, so it computes
    /// cᵀ = op(b)ᵀ·op(a)ᵀ, whose column-major layout is c's row-major one.
    /// </summary>
    public void Gemm(IntPtr a, IntPtr b, IntPtr c, int m, int k, int n, bool transA, bool transB, bool accumulate)
    {
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        int lda = transA ? m : k, ldb = transB ? k : n;
        CuBlas.Check(CuBlas.Sgemm(_handle,
            transB ? CuBlas.Operation.Transpose : CuBlas.Operation.None,
            transA ? CuBlas.Operation.Transpose : CuBlas.Operation.None,
            n, m, k, alpha, b, ldb, a, lda, beta, c, n), "cublasSgemm");
    }

    public int Version
    {
        get
        {
            CuBlas.Check(CuBlas.GetVersion(_handle, out int version), "cublasGetVersion");
            return version;
        }
    }

    /// <summary>The handle's math mode as cuBLAS reports it (<see cref="CuBlas.DefaultMath"/> unless something changed it).</summary>
    public int MathMode
    {
        get
        {
            CuBlas.Check(CuBlas.GetMathMode(_handle, out int mode), "cublasGetMathMode");
            return mode;
        }
    }

    public void Dispose()
    {
        if (_handle == IntPtr.Zero) return;
        _ = CuBlas.Destroy(_handle);
        _handle = IntPtr.Zero;
    }
}
