using System.Runtime.Intrinsics;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Tests.Kernels;

public class KernelSelectorTests
{
    [Fact]
    public void ForcingAPathTheProcessorLacksIsRefusedAndASupportedOneIsUsed()
    {
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            bool hardware = path switch
            {
                KernelPath.Vector512 => Vector512.IsHardwareAccelerated,
                KernelPath.Vector256 => Vector256.IsHardwareAccelerated,
                _ => true,
            };
            Assert.Equal(hardware, KernelSelector.IsSupported(path));
            if (hardware)
            {
                using (KernelPaths.Force(path)) Assert.Equal(path, KernelSelector.Current);
                Assert.Equal(KernelSelector.Best, KernelSelector.Current);
            }
            else
            {
                var error = Assert.Throws<NotSupportedException>(() => KernelSelector.Force(path));
                Assert.Contains(path.ToString(), error.Message);
            }
        }
    }

    [Fact]
    public void ForcingIsPerThread()
    {
        using (KernelPaths.Force(KernelPath.Scalar))
        {
            KernelPath seenElsewhere = KernelPath.Scalar;
            var other = new Thread(() => seenElsewhere = KernelSelector.Current);
            other.Start();
            other.Join();
            Assert.Equal(KernelSelector.Best, seenElsewhere);
            Assert.Equal(KernelPath.Scalar, KernelSelector.Current);
        }
    }
}
