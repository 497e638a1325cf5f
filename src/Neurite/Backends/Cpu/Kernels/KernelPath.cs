using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>The SIMD width a kernel runs with. Tests force each path to prove all of them.</summary>
/// <remarks>The one public type of the CPU backend's kernels: xunit theories, which must be public, take it as a parameter.</remarks>
public enum KernelPath
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>Chooses the widest SIMD path the processor runs fast, unless one is forced.</summary>
internal static class KernelSelector
{
    // Per thread, so tests forcing different paths can run side by side; kernels read it on the
    // calling thread and hand it to any worker threads they use.
    [ThreadStatic] private static KernelPath? t_forced;

    // Set once any thread forces a path: until then Current reads no thread-static (a call into the runtime's
    // thread-local storage on some platforms, a few ns on every product of a small model's step).
    private static bool s_anyForced;

    /// <summary>The best path this processor supports.</summary>
    public static KernelPath Best { get; } =
        Vector512.IsHardwareAccelerated ? KernelPath.Vector512 :
        Vector256.IsHardwareAccelerated ? KernelPath.Vector256 : KernelPath.Scalar;

    /// <summary>This thread's forced path (null: none), for work that hands the caller's choice to a worker.</summary>
    internal static KernelPath? Forced
    {
        get => s_anyForced ? t_forced : null;
        set
        {
            if (value is not null) s_anyForced = true;
            t_forced = value;
        }
    }

    /// <summary>The path kernels called from this thread use now.</summary>
    public static KernelPath Current => s_anyForced ? t_forced ?? Best : Best;

    /// <summary>Whether this processor can run <paramref name="path"/>.</summary>
    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Vector512 => Vector512.IsHardwareAccelerated,
        KernelPath.Vector256 => Vector256.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Forces a path for kernels called from this thread (for tests and benchmarks); null goes
    /// back to <see cref="Best"/>. A path the processor lacks is refused with <see cref="NotSupportedException"/>.</summary>
    public static void Force(KernelPath? path)
    {
        if (path == KernelPath.Vector512 && !Vector512.IsHardwareAccelerated)
            throw new NotSupportedException("This processor does not accelerate Vector512; force Vector256 or Scalar instead.");
        if (path == KernelPath.Vector256 && !Vector256.IsHardwareAccelerated)
            throw new NotSupportedException("This processor does not accelerate Vector256; force Scalar instead.");
        Forced = path;
    }
}
