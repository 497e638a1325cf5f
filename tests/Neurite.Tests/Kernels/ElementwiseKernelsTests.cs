using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>ReLU, its gradient and Adam's update over every length up to a few vectors of the widest path, so that each
/// vector body and the scalar tail after it are checked against the definition value by value.</summary>
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

    private const float SmallestNormal = 1.17549435e-38f;

    private static float Flushed(float x) => MathF.Abs(x) < SmallestNormal ? 0f : x;

    /// <summary>A weight, gradient and moments for Adam: random values of several magnitudes, zeros of both signs, and
    /// values whose new moments fall below the smallest normal float (flushed to 0) or land just above it (kept).</summary>
    private static (float[] W, float[] G, float[] M, float[] V) AdamInputs(int length, int seed)
    {
        var random = new System.Random(seed);
        float[] w = new float[length], g = new float[length], m = new float[length], v = new float[length];
        for (int i = 0; i < length; i++)
        {
            w[i] = (float)(random.NextDouble() * 2 - 1);
            g[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-6, 3)));
            m[i] = (float)((random.NextDouble() * 2 - 1) * 0.1);
            v[i] = (float)(random.NextDouble() * 0.01);
            switch (i % 7)
            {
                case 0: g[i] = i % 2 == 0 ? 0f : -0f; m[i] = 1.2e-38f; v[i] = 1.176e-38f; break; // both moments decay to denormals
                case 1: g[i] = 1e-20f; m[i] = 0f; v[i] = 0f; break;                              // g² is denormal: v stays 0, m does not
                case 2: g[i] = -0f; m[i] = -0f; v[i] = 0f; break;                                // all zero: the step is −0/ε
                case 3: g[i] = 0f; m[i] = -2e-37f; v[i] = 2e-37f; break;                          // decayed, still normal
                default: break;
            }
        }
        return (w, g, m, v);
    }

    /// <summary>Adam's update of one element, written out from its definition (IBackend.AdamUpdate) in scalar floats.</summary>
    private static (float W, float M, float V) AdamOfOneElement(float w, float g, float m, float v, float alpha, float b1, float b2, float eps)
    {
        float newM = Flushed(m + (g - m) * b1);
        float newV = Flushed(v + (g * g - v) * b2);
        return (w - alpha * newM / (MathF.Sqrt(newV) + eps), newM, newV);
    }

    private static void AssertSameBits(float expected, float actual, string what)
    {
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
            $"{what}: got {actual:R} (0x{BitConverter.SingleToInt32Bits(actual):X8}), expected {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):X8})");
    }

    private const float Alpha = 1.2345e-3f, Beta1Complement = 0.1f, Beta2Complement = 1e-3f, Epsilon = 1e-7f;

    /// <summary>Runs <paramref name="update"/> over fresh inputs of <paramref name="length"/> values (with guard values
    /// past the end) and checks the first <paramref name="updated"/> values against the definition, the rest untouched.</summary>
    private static void CheckAdam(int length, int seed, string what, Action<float[], float[], float[], float[], int> update, Func<int, int>? updated = null)
    {
        var (w, g, m, v) = AdamInputs(length + 3, seed);
        float[] w0 = (float[])w.Clone(), g0 = (float[])g.Clone(), m0 = (float[])m.Clone(), v0 = (float[])v.Clone();
        update(w, g, m, v, length);
        int count = updated?.Invoke(length) ?? length;
        for (int i = 0; i < length + 3; i++)
        {
            var (ew, em, ev) = i < count ? AdamOfOneElement(w0[i], g0[i], m0[i], v0[i], Alpha, Beta1Complement, Beta2Complement, Epsilon) : (w0[i], m0[i], v0[i]);
            string at = $"{what}, length {length}, index {i} (w {w0[i]:R}, g {g0[i]:R}, m {m0[i]:R}, v {v0[i]:R})";
            AssertSameBits(em, m[i], at + ": m");
            AssertSameBits(ev, v[i], at + ": v");
            AssertSameBits(ew, w[i], at + ": w");
            AssertSameBits(g0[i], g[i], at + ": the gradient");
        }
    }

    private static readonly int[] LargeAdamLengths = [1000, 4099, 65_536 + 13];

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void AdamUpdateGivesTheBitsOfTheDefinitionAtEveryLength(KernelPath path)
    {
        using var forced = KernelPaths.Force(path);
        foreach (int length in Enumerable.Range(0, 71).Concat(LargeAdamLengths))
            CheckAdam(length, 7400 + length, path.ToString(), (w, g, m, v, n) =>
                ElementwiseKernels.AdamUpdate(w.AsSpan(0, n), g.AsSpan(0, n), m.AsSpan(0, n), v.AsSpan(0, n), Alpha, Beta1Complement, Beta2Complement, Epsilon));
    }

    [Fact]
    public unsafe void AdamUpdate128BitsWideGivesTheBitsOfTheDefinitionOverWholeVectors()
    {
        // The 128-bit body runs only where 256-bit vectors are not accelerated; here it is called directly. It updates
        // whole vectors of 4 and leaves the rest to the scalar tail.
        foreach (int length in Enumerable.Range(0, 71).Concat(LargeAdamLengths))
            CheckAdam(length, 7500 + length, "128 bits", (w, g, m, v, n) =>
            {
                fixed (float* pw = w, pg = g, pm = m, pv = v)
                    Assert.Equal(n - n % 4, ElementwiseKernels.Adam128(pw, pg, pm, pv, n, Alpha, Beta1Complement, Beta2Complement, Epsilon));
            }, n => n - n % 4);
    }

    [Fact]
    public void AdamUpdateRefusesAGradientOrMomentShorterThanTheWeight()
    {
        float[] four = new float[4], three = new float[3];
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.AdamUpdate(four, three, four, four, Alpha, Beta1Complement, Beta2Complement, Epsilon));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.AdamUpdate(four, four, three, four, Alpha, Beta1Complement, Beta2Complement, Epsilon));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.AdamUpdate(four, four, four, three, Alpha, Beta1Complement, Beta2Complement, Epsilon));
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void IndexOfNonFiniteFindsTheFirstNaNOrInfinityAtEveryPosition(KernelPath path)
    {
        using var forced = KernelPaths.Force(path);
        // Finite values whose exponent bits come closest to all ones, or are all zeros, beside ordinary ones.
        float[] extremes = [float.MaxValue, -float.MaxValue, float.Epsilon, -float.Epsilon, ElementwiseKernels.MinNormalFloat, -0f, 0f, 1.5f];
        // Quiet and signalling NaNs of both signs, with and without payload bits, and both infinities.
        float[] nonFinite = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.UInt32BitsToSingle(0xFFC00001),
            BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFFFFFFFF)];
        for (int length = 0; length <= 200; length++)
        {
            var values = KernelPaths.RandomValues(length, 8100 + length, scale: 1e30f);
            for (int i = 0; i < length; i += 3) values[i] = extremes[i / 3 % extremes.Length];
            Assert.Equal(-1, ElementwiseKernels.IndexOfNonFinite(values));
            for (int at = 0; at < length; at++)
            {
                var copy = (float[])values.Clone();
                copy[at] = nonFinite[at % nonFinite.Length];
                // A later one in the same block of four vectors, or past it, must not be taken for the first.
                if (at + 5 < length) copy[at + 5] = float.NaN;
                if (at + 70 < length) copy[at + 70] = float.PositiveInfinity;
                Assert.True(at == ElementwiseKernels.IndexOfNonFinite(copy), $"{path}, length {length}: expected {at}");
            }
        }
    }
}
