using System.Runtime.InteropServices;
using Neurite.Backends;

namespace Neurite.Cli.Tests;

/// <summary><c>--device</c> on the training commands.</summary>
public sealed class DeviceOptionTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string NeverWritten() => Path.Combine(Path.GetTempPath(), "never-written-" + Guid.NewGuid());

    public static TheoryData<string[]> Commands() => new()
    {
        new[] { "tutorial", "--quick", "--out", NeverWritten() },
        new[] { "classify", "missing.csv", "--target", "y", "--out", NeverWritten() },
        new[] { "forecast", "missing.csv", "--column", "y", "--out", NeverWritten() },
    };

    [SkippableTheory]
    [MemberData(nameof(Commands))]
    public void CudaWithoutAGpuIsOneLineNamingWhatIsMissingAndExitCode2(string[] args)
    {
        bool hasDriver = NativeLibrary.TryLoad("libcuda.so.1", out var driver);
        if (hasDriver) NativeLibrary.Free(driver);
        Skip.If(hasDriver, "skipped: this machine has the NVIDIA driver, so --device cuda may run");
        var (code, output, error) = Run([.. args, "--device", "cuda"]);
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith($"neurite {args[0]}: The CUDA backend needs the NVIDIA driver", error);
        Assert.Contains("choose the cpu backend", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Report:", output);
        Assert.Equal("cpu", Backend.Current);
    }

    [Fact]
    public void AnUnknownDeviceIsAUsageError()
    {
        var (code, _, error) = Run("tutorial", "--device", "tpu", "--out", NeverWritten());
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("tpu", error);
        Assert.Contains("--device", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}
