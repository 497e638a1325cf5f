using System.Runtime.Intrinsics.X86;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// The copy-source fetches of a product that copies each panel's K block right before its tiles (a Dense layer's forward
/// x·W at 64 rows beside a 1024 × 1024 kernel): the 512-bit path takes them only where B is larger than the L2, and a
/// fetch changes no value, so the product keeps the bits it has without them and those of a B packed beforehand.
/// </summary>
// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmCopySourcePrefetchTests
{
    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    [Fact]
    public void TheWidePathFetchesCopySourcesOnlyForABLargerThanTheL2()
    {
        bool saved = Gemm.WideCopySourcePrefetchEnabled;
        try
        {
            Gemm.WideCopySourcePrefetchEnabled = true;
            const int mib = 1024 * 1024;
            bool x86 = Sse.IsSupported;
            // A Dense kernel of 1024 × 1024 (4 MiB) beside a 1 MiB and a 2 MiB L2; 512 × 512 (1 MiB) fits a 1 MiB L2 exactly.
            Assert.Equal(x86, Gemm.PrefetchesCopySources(KernelPath.Vector512, 4L * mib, mib));
            Assert.Equal(x86, Gemm.PrefetchesCopySources(KernelPath.Vector512, 4L * mib, 2 * mib));
            Assert.False(Gemm.PrefetchesCopySources(KernelPath.Vector512, mib, mib));
            Assert.False(Gemm.PrefetchesCopySources(KernelPath.Vector512, 256 * 1024, mib));
            // An unknown L2 (0) counts as none.
            Assert.Equal(x86, Gemm.PrefetchesCopySources(KernelPath.Vector512, 256 * 1024, 0));
            // The 256-bit path fetches whatever B's size; the scalar path copies nothing.
            Assert.Equal(x86, Gemm.PrefetchesCopySources(KernelPath.Vector256, 256 * 1024, mib));
            Assert.False(Gemm.PrefetchesCopySources(KernelPath.Scalar, 4L * mib, mib));
            Gemm.WideCopySourcePrefetchEnabled = false;
            Assert.False(Gemm.PrefetchesCopySources(KernelPath.Vector512, 4L * mib, mib));
            Assert.Equal(x86, Gemm.PrefetchesCopySources(KernelPath.Vector256, 4L * mib, mib));
        }
        finally
        {
            Gemm.WideCopySourcePrefetchEnabled = saved;
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ProductsWithTheFetchesKeepTheBitsOfThoseWithout(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int savedThreads = Threading.MaxThreads;
        bool saved = Gemm.WideCopySourcePrefetchEnabled;
        try
        {
            Threading.MaxThreads = 1;
            int seed = 8100;
            // The forward at U = 1024 B = 64 (B past any L2 here), a ragged row count, and a transposed A.
            foreach (var (m, k, n, transA) in new[] { (64, 1024, 1024, false), (37, 1024, 1024, false), (64, 512, 1024, true) })
            {
                if (path != KernelPath.Scalar)
                    Assert.True(Gemm.PackingOf(false, false, path, m, k, n, 1).PackPerPanel, $"{m}x{k}x{n} should copy each panel's K block");
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var prepacked = new float[m * n];
                Gemm.Multiply(a, Gemm.PackB(b, k, n), prepacked, m, transA);
                foreach (bool fetch in new[] { false, true })
                {
                    Gemm.WideCopySourcePrefetchEnabled = fetch;
                    var c = new float[m * n];
                    Gemm.Multiply(a, b, c, m, k, n, transA);
                    for (int i = 0; i < c.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(prepacked[i]) == BitConverter.SingleToInt32Bits(c[i]),
                            $"{path} {m}x{k}x{n} transA={transA} fetch={fetch}: element {i} is {c[i]}, packed beforehand {prepacked[i]}");
                }
            }
        }
        finally
        {
            Threading.MaxThreads = savedThreads;
            Gemm.WideCopySourcePrefetchEnabled = saved;
        }
    }
}
