using System.Runtime.InteropServices;

namespace Neurite.Cuda.Native;

/// <summary>The few cuBLAS v2 entry points the backend uses (column-major, as cuBLAS is).</summary>
internal static partial class CuBlas
{
    public enum Status
    {
        Success = 0,
        NotInitialized = 1,
        AllocFailed = 3,
        InvalidValue = 7,
        ArchMismatch = 8,
        MappingError = 11,
        ExecutionFailed = 13,
        InternalError = 14,
        NotSupported = 15,
        LicenseError = 16,
    }

    public enum Operation
    {
        None = 0,
        Transpose = 1,
    }

    /// <summary>CUBLAS_DEFAULT_MATH: no TF32, so results stay within float rounding of the CPU's.</summary>
    public const int DefaultMath = 0;

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasCreate_v2")]
    public static partial Status Create(out IntPtr handle);

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasDestroy_v2")]
    public static partial Status Destroy(IntPtr handle);

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasGetVersion_v2")]
    public static partial Status GetVersion(IntPtr handle, out int version);

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasSetStream_v2")]
    public static partial Status SetStream(IntPtr handle, IntPtr stream);

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasSetMathMode")]
    public static partial Status SetMathMode(IntPtr handle, int mode);

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasGetMathMode")]
    public static partial Status GetMathMode(IntPtr handle, out int mode);

    [LibraryImport(CuBlasLibrary.ImportName, EntryPoint = "cublasSgemm_v2")]
    public static partial Status Sgemm(IntPtr handle, Operation transa, Operation transb, int m, int n, int k,
        in float alpha, IntPtr a, int lda, IntPtr b, int ldb, in float beta, IntPtr c, int ldc);

    public static void Check(Status status, string call)
    {
        if (status != Status.Success)
            throw new CudaUnavailableException($"cuBLAS {call} failed with {status}.");
    }
}
