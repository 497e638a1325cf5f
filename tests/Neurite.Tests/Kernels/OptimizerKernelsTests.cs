using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// SGD (with and without momentum, Nesterov), RMSprop (plain, centered, with momentum), Adagrad and AMSGrad on every kernel
/// path, every length up to a few vectors of the widest path and a few large ones: each element must get the bits of its
/// update written out here from the formulas in IBackend, in scalar floats, and elements past the length stay untouched.
/// </summary>
public class OptimizerKernelsTests
{
    private const float SmallestNormal = 1.17549435e-38f;
    private static readonly int[] Lengths = [.. Enumerable.Range(0, 71), 1000, 4099, 65_536 + 13];
    private const int Guard = 3;

    private static float Flushed(float x) => MathF.Abs(x) < SmallestNormal ? 0f : x;

    /// <summary>IEEE maximum as MathF.Max defines it, written out: NaN from either side, +0 over −0.</summary>
    private static float IeeeMax(float a, float b)
    {
        if (float.IsNaN(a)) return a;
        if (float.IsNaN(b)) return b;
        if (a == b) return float.IsNegative(a) ? b : a;
        return a > b ? a : b;
    }

    /// <summary>Arrays of <paramref name="count"/> values: several magnitudes and signs, zeros of both signs, and (unless
    /// <paramref name="positive"/>) a NaN, infinities and denormals at fixed positions.</summary>
    private static float[] Values(int count, int seed, bool positive = false)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double magnitude = random.NextDouble() * Math.Pow(10, random.Next(-6, 3));
            values[i] = (float)(positive ? magnitude : random.Next(2) == 0 ? magnitude : -magnitude);
            switch (i % 11)
            {
                case 0: values[i] = 0f; break;
                case 1: values[i] = positive ? 0f : -0f; break;
                case 2: values[i] = positive ? 3e-39f : -3e-39f; break;
                case 3 when !positive && i % 22 == 3: values[i] = float.NaN; break;
                case 4 when !positive && i % 33 == 4: values[i] = float.PositiveInfinity; break;
                default: break;
            }
        }
        return values;
    }

    private static void AssertSameBits(float expected, float actual, string what)
    {
        bool same = float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual);
        Assert.True(same, $"{what}: got {actual:R} (0x{BitConverter.SingleToInt32Bits(actual):X8}), expected {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):X8})");
    }

    private static void AssertArrays(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) AssertSameBits(expected[i], actual[i], $"{what}[{i}]");
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void SgdGivesTheBitsOfItsDefinition(KernelPath path)
    {
        using var forced = KernelPaths.Force(path);
        const float lr = 0.0123f, mu = 0.9f;
        foreach (int n in Lengths)
        {
            var w = Values(n + Guard, 100 + n);
            var g = Values(n + Guard, 200 + n);
            var expected = (float[])w.Clone();
            for (int i = 0; i < n; i++) expected[i] = w[i] - lr * g[i];
            var actual = (float[])w.Clone();
            OptimizerKernels.Sgd(actual.AsSpan(0, n), g.AsSpan(0, n), default, lr, 0f, nesterov: false);
            AssertArrays(expected, actual, $"{path} SGD, length {n}: w");

            foreach (bool nesterov in new[] { false, true })
            {
                var u = Values(n + Guard, 300 + n);
                float[] ew = (float[])w.Clone(), eu = (float[])u.Clone();
                for (int i = 0; i < n; i++)
                {
                    eu[i] = mu * u[i] - lr * g[i];
                    ew[i] = w[i] + (nesterov ? mu * eu[i] - lr * g[i] : eu[i]);
                }
                float[] aw = (float[])w.Clone(), au = (float[])u.Clone();
                OptimizerKernels.Sgd(aw.AsSpan(0, n), g.AsSpan(0, n), au.AsSpan(0, n), lr, mu, nesterov);
                string what = $"{path} SGD momentum{(nesterov ? " Nesterov" : "")}, length {n}";
                AssertArrays(eu, au, what + ": velocity");
                AssertArrays(ew, aw, what + ": w");
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void RmsPropGivesTheBitsOfItsDefinitionInEveryVariant(KernelPath path)
    {
        using var forced = KernelPaths.Force(path);
        const float lr = 0.00321f, rho = 0.9f, eps = 1e-7f;
        foreach (float mu in new[] { 0f, 0.5f })
            foreach (bool centered in new[] { false, true })
                foreach (int n in Lengths)
                {
                    var w = Values(n + Guard, 400 + n);
                    var g = Values(n + Guard, 500 + n);
                    var s = Values(n + Guard, 600 + n, positive: true);
                    var u = Values(n + Guard, 700 + n);
                    var avg = Values(n + Guard, 800 + n);
                    float[] ew = (float[])w.Clone(), es = (float[])s.Clone(), eu = (float[])u.Clone(), ea = (float[])avg.Clone();
                    for (int i = 0; i < n; i++)
                    {
                        es[i] = rho * s[i] + (1 - rho) * g[i] * g[i];
                        float denominator = es[i];
                        if (centered)
                        {
                            ea[i] = rho * avg[i] + (1 - rho) * g[i];
                            denominator -= ea[i] * ea[i];
                        }
                        float increment = lr * g[i] / MathF.Sqrt(denominator + eps);
                        if (mu > 0)
                        {
                            eu[i] = mu * u[i] + increment;
                            ew[i] = w[i] - eu[i];
                        }
                        else ew[i] = w[i] - increment;
                    }
                    float[] aw = (float[])w.Clone(), as_ = (float[])s.Clone(), au = (float[])u.Clone(), aa = (float[])avg.Clone();
                    OptimizerKernels.RmsProp(aw.AsSpan(0, n), g.AsSpan(0, n), as_.AsSpan(0, n), au.AsSpan(0, n), aa.AsSpan(0, n), lr, rho, eps, mu, centered);
                    string what = $"{path} RMSprop mu={mu} centered={centered}, length {n}";
                    AssertArrays(es, as_, what + ": s");
                    AssertArrays(ea, aa, what + ": average");
                    AssertArrays(eu, au, what + ": velocity");
                    AssertArrays(ew, aw, what + ": w");
                }
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void AdagradGivesTheBitsOfItsDefinition(KernelPath path)
    {
        using var forced = KernelPaths.Force(path);
        const float lr = 0.05f, eps = 1e-7f;
        foreach (int n in Lengths)
        {
            var w = Values(n + Guard, 900 + n);
            var g = Values(n + Guard, 1000 + n);
            var a = Values(n + Guard, 1100 + n, positive: true);
            float[] ew = (float[])w.Clone(), ea = (float[])a.Clone();
            for (int i = 0; i < n; i++)
            {
                ea[i] = a[i] + g[i] * g[i];
                ew[i] = w[i] - lr * g[i] / MathF.Sqrt(ea[i] + eps);
            }
            float[] aw = (float[])w.Clone(), aa = (float[])a.Clone();
            OptimizerKernels.Adagrad(aw.AsSpan(0, n), g.AsSpan(0, n), aa.AsSpan(0, n), lr, eps);
            AssertArrays(ea, aa, $"{path} Adagrad, length {n}: accumulator");
            AssertArrays(ew, aw, $"{path} Adagrad, length {n}: w");
        }
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void AmsgradGivesTheBitsOfItsDefinition(KernelPath path)
    {
        using var forced = KernelPaths.Force(path);
        const float alpha = 1.2345e-3f, b1 = 0.1f, b2 = 1e-3f, eps = 1e-7f;
        foreach (int n in Lengths)
        {
            var w = Values(n + Guard, 1200 + n);
            var g = Values(n + Guard, 1300 + n);
            var m = Values(n + Guard, 1400 + n);
            var v = Values(n + Guard, 1500 + n, positive: true);
            var vhat = Values(n + Guard, 1600 + n, positive: true);
            // A NaN maximum from an earlier step must stay NaN (MathF.Max keeps it), whatever the new moment.
            if (n > 5) vhat[5] = float.NaN;
            float[] ew = (float[])w.Clone(), em = (float[])m.Clone(), ev = (float[])v.Clone(), eh = (float[])vhat.Clone();
            for (int i = 0; i < n; i++)
            {
                em[i] = Flushed(m[i] + (g[i] - m[i]) * b1);
                ev[i] = Flushed(v[i] + (g[i] * g[i] - v[i]) * b2);
                eh[i] = IeeeMax(vhat[i], ev[i]);
                ew[i] = w[i] - alpha * em[i] / (MathF.Sqrt(eh[i]) + eps);
            }
            float[] aw = (float[])w.Clone(), am = (float[])m.Clone(), av = (float[])v.Clone(), ah = (float[])vhat.Clone();
            OptimizerKernels.Amsgrad(aw.AsSpan(0, n), g.AsSpan(0, n), am.AsSpan(0, n), av.AsSpan(0, n), ah.AsSpan(0, n), alpha, b1, b2, eps);
            string what = $"{path} AMSGrad, length {n}";
            AssertArrays(em, am, what + ": m");
            AssertArrays(ev, av, what + ": v");
            AssertArrays(eh, ah, what + ": vhat");
            AssertArrays(ew, aw, what + ": w");
        }
    }

    [Fact]
    public void UpdatesRefuseStateShorterThanTheWeight()
    {
        float[] four = new float[4], three = new float[3];
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Sgd(four, three, default, 0.1f, 0f, false));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Sgd(four, four, three, 0.1f, 0.9f, false));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.RmsProp(four, four, three, four, four, 0.1f, 0.9f, 1e-7f, 0f, false));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.RmsProp(four, four, four, three, four, 0.1f, 0.9f, 1e-7f, 0.5f, false));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.RmsProp(four, four, four, four, three, 0.1f, 0.9f, 1e-7f, 0f, true));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Adagrad(four, four, three, 0.1f, 1e-7f));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Amsgrad(four, four, four, four, three, 0.1f, 0.1f, 1e-3f, 1e-7f));
    }
}
