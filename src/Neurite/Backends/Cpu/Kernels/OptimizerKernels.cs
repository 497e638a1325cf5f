using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The optimizers' updates other than plain Adam's (which is vectorised in <see cref="ElementwiseKernels.AdamUpdate"/>)
/// and the gradient clipping they share; see <see cref="IBackend"/> for each formula.
/// </summary>
internal static class OptimizerKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Amsgrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float eps)
    {
        for (int j = 0; j < value.Length; j++)
        {
            float g = gradient[j];
            m[j] = ElementwiseKernels.FlushDenormal(m[j] + (g - m[j]) * b1);
            v[j] = ElementwiseKernels.FlushDenormal(v[j] + (g * g - v[j]) * b2);
            vhat[j] = MathF.Max(vhat[j], v[j]);
            value[j] -= alpha * m[j] / (MathF.Sqrt(vhat[j]) + eps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sgd(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float lr, float mu, bool nesterov)
    {
        if (mu == 0)
        {
            for (int i = 0; i < value.Length; i++) value[i] -= lr * gradient[i];
            return;
        }
        for (int i = 0; i < value.Length; i++)
        {
            velocity[i] = mu * velocity[i] - lr * gradient[i];
            value[i] += nesterov ? mu * velocity[i] - lr * gradient[i] : velocity[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsProp(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float lr, float rho, float eps, float mu, bool centered)
    {
        for (int i = 0; i < value.Length; i++)
        {
            float g = gradient[i];
            s[i] = rho * s[i] + (1 - rho) * g * g;
            float denominator = s[i];
            if (centered)
            {
                average[i] = rho * average[i] + (1 - rho) * g;
                denominator -= average[i] * average[i];
            }
            float increment = lr * g / MathF.Sqrt(denominator + eps);
            if (mu > 0)
            {
                velocity[i] = mu * velocity[i] + increment;
                value[i] -= velocity[i];
            }
            else value[i] -= increment;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adagrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float lr, float eps)
    {
        for (int i = 0; i < value.Length; i++)
        {
            float g = gradient[i];
            accumulator[i] += g * g;
            value[i] -= lr * g / MathF.Sqrt(accumulator[i] + eps);
        }
    }

    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        double s = 0;
        foreach (var x in values) s += (double)x * x;
        return s;
    }

    public static void Scale(Span<float> values, float factor)
    {
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    public static void ClampSymmetric(Span<float> values, float limit)
    {
        for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], -limit, limit);
    }
}
