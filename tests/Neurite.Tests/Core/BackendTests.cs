using Neurite.Backends;

namespace Neurite.Tests.Core;

public class BackendTests
{
    [Fact]
    public void CpuIsTheDefaultAndCanBeChosenByName()
    {
        Assert.Equal("cpu", Backend.Current);
        Backend.Use(" CPU ");
        Assert.Equal("cpu", Backend.Current);
        Assert.Equal(["cpu", "cuda"], Backend.Available);
    }

    [Fact]
    public void AnUnknownBackendIsRefusedWithTheChoices()
    {
        var error = Assert.Throws<NeuriteException>(() => Backend.Use("tpu"));
        Assert.Contains("'tpu'", error.Message);
        Assert.Contains("\"cpu\"", error.Message);
        Assert.Equal("cpu", Backend.Current);
    }

    [Fact]
    public void CudaWithoutItsPackageNamesThePackageToReference()
    {
        // This test project references only the core library, so Neurite.Cuda cannot load here.
        var error = Assert.Throws<NeuriteException>(() => Backend.Use("cuda"));
        Assert.Contains("add a reference to Neurite.Cuda", error.Message);
        Assert.Equal("cpu", Backend.Current);
    }
}
