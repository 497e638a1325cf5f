using Neurite.Backends;
using Neurite.Cuda.Native;

namespace Neurite.Cuda.Tests;

/// <summary>Choosing the backend, finding the driver and cuBLAS, and what a user is told when something is missing.</summary>
public class AvailabilityTests
{
    [Fact]
    public void CuBlasIsProbedAsSo13ThenSo12UnlessTheVariableNamesAFile()
    {
        if (OperatingSystem.IsLinux()) Assert.Equal(["libcublas.so.13", "libcublas.so.12"], CuBlasLibrary.Candidates(null));
        Assert.Equal(CuBlasLibrary.ProbedNames, CuBlasLibrary.Candidates("  "));
        Assert.Equal(["/opt/nvidia/libcublas.so.13"], CuBlasLibrary.Candidates("/opt/nvidia/libcublas.so.13"));
    }

    [Fact]
    public void AMissingOverrideFileIsNamedWithTheVariable()
    {
        var (handle, error) = CuBlasLibrary.Load("/nonexistent/libcublas.so.13");
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Contains("NEURITE_CUBLAS_PATH=/nonexistent/libcublas.so.13", error);
    }

    [Fact]
    public void WithoutCuBlasTheErrorNamesWhatWasTriedAndTheFix()
    {
        Assert.SkipWhen(Devices.HasCuBlas, "skipped: libcublas is present, so there is no missing-library message to check");
        var (_, error) = CuBlasLibrary.Load(null);
        Assert.Contains("libcublas.so.13, libcublas.so.12", error);
        Assert.Contains("LD_LIBRARY_PATH", error);
        Assert.Contains(CuBlasLibrary.PathVariable, error);
    }

    [Fact]
    public void CuBlasGemmMatchesTheCpuOnTheDevice()
    {
        Assert.SkipUnless(Devices.HasCuBlas, "skipped: no libcublas — " + CuBlasLibrary.Load(Environment.GetEnvironmentVariable(CuBlasLibrary.PathVariable)).Error);
        var device = Devices.CudaOrSkip();
        Assert.NotNull(device.Device.Blas);
        Assert.True(device.Device.Blas!.Version >= 12000, $"cuBLAS version {device.Device.Blas.Version}");
        // Default math, not TF32 (whose 10-bit mantissa would miss the tolerance below).
        Assert.Equal(Native.CuBlas.DefaultMath, device.Device.Blas.MathMode);
        const int m = 64, k = 96, n = 48;
        var a = Close.Random(m * k, 40);
        var b = Close.Random(k * n, 41);
        var expected = new float[m * n];
        var actual = new float[m * n];
        new Backends.Cpu.CpuBackend().MatMul(a, b, expected, m, k, n);
        device.MatMul(a, b, actual, m, k, n);
        Close.Assert(expected, actual, 1e-5, "cuBLAS Sgemm");
    }

    [Fact]
    public void WithoutAGpuChoosingCudaFailsWithOneLineNamingWhatIsMissing()
    {
        var missing = DeviceContext.FindMissingPiece();
        Assert.SkipWhen(missing is null, "skipped: a usable CUDA device is present, so Backend.Use(\"cuda\") succeeds here");
        var error = Assert.Throws<CudaUnavailableException>(() => Backend.Use("cuda"));
        Assert.Equal(missing, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("choose the cpu backend", error.Message);
        Assert.True(error.Message.Contains("driver", StringComparison.Ordinal) || error.Message.Contains("cuBLAS", StringComparison.Ordinal)
            || error.Message.Contains("device", StringComparison.Ordinal), error.Message);
        Assert.Equal("cpu", Backend.Current);
    }

    [Fact]
    public void WithAGpuCudaCanBeChosenByName()
    {
        var missing = DeviceContext.FindMissingPiece();
        Assert.SkipWhen(missing is not null, "skipped: no CUDA device — " + missing);
        try
        {
            Backend.Use("cuda");
            Assert.Equal("cuda", Backend.Current);
        }
        finally
        {
            Backend.Use("cpu");
        }
    }
}
