using System.Reflection;
using System.Runtime.InteropServices;

namespace Neurite.Cuda.Native;

/// <summary>
/// Finds cuBLAS: the file named by <see cref="PathVariable"/> when set, else <c>libcublas.so.13</c>, then
/// <c>.so.12</c> on the library path. ILGPU.Algorithms' wrapper knows only .so.10–.12, and CUDA 13
/// machines ship .so.13 (often inside a Python environment's <c>site-packages/nvidia/cublas/lib</c>).
/// </summary>
internal static class CuBlasLibrary
{
    /// <summary>The environment variable that names the cuBLAS file to load, overriding the probe.</summary>
    public const string PathVariable = "NEURITE_CUBLAS_PATH";

    /// <summary>The name the <see cref="CuBlas"/> imports use; resolved by <see cref="Resolve"/>.</summary>
    internal const string ImportName = "neurite-cublas";

    public static IReadOnlyList<string> ProbedNames { get; } = OperatingSystem.IsWindows()
        ? ["cublas64_13.dll", "cublas64_12.dll"]
        : ["libcublas.so.13", "libcublas.so.12"];

    private static readonly Lazy<(IntPtr Handle, string? Error)> s_loaded = new(() => Load(Environment.GetEnvironmentVariable(PathVariable)));
    private static int s_installed;

    public static void InstallResolver()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(CuBlasLibrary).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == ImportName ? s_loaded.Value.Handle : IntPtr.Zero;

    /// <summary>Null when cuBLAS loads; otherwise one sentence naming what was tried and how to fix it.</summary>
    public static string? LoadError => s_loaded.Value.Error;

    /// <summary>The candidates in probing order: the override alone when it is set.</summary>
    internal static IReadOnlyList<string> Candidates(string? overridePath) =>
        string.IsNullOrWhiteSpace(overridePath) ? ProbedNames : [overridePath];

    /// <summary>Loads the first candidate that loads: the handle, or zero and one sentence naming what was tried and the fix.</summary>
    internal static (IntPtr Handle, string? Error) Load(string? overridePath)
    {
        var candidates = Candidates(overridePath);
        foreach (var candidate in candidates)
            if (NativeLibrary.TryLoad(candidate, out var handle))
                return (handle, null);
        return (IntPtr.Zero, string.IsNullOrWhiteSpace(overridePath)
            ? $"cuBLAS was not found (tried {string.Join(", ", candidates)} on the library path): install CUDA 12 or 13's cuBLAS, add its lib folder to LD_LIBRARY_PATH, or set {PathVariable} to the file."
            : $"cuBLAS could not be loaded from {PathVariable}={overridePath}: point it at an existing libcublas.so.13 or .so.12.");
    }
}
