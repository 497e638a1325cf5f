namespace Neurite.Backends;

/// <summary>The activations a backend computes (each as <c>Neurite.Activations</c> defines it).</summary>
internal enum ActivationKind
{
    Linear,
    Relu,
    Sigmoid,
    HardSigmoid,
    Tanh,
    Elu,
    Selu,
    Softplus,
    Swish,
    Gelu,
    /// <summary>Row-wise over the last axis.</summary>
    Softmax,
}
