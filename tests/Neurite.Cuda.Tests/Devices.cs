using Neurite.Cuda.Native;

namespace Neurite.Cuda.Tests;

/// <summary>
/// The accelerators the tests run on: ILGPU's CPU accelerator always; a CUDA device only where one
/// (with its driver and cuBLAS) is present, else the test reports itself skipped with what is missing.
/// </summary>
internal static class Devices
{
    private static readonly Lazy<CudaBackend> s_cpu = new(() => new CudaBackend(DeviceContext.CreateCpu()));
    private static readonly Lazy<(CudaBackend? Backend, string? Missing)> s_cuda = new(() =>
    {
        var missing = DeviceContext.FindMissingPiece();
        return missing is null ? (new CudaBackend(DeviceContext.CreateCuda()), null) : (null, missing);
    });

    /// <summary>The kernels on ILGPU's CPU accelerator (shared: loading the kernels costs seconds).</summary>
    public static CudaBackend Cpu => s_cpu.Value;

    /// <summary>The kernels on the CUDA device; skips the test, naming what is missing, where there is none.</summary>
    public static CudaBackend CudaOrSkip()
    {
        var (backend, missing) = s_cuda.Value;
        Assert.SkipWhen(backend is null, "skipped: no CUDA device — " + missing);
        return backend!;
    }

    /// <summary>The backend a test named "cpu-accelerator" or "cuda" runs on.</summary>
    public static CudaBackend For(string accelerator) => accelerator == "cuda" ? CudaOrSkip() : Cpu;

    public static bool HasCuBlas => CuBlasLibrary.Load(Environment.GetEnvironmentVariable(CuBlasLibrary.PathVariable)).Error is null;
}
