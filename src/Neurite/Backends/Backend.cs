namespace Neurite.Backends;

/// <summary>
/// The backend that runs every layer, loss, metric and optimizer: chosen once, before building
/// models (Keras's <c>KERAS_BACKEND</c>). <c>"cpu"</c> (managed SIMD kernels, the default) is the
/// only one this package has; another package may add a backend for another device.
/// </summary>
public static class Backend
{
    private static IBackend s_active = CpuBackendHolder.Instance;

    /// <summary>The names <see cref="Use"/> accepts.</summary>
    public static IReadOnlyList<string> Available { get; } = ["cpu"];

    /// <summary>The name of the backend in use.</summary>
    public static string Current => s_active.Name;

    /// <summary>Chooses the backend by name (case-insensitive); an unknown name is refused with the choices.</summary>
    public static void Use(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        s_active = name.Trim().ToLowerInvariant() switch
        {
            "cpu" => CpuBackendHolder.Instance,
            _ => throw new NeuriteException(
                $"Unknown backend '{name}'. Neurite has {string.Join(", ", Available.Select(n => $"\"{n}\""))}; pass one of those to Backend.Use."),
        };
    }

    /// <summary>The backend in use, for the library's own calls (see <see cref="Ops"/>).</summary>
    internal static IBackend Active => s_active;

    // Keeps the CPU backend's construction out of Backend's static initialiser order.
    private static class CpuBackendHolder
    {
        public static readonly IBackend Instance = new Cpu.CpuBackend();
    }
}
