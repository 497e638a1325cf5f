using ILGPU;

namespace Neurite.Cuda.Kernels;

/// <summary>Weight updates, one thread per weight, in the CPU optimizers' formulas (<c>Neurite.Optimizers</c>).</summary>
internal static class OptimizerKernels
{
    /// <summary>SGD: w −= lr·g; with momentum m = μ·m − lr·g and w += m (Nesterov: w += μ·m − lr·g).</summary>
    public static void Sgd(Index1D i, ArrayView<float> value, ArrayView<float> gradient, ArrayView<float> momentum,
        float learningRate, float mu, int nesterov)
    {
        float g = gradient[i];
        if (mu == 0f)
        {
            value[i] -= learningRate * g;
            return;
        }
        float m = mu * momentum[i] - learningRate * g;
        momentum[i] = m;
        value[i] += nesterov != 0 ? mu * m - learningRate * g : m;
    }

    /// <summary>Adam with α bias-corrected on the host and b1 = 1 − β1, b2 = 1 − β2 (the CPU's <c>AdamUpdate</c>).</summary>
    public static void Adam(Index1D i, ArrayView<float> value, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
        float alpha, float b1, float b2, float epsilon)
    {
        float g = gradient[i];
        float mi = DeviceMath.FlushDenormal(m[i] + (g - m[i]) * b1);
        float vi = DeviceMath.FlushDenormal(v[i] + (g * g - v[i]) * b2);
        m[i] = mi;
        v[i] = vi;
        value[i] -= alpha * mi / (MathF.Sqrt(vi) + epsilon);
    }

    /// <summary>RMSprop: s = ρs + (1−ρ)g²; w −= lr·g/√(s + ε) (centered and momentum as Keras).</summary>
    public static void RmsProp(Index1D i, ArrayView<float> value, ArrayView<float> gradient, ArrayView<float> s, ArrayView<float> momentum,
        ArrayView<float> average, float learningRate, float rho, float epsilon, float mu, int centered)
    {
        float g = gradient[i];
        float si = rho * s[i] + (1 - rho) * g * g;
        s[i] = si;
        float denominator = si;
        if (centered != 0)
        {
            float avg = rho * average[i] + (1 - rho) * g;
            average[i] = avg;
            denominator -= avg * avg;
        }
        float increment = learningRate * g / MathF.Sqrt(denominator + epsilon);
        if (mu > 0f)
        {
            float mom = mu * momentum[i] + increment;
            momentum[i] = mom;
            value[i] -= mom;
        }
        else value[i] -= increment;
    }
}
