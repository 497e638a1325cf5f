using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>ReLU and its gradient over every length up to a few vectors of the widest path, so that each vector body and
/// the scalar tail after it are checked against the definition value by value.</summary>
public class ElementwiseKernelsTests
{
    private static float[] Inputs(int length, int seed)
    {
        var z = KernelPaths.RandomValues(length, seed, scale: 3f);
        // Zeros of both signs and exact halves among the random values.
        for (int i = 0; i < length; i += 5) z[i] = (i / 5 % 3) switch { 0 => -0f, 1 => 0f, _ => 0.5f };
        return z;
    }

    [Fact]
    public void ReluKeepsPositiveValuesAndZeroesTheRestAtEveryLength()
    {
        for (int length = 0; length <= 70; length++)
        {
            var z = Inputs(length, 7100 + length);
            var a = new float[length + 3];
            a[length] = a[length + 1] = a[length + 2] = 42f;
            ElementwiseKernels.Relu(z, a);
            for (int i = 0; i < length; i++)
            {
                float expected = z[i] > 0 ? z[i] : 0f;
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(a[i]),
                    $"length {length}, index {i}: relu({z[i]}) gave {a[i]}, expected {expected}");
            }
            Assert.Equal([42f, 42f, 42f], a[length..]);
        }
    }

    [Fact]
    public void ReluBackwardPassesTheGradientWherePositiveAtEveryLength()
    {
        for (int length = 0; length <= 70; length++)
        {
            var z = Inputs(length, 7200 + length);
            var da = KernelPaths.RandomValues(length, 7300 + length);
            var dz = new float[length + 2];
            dz[length] = dz[length + 1] = 42f;
            ElementwiseKernels.ReluBackward(z, da, dz);
            for (int i = 0; i < length; i++)
            {
                float expected = z[i] > 0 ? da[i] : 0f;
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(dz[i]),
                    $"length {length}, index {i}: z = {z[i]}, da = {da[i]} gave {dz[i]}, expected {expected}");
            }
            Assert.Equal([42f, 42f], dz[length..]);
        }
    }
}
