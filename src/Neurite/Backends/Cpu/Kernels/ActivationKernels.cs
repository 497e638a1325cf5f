using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The activations of <see cref="ActivationKind"/>, forward and backward: ReLU, sigmoid and tanh on their SIMD
/// kernels, softmax by rows, the rest one element at a time through a struct per function (inlined, no call per element).
/// </summary>
internal static class ActivationKernels
{
    public static void Forward(ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        switch (kind)
        {
            case ActivationKind.Linear: z.CopyTo(a); break;
            case ActivationKind.Relu: ElementwiseKernels.Relu(z, a); break;
            case ActivationKind.Sigmoid: FastMath.Sigmoid(z, a); break;
            case ActivationKind.Tanh: FastMath.Tanh(z, a); break;
            case ActivationKind.HardSigmoid: Map<HardSigmoid>(z, a); break;
            case ActivationKind.Elu: Map<Elu>(z, a); break;
            case ActivationKind.Selu: Map<Selu>(z, a); break;
            case ActivationKind.Softplus: Map<Softplus>(z, a); break;
            case ActivationKind.Swish: Map<Swish>(z, a); break;
            case ActivationKind.Gelu: Map<Gelu>(z, a); break;
            case ActivationKind.Softmax: Softmax(z, a, cols); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    public static void Backward(ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        switch (kind)
        {
            case ActivationKind.Linear: da.CopyTo(dz); break;
            case ActivationKind.Relu: ElementwiseKernels.ReluBackward(z, da, dz); break;
            case ActivationKind.Sigmoid: MapBackward<Sigmoid>(z, a, da, dz); break;
            case ActivationKind.Tanh: MapBackward<Tanh>(z, a, da, dz); break;
            case ActivationKind.HardSigmoid: MapBackward<HardSigmoid>(z, a, da, dz); break;
            case ActivationKind.Elu: MapBackward<Elu>(z, a, da, dz); break;
            case ActivationKind.Selu: MapBackward<Selu>(z, a, da, dz); break;
            case ActivationKind.Softplus: MapBackward<Softplus>(z, a, da, dz); break;
            case ActivationKind.Swish: MapBackward<Swish>(z, a, da, dz); break;
            case ActivationKind.Gelu: MapBackward<Gelu>(z, a, da, dz); break;
            case ActivationKind.Softmax: SoftmaxBackward(a, da, dz, cols); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>An element-wise function's derivative, given z and a = f(z).</summary>
    private interface IScalarDerivative
    {
        static abstract float Derivative(float z, float a);
    }

    /// <summary>An element-wise function computed one element at a time.</summary>
    private interface IScalarActivation : IScalarDerivative
    {
        static abstract float Apply(float z);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Map<T>(ReadOnlySpan<float> z, Span<float> a) where T : struct, IScalarActivation
    {
        for (int i = 0; i < z.Length; i++) a[i] = T.Apply(z[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MapBackward<T>(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz) where T : struct, IScalarDerivative
    {
        for (int i = 0; i < da.Length; i++) dz[i] = da[i] * T.Derivative(z[i], a[i]);
    }

    /// <summary>a_j = e^(z_j − max z) / Σ_k e^(z_k − max z), per row of <paramref name="cols"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Softmax(ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        for (int r = 0; r < z.Length; r += cols)
        {
            var zr = z.Slice(r, cols);
            var ar = a.Slice(r, cols);
            float max = float.NegativeInfinity;
            foreach (var v in zr) if (v > max) max = v;
            float sum = 0;
            for (int j = 0; j < cols; j++) { ar[j] = MathF.Exp(zr[j] - max); sum += ar[j]; }
            float inv = 1f / sum;
            for (int j = 0; j < cols; j++) ar[j] *= inv;
        }
    }

    /// <remarks>dz_j = a_j (da_j − Σ_k a_k da_k): the Jacobian–vector product of softmax.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxBackward(ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        for (int r = 0; r < a.Length; r += cols)
        {
            var ar = a.Slice(r, cols);
            var dar = da.Slice(r, cols);
            float dot = 0;
            for (int j = 0; j < cols; j++) dot += ar[j] * dar[j];
            var dzr = dz.Slice(r, cols);
            for (int j = 0; j < cols; j++) dzr[j] = ar[j] * (dar[j] - dot);
        }
    }

    // Sigmoid and tanh run forward on FastMath's kernels.
    private struct Sigmoid : IScalarDerivative
    {
        public static float Derivative(float z, float a) => a * (1f - a);
    }

    private struct Tanh : IScalarDerivative
    {
        public static float Derivative(float z, float a) => 1f - a * a;
    }

    /// <summary>Keras 2.x's clip(0.2·z + 0.5, 0, 1).</summary>
    private struct HardSigmoid : IScalarActivation
    {
        public static float Apply(float z) => Math.Clamp(0.2f * z + 0.5f, 0f, 1f);
        public static float Derivative(float z, float a) => z > -2.5f && z < 2.5f ? 0.2f : 0f;
    }

    private struct Elu : IScalarActivation
    {
        public static float Apply(float z) => z > 0 ? z : MathF.Exp(z) - 1f;
        public static float Derivative(float z, float a) => z > 0 ? 1f : a + 1f;
    }

    /// <summary>scale · elu(z, α) with Klambauer et al.'s constants.</summary>
    private struct Selu : IScalarActivation
    {
        private const float Alpha = 1.6732632423543772f;
        private const float Scale = 1.0507009873554805f;
        public static float Apply(float z) => z > 0 ? Scale * z : Scale * Alpha * (MathF.Exp(z) - 1f);
        public static float Derivative(float z, float a) => z > 0 ? Scale : a + Scale * Alpha;
    }

    /// <summary>log(1 + e^z), computed without overflow.</summary>
    private struct Softplus : IScalarActivation
    {
        public static float Apply(float z) => z > 0 ? z + MathF.Log(1f + MathF.Exp(-z)) : MathF.Log(1f + MathF.Exp(z));
        public static float Derivative(float z, float a) => 1f / (1f + MathF.Exp(-z));
    }

    private struct Swish : IScalarActivation
    {
        public static float Apply(float z) => z / (1f + MathF.Exp(-z));
        public static float Derivative(float z, float a)
        {
            float s = 1f / (1f + MathF.Exp(-z));
            return s + z * s * (1f - s);
        }
    }

    /// <summary>The exact GELU (Keras's approximate = false): z · Φ(z).</summary>
    private struct Gelu : IScalarActivation
    {
        public static float Apply(float z) => (float)(0.5 * z * (1.0 + Erf(z / Math.Sqrt(2.0))));
        public static float Derivative(float z, float a)
        {
            double cdf = 0.5 * (1.0 + Erf(z / Math.Sqrt(2.0)));
            double pdf = Math.Exp(-0.5 * z * z) / Math.Sqrt(2.0 * Math.PI);
            return (float)(cdf + z * pdf);
        }
    }

    /// <summary>erf(x) to double accuracy: its Maclaurin series below 2.5, the continued fraction of erfc above.</summary>
    private static double Erf(double x)
    {
        // Abramowitz–Stegun 7.1.26 is only 1.5e-7; a series/continued fraction keeps float results exact.
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // erf(x) = 2/sqrt(pi) Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (ax + f);
            r = 1.0 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }
}
