using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Neurite.Cuda.Native;

namespace Neurite.Cuda;

/// <summary>
/// One ILGPU context and accelerator, plus cuBLAS on a CUDA device. The CPU accelerator runs the very
/// same kernels on any machine (the tests use it); products there go through the GEMM kernel instead of cuBLAS.
/// </summary>
internal sealed class DeviceContext : IDisposable
{
    private DeviceContext(Context context, Accelerator accelerator, CuBlasHandle? blas)
    {
        Context = context;
        Accelerator = accelerator;
        Blas = blas;
    }

    public Context Context { get; }
    public Accelerator Accelerator { get; }

    /// <summary>cuBLAS bound to the accelerator's stream, on a CUDA device only.</summary>
    public CuBlasHandle? Blas { get; }

    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>ILGPU's CPU accelerator, single-threaded so that results do not depend on the machine.</summary>
    public static DeviceContext CreateCpu()
    {
        var context = Context.Create(builder => builder.CPU().EnableAlgorithms());
        return new DeviceContext(context, context.CreateCPUAccelerator(0, CPUAcceleratorMode.Sequential), null);
    }

    /// <summary>The first CUDA device with cuBLAS, or a <see cref="CudaUnavailableException"/> naming what is missing and the fix.</summary>
    public static DeviceContext CreateCuda()
    {
        var missing = FindMissingPiece();
        if (missing is not null) throw new CudaUnavailableException(missing);
        var context = Context.Create(builder => builder.Cuda().EnableAlgorithms());
        Accelerator? accelerator = null;
        try
        {
            accelerator = context.CreateCudaAccelerator(0);
            var blas = new CuBlasHandle(((CudaStream)accelerator.DefaultStream).StreamPtr);
            return new DeviceContext(context, accelerator, blas);
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>Null when a CUDA device, its driver and cuBLAS are all here; else what is missing and how to fix it.</summary>
    public static string? FindMissingPiece()
    {
        CudaDriverLibrary.InstallResolver();
        if (!CudaDriverLibrary.IsLoadable())
            return $"The CUDA backend needs the NVIDIA driver, but {CudaDriverLibrary.FileName} was not found: install the NVIDIA driver (or run on a machine with an NVIDIA GPU), or choose the cpu backend.";
        int devices;
        try
        {
            using var probe = Context.Create(builder => builder.Cuda().EnableAlgorithms());
            devices = probe.GetCudaDevices().Count;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"The NVIDIA driver ({CudaDriverLibrary.FileName}) loaded but could not list devices ({e.Message}): update the driver, or choose the cpu backend.";
        }
        if (devices == 0)
            return "The NVIDIA driver is installed but reports no CUDA device: check nvidia-smi and CUDA_VISIBLE_DEVICES, or choose the cpu backend.";
        CuBlasLibrary.InstallResolver();
        return CuBlasLibrary.LoadError is { } blasError ? "The CUDA backend needs cuBLAS. " + blasError : null;
    }

    public void Dispose()
    {
        Blas?.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}
