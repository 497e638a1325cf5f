using System.Runtime.CompilerServices;
using Neurite.Backends;

namespace Neurite.Cuda;

/// <summary>Registers <c>"cuda"</c> with <see cref="Backend"/> when this assembly loads (Backend.Use loads it by name).</summary>
internal static class CudaRegistration
{
    private static readonly Lazy<CudaBackend> s_backend = new(() => new CudaBackend(DeviceContext.CreateCuda()));

    // A library's module initializer is what CA2255 warns about; here it is the point: Backend.Use("cuda")
    // loads this assembly by name and runs it, so referencing the package is all a user does.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => Backend.Register("cuda", () => s_backend.Value);
}
