namespace Neurite.Activations;

/// <summary>
/// An element-wise (or, for softmax, row-wise) activation with its derivative. Values are laid out
/// as rows of <c>cols</c> entries; softmax normalises each row (the last axis, as Keras does).
/// </summary>
public abstract class ActivationFunction
{
    /// <summary>Keras's identifier, e.g. <c>relu</c>.</summary>
    public abstract string Name { get; }

    /// <summary>a = f(z).</summary>
    public abstract void Forward(ReadOnlySpan<float> z, Span<float> a, int cols);

    /// <summary>dz = da · f'(z), given z, a = f(z) and da; dz may alias da.</summary>
    public abstract void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols);

    /// <summary>True for the identity, so layers can skip the pass.</summary>
    public virtual bool IsLinear => false;

    public override string ToString() => Name;

    public static implicit operator ActivationFunction(string name) => Get(name);

    /// <summary>The names <see cref="Get"/> knows.</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
        ["linear", "relu", "sigmoid", "hard_sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "swish", "gelu"];

    /// <summary>Looks up an activation by its Keras name (null or empty means linear).</summary>
    public static ActivationFunction Get(string? name) => (name ?? "linear").ToLowerInvariant() switch
    {
        "" or "linear" or "none" => Linear.Instance,
        "relu" => Relu.Instance,
        "sigmoid" => Sigmoid.Instance,
        "hard_sigmoid" => HardSigmoid.Instance,
        "tanh" => Tanh.Instance,
        "softmax" => Softmax.Instance,
        "elu" => Elu.Instance,
        "selu" => Selu.Instance,
        "softplus" => Softplus.Instance,
        "swish" or "silu" => Swish.Instance,
        "gelu" => Gelu.Instance,
        _ => throw new NeuriteException($"Unknown activation '{name}'. Use one of: {string.Join(", ", KnownNames)}."),
    };
}

/// <summary>Activations whose derivative at each element depends only on that element.</summary>
public abstract class ElementwiseActivation : ActivationFunction
{
    public abstract float Apply(float z);

    /// <summary>f'(z), given z and a = f(z).</summary>
    public abstract float Derivative(float z, float a);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        for (int i = 0; i < z.Length; i++) a[i] = Apply(z[i]);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        for (int i = 0; i < da.Length; i++) dz[i] = da[i] * Derivative(z[i], a[i]);
    }
}

public sealed class Linear : ElementwiseActivation
{
    public static readonly Linear Instance = new();
    public override string Name => "linear";
    public override bool IsLinear => true;
    public override float Apply(float z) => z;
    public override float Derivative(float z, float a) => 1f;
    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols) => z.CopyTo(a);
    public override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols) => da.CopyTo(dz);
}

/// <summary>max(z, 0); the derivative at 0 is taken as 0, as TensorFlow does.</summary>
public sealed class Relu : ElementwiseActivation
{
    public static readonly Relu Instance = new();
    public override string Name => "relu";
    public override float Apply(float z) => z > 0 ? z : 0f;
    public override float Derivative(float z, float a) => z > 0 ? 1f : 0f;

    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols) => Backends.Ops.Relu(z, a);

    public override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols) =>
        Backends.Ops.ReluBackward(z, da, dz);
}

/// <summary>1 / (1 + e^-z).</summary>
public sealed class Sigmoid : ElementwiseActivation
{
    public static readonly Sigmoid Instance = new();
    public override string Name => "sigmoid";
    public override float Apply(float z) => 1f / (1f + MathF.Exp(-z));
    public override float Derivative(float z, float a) => a * (1f - a);
    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols) => Backends.Ops.Sigmoid(z, a);
}

/// <summary>
/// clip(0.2·z + 0.5, 0, 1): the definition of Keras 2.x, which the tutorial ran on and whose saved
/// recurrent layers use it. (Keras 3 changed hard_sigmoid to relu6(z + 3) / 6.)
/// </summary>
public sealed class HardSigmoid : ElementwiseActivation
{
    public static readonly HardSigmoid Instance = new();
    public override string Name => "hard_sigmoid";
    public override float Apply(float z) => Math.Clamp(0.2f * z + 0.5f, 0f, 1f);
    public override float Derivative(float z, float a) => z > -2.5f && z < 2.5f ? 0.2f : 0f;
}

public sealed class Tanh : ElementwiseActivation
{
    public static readonly Tanh Instance = new();
    public override string Name => "tanh";
    public override float Apply(float z) => MathF.Tanh(z);
    public override float Derivative(float z, float a) => 1f - a * a;
    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols) => Backends.Ops.Tanh(z, a);
}

/// <summary>z for z > 0, else α(e^z − 1) with α = 1.</summary>
public sealed class Elu : ElementwiseActivation
{
    public static readonly Elu Instance = new();
    public override string Name => "elu";
    public override float Apply(float z) => z > 0 ? z : MathF.Exp(z) - 1f;
    public override float Derivative(float z, float a) => z > 0 ? 1f : a + 1f;
}

/// <summary>scale · elu(z, α) with Klambauer et al.'s constants.</summary>
public sealed class Selu : ElementwiseActivation
{
    public static readonly Selu Instance = new();
    private const float Alpha = 1.6732632423543772f;
    private const float Scale = 1.0507009873554805f;
    public override string Name => "selu";
    public override float Apply(float z) => z > 0 ? Scale * z : Scale * Alpha * (MathF.Exp(z) - 1f);
    public override float Derivative(float z, float a) => z > 0 ? Scale : a + Scale * Alpha;
}

/// <summary>log(1 + e^z), computed without overflow.</summary>
public sealed class Softplus : ElementwiseActivation
{
    public static readonly Softplus Instance = new();
    public override string Name => "softplus";
    public override float Apply(float z) => z > 0 ? z + MathF.Log(1f + MathF.Exp(-z)) : MathF.Log(1f + MathF.Exp(z));
    public override float Derivative(float z, float a) => 1f / (1f + MathF.Exp(-z));
}

/// <summary>z · sigmoid(z) (also called SiLU).</summary>
public sealed class Swish : ElementwiseActivation
{
    public static readonly Swish Instance = new();
    public override string Name => "swish";
    public override float Apply(float z) => z / (1f + MathF.Exp(-z));
    public override float Derivative(float z, float a)
    {
        float s = 1f / (1f + MathF.Exp(-z));
        return s + z * s * (1f - s);
    }
}

/// <summary>The exact GELU of Keras's default (approximate = false): z · Φ(z).</summary>
public sealed class Gelu : ElementwiseActivation
{
    public static readonly Gelu Instance = new();
    public override string Name => "gelu";
    public override float Apply(float z) => (float)(0.5 * z * (1.0 + Erf(z / Math.Sqrt(2.0))));
    public override float Derivative(float z, float a)
    {
        double cdf = 0.5 * (1.0 + Erf(z / Math.Sqrt(2.0)));
        double pdf = Math.Exp(-0.5 * z * z) / Math.Sqrt(2.0 * Math.PI);
        return (float)(cdf + z * pdf);
    }

    /// <summary>erf(x) to double accuracy (W. J. Cody's rational approximations via the complementary function).</summary>
    internal static double Erf(double x)
    {
        // Abramowitz–Stegun 7.1.26 is only 1.5e-7; a series/continued fraction keeps float results exact.
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // Maclaurin series: erf(x) = 2/sqrt(pi) Σ (-1)^n x^(2n+1) / (n! (2n+1))
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
            // Continued fraction for erfc(x), convergent for large x.
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (ax + f);
            r = 1.0 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }
}

/// <summary>Softmax over the last axis: a_j = e^(z_j − max z) / Σ_k e^(z_k − max z).</summary>
public sealed class Softmax : ActivationFunction
{
    public static readonly Softmax Instance = new();
    public override string Name => "softmax";

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols)
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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
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
}
