using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>The per-core cache sizes the processor reports, for choices that depend on what stays in cache.</summary>
internal static class CacheSizes
{
    /// <summary>L2 bytes of one core as CPUID leaf 0x80000006 reports it (Intel and AMD alike); 0 when unknown (not x86, or not reported).</summary>
    public static int L2Bytes { get; } = ReadL2Bytes();

    private static int ReadL2Bytes()
    {
        if (!X86Base.IsSupported) return 0;
        var (maxExtendedLeaf, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
        if ((uint)maxExtendedLeaf < 0x80000006) return 0;
        var (_, _, ecx, _) = X86Base.CpuId(unchecked((int)0x80000006), 0);
        long kib = (uint)ecx >> 16;
        return (int)Math.Min(kib * 1024, int.MaxValue);
    }
}
