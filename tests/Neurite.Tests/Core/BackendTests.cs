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
        Assert.Equal(["cpu"], Backend.Available);
    }

    [Fact]
    public void AnUnknownBackendIsRefusedWithTheChoices()
    {
        var error = Assert.Throws<NeuriteException>(() => Backend.Use("cuda"));
        Assert.Contains("'cuda'", error.Message);
        Assert.Contains("\"cpu\"", error.Message);
        Assert.Equal("cpu", Backend.Current);
    }
}
