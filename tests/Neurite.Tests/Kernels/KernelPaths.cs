using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Tests.Kernels;

/// <summary>Test data and helpers shared by the kernel tests.</summary>
internal static class KernelPaths
{
    /// <summary>Every path this processor runs; tests take it as a Theory source so each path is proven.</summary>
    public static TheoryData<KernelPath> Supported()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in Enum.GetValues<KernelPath>())
            if (KernelSelector.IsSupported(path)) data.Add(path);
        return data;
    }

    /// <summary>
    /// Puts <see cref="Threading.MaxThreads"/> back, when disposed, to what it is now: the setting is process-wide, so a test
    /// that changes it must leave it as it found it whatever fails.
    /// </summary>
    public static IDisposable KeepMaxThreads() => new RestoreMaxThreads(Threading.MaxThreads);

    private sealed class RestoreMaxThreads(int saved) : IDisposable
    {
        public void Dispose() => Threading.MaxThreads = saved;
    }

    /// <summary>Forces <paramref name="path"/> on this thread until disposed.</summary>
    public static IDisposable Force(KernelPath path)
    {
        KernelSelector.Force(path);
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => KernelSelector.Force(null);
    }

    public static float[] RandomValues(int count, int seed, float scale = 1f)
    {
        var random = new System.Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>A seeded dropout mask as the recurrent kernels take it: about 30 % zeros, the others 1.5.</summary>
    public static float[] DropoutMask(int count, int seed) => Array.ConvertAll(RandomValues(count, seed), v => v < -0.4f ? 0f : 1.5f);
}
