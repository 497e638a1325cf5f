using Neurite.Backends;

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

/// <summary>
/// Activations whose derivative at each element depends only on that element. A subclass of one's own
/// defines <see cref="Apply"/> and <see cref="Derivative"/>; Neurite's own run on the backend.
/// </summary>
public abstract class ElementwiseActivation : ActivationFunction
{
    public abstract float Apply(float z);

    /// <summary>f'(z), given z and a = f(z).</summary>
    public abstract float Derivative(float z, float a);

    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        for (int i = 0; i < z.Length; i++) a[i] = Apply(z[i]);
    }

    public override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        for (int i = 0; i < da.Length; i++) dz[i] = da[i] * Derivative(z[i], a[i]);
    }
}

/// <summary>
/// One of Neurite's element-wise activations: the backend computes it (whole spans; <see cref="Apply"/> and
/// <see cref="Derivative"/> as spans of one, so they give the same bits as a layer's pass).
/// </summary>
public abstract class BuiltInActivation : ElementwiseActivation
{
    private protected BuiltInActivation(ActivationKind kind) => Kind = kind;

    internal ActivationKind Kind { get; }

    public sealed override float Apply(float z)
    {
        float a = 0;
        Ops.ActivationForward(Kind, new ReadOnlySpan<float>(in z), new Span<float>(ref a), 1);
        return a;
    }

    public sealed override float Derivative(float z, float a)
    {
        float one = 1f, dz = 0;
        Ops.ActivationBackward(Kind, new ReadOnlySpan<float>(in z), new ReadOnlySpan<float>(in a), new ReadOnlySpan<float>(in one), new Span<float>(ref dz), 1);
        return dz;
    }

    public sealed override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols) => Ops.ActivationForward(Kind, z, a, cols);

    public sealed override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols) =>
        Ops.ActivationBackward(Kind, z, a, da, dz, cols);
}

public sealed class Linear() : BuiltInActivation(ActivationKind.Linear)
{
    public static readonly Linear Instance = new();
    public override string Name => "linear";
    public override bool IsLinear => true;
}

/// <summary>max(z, 0); the derivative at 0 is taken as 0, as TensorFlow does.</summary>
public sealed class Relu() : BuiltInActivation(ActivationKind.Relu)
{
    public static readonly Relu Instance = new();
    public override string Name => "relu";
}

/// <summary>1 / (1 + e^-z).</summary>
public sealed class Sigmoid() : BuiltInActivation(ActivationKind.Sigmoid)
{
    public static readonly Sigmoid Instance = new();
    public override string Name => "sigmoid";
}

/// <summary>
/// clip(0.2·z + 0.5, 0, 1): the definition of Keras 2.x, which the tutorial ran on and whose saved
/// recurrent layers use it. (Keras 3 changed hard_sigmoid to relu6(z + 3) / 6.)
/// </summary>
public sealed class HardSigmoid() : BuiltInActivation(ActivationKind.HardSigmoid)
{
    public static readonly HardSigmoid Instance = new();
    public override string Name => "hard_sigmoid";
}

public sealed class Tanh() : BuiltInActivation(ActivationKind.Tanh)
{
    public static readonly Tanh Instance = new();
    public override string Name => "tanh";
}

/// <summary>z for z > 0, else α(e^z − 1) with α = 1.</summary>
public sealed class Elu() : BuiltInActivation(ActivationKind.Elu)
{
    public static readonly Elu Instance = new();
    public override string Name => "elu";
}

/// <summary>scale · elu(z, α) with Klambauer et al.'s constants (α ≈ 1.6733, scale ≈ 1.0507).</summary>
public sealed class Selu() : BuiltInActivation(ActivationKind.Selu)
{
    public static readonly Selu Instance = new();
    public override string Name => "selu";
}

/// <summary>log(1 + e^z), computed without overflow.</summary>
public sealed class Softplus() : BuiltInActivation(ActivationKind.Softplus)
{
    public static readonly Softplus Instance = new();
    public override string Name => "softplus";
}

/// <summary>z · sigmoid(z) (also called SiLU).</summary>
public sealed class Swish() : BuiltInActivation(ActivationKind.Swish)
{
    public static readonly Swish Instance = new();
    public override string Name => "swish";
}

/// <summary>The exact GELU of Keras's default (approximate = false): z · Φ(z).</summary>
public sealed class Gelu() : BuiltInActivation(ActivationKind.Gelu)
{
    public static readonly Gelu Instance = new();
    public override string Name => "gelu";
}

/// <summary>Softmax over the last axis: a_j = e^(z_j − max z) / Σ_k e^(z_k − max z).</summary>
public sealed class Softmax : ActivationFunction
{
    public static readonly Softmax Instance = new();
    public override string Name => "softmax";

    public override void Forward(ReadOnlySpan<float> z, Span<float> a, int cols) => Ops.ActivationForward(ActivationKind.Softmax, z, a, cols);

    /// <remarks>dz_j = a_j (da_j − Σ_k a_k da_k): the Jacobian–vector product of softmax.</remarks>
    public override void Backward(ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols) =>
        Ops.ActivationBackward(ActivationKind.Softmax, z, a, da, dz, cols);
}
