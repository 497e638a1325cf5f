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

    /// <summary>
    /// The most threads the backend's kernels may use, counting the calling thread (1 to
    /// <see cref="ThreadLimit"/>; default: every core, as TensorFlow's CPU kernels do). Work is split
    /// only where it gains, and the split never changes a result; a recurrent model trains on at most
    /// two. Set 1 to keep a process to one core (e.g. beside other work on a shared machine).
    /// </summary>
    public static int MaxThreads
    {
        get => Kernels.Threading.MaxThreads;
        set => Kernels.Threading.MaxThreads = value;
    }

    /// <summary>The largest <see cref="MaxThreads"/> accepted.</summary>
    public static int ThreadLimit => Kernels.Threading.Limit;

    /// <summary>The backend in use, for the library's own calls (see <see cref="Ops"/>).</summary>
    internal static IBackend Active => s_active;

    // Keeps the CPU backend's construction out of Backend's static initialiser order.
    private static class CpuBackendHolder
    {
        public static readonly IBackend Instance = new Cpu.CpuBackend();
    }
}
