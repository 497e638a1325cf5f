using System.Runtime.Intrinsics;

namespace Neurite.Kernels;

/// <summary>The SIMD width a kernel runs with. Tests force each path to prove all of them.</summary>
public enum KernelPath
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>Chooses the widest SIMD path the processor runs fast, unless one is forced.</summary>
public static class KernelSelector
{
    private static KernelPath? _forced;

    /// <summary>The best path this processor supports.</summary>
    public static KernelPath Best { get; } =
        Vector512.IsHardwareAccelerated ? KernelPath.Vector512 :
        Vector256.IsHardwareAccelerated ? KernelPath.Vector256 : KernelPath.Scalar;

    /// <summary>The path kernels use now.</summary>
    public static KernelPath Current => _forced ?? Best;

    /// <summary>Forces a path (for tests and benchmarks); null goes back to <see cref="Best"/>.
    /// A path the processor lacks is refused.</summary>
    public static void Force(KernelPath? path)
    {
        if (path == KernelPath.Vector512 && !Vector512.IsHardwareAccelerated)
            throw new NotSupportedException("This processor does not accelerate Vector512; force Vector256 or Scalar instead.");
        if (path == KernelPath.Vector256 && !Vector256.IsHardwareAccelerated)
            throw new NotSupportedException("This processor does not accelerate Vector256; force Scalar instead.");
        _forced = path;
    }
}
