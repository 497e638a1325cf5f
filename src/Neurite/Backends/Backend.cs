namespace Neurite.Backends;

/// <summary>
/// The backend that runs every layer, loss, metric and optimizer: chosen once, before building
/// models (Keras's <c>KERAS_BACKEND</c>). <c>"cpu"</c> (managed SIMD kernels, the default) is the
/// only one this package has; <c>"cuda"</c> comes with the Neurite.Cuda package.
/// </summary>
public static class Backend
{
    private static IBackend s_active = CpuBackendHolder.Instance;

    private static readonly Dictionary<string, Func<IBackend>> s_registered = new(StringComparer.Ordinal)
    {
        ["cpu"] = () => CpuBackendHolder.Instance,
    };

    // Backends shipped in their own packages (native dependencies stay out of this one): the assembly
    // that registers each one when loaded.
    private static readonly Dictionary<string, string> s_packaged = new(StringComparer.Ordinal)
    {
        ["cuda"] = "Neurite.Cuda",
    };

    /// <summary>The names <see cref="Use"/> accepts (a packaged backend needs its package referenced).</summary>
    public static IReadOnlyList<string> Available { get; } = ["cpu", "cuda"];

    /// <summary>The name of the backend in use.</summary>
    public static string Current => s_active.Name;

    /// <summary>Chooses the backend by name (case-insensitive); an unknown name is refused with the choices.</summary>
    public static void Use(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant();
        Func<IBackend>? factory;
        lock (s_registered)
        {
            if (!s_registered.TryGetValue(key, out factory) && s_packaged.TryGetValue(key, out var package))
            {
                LoadPackage(key, package);
                s_registered.TryGetValue(key, out factory);
            }
        }
        if (factory is null)
            throw new NeuriteException(
                $"Unknown backend '{name}'. Neurite has {string.Join(", ", Available.Select(n => $"\"{n}\""))}; pass one of those to Backend.Use.");
        // The factory throws, with what is missing and the fix, when its device cannot run here: never a silent fallback.
        s_active = factory();
    }

    /// <summary>Makes a backend from another package choosable by name; that package calls this when it loads.</summary>
    internal static void Register(string name, Func<IBackend> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (s_registered) s_registered[name.Trim().ToLowerInvariant()] = factory;
    }

    // Runs the package's module initializer, which registers its backend.
    private static void LoadPackage(string name, string assemblyName)
    {
        System.Reflection.Assembly assembly;
        try
        {
            assembly = System.Reflection.Assembly.Load(new System.Reflection.AssemblyName(assemblyName));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new NeuriteException($"The '{name}' backend lives in the {assemblyName} package, which this application does not reference: add a reference to {assemblyName}.", e);
        }
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
    }

    /// <summary>
    /// The most threads the backend's kernels may use, counting the calling thread (1 to
    /// <see cref="ThreadLimit"/>; default: every core, as TensorFlow's CPU kernels do). Work is split
    /// only where it gains, and the split never changes a result; a recurrent model trains on at most
    /// two. Set 1 to keep a process to one core (e.g. beside other work on a shared machine).
    /// </summary>
    public static int MaxThreads
    {
        get => Cpu.CpuBackend.MaxThreads;
        set => Cpu.CpuBackend.MaxThreads = value;
    }

    /// <summary>
    /// Whether <see cref="Sequential.Compile(Losses.Loss, Optimizers.Optimizer, IReadOnlyList{string}?)"/> of a built model
    /// starts <see cref="Sequential.PrewarmAsync"/> itself, for batches of the model's fixed batch size or else
    /// <see cref="Sequential.Fit"/>'s default of 32 (default: true). Set false before compiling to keep a process's
    /// compiling on the threads that train.
    /// </summary>
    public static bool PrewarmOnCompile { get; set; } = true;

    /// <summary>The largest <see cref="MaxThreads"/> accepted.</summary>
    public static int ThreadLimit => Cpu.CpuBackend.ThreadLimit;

    /// <summary>The backend in use, for the library's own calls (see <see cref="Ops"/>).</summary>
    internal static IBackend Active => s_active;

    // Keeps the CPU backend's construction out of Backend's static initialiser order.
    private static class CpuBackendHolder
    {
        public static readonly IBackend Instance = new Cpu.CpuBackend();
    }
}
