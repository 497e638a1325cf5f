namespace Neurite.Layers;

/// <summary>
/// The element-wise functions a recurrent layer may use for <c>activation</c> and
/// <c>recurrentActivation</c>. Each one's derivative is a function of its output, which is what
/// lets the sequence cores keep only activated gates for backpropagation through time.
/// </summary>
internal enum GateActivation
{
    Linear,
    Tanh,
    Sigmoid,
    /// <summary>Keras 2.x's piecewise-linear sigmoid: <c>clip(0.2·x + 0.5, 0, 1)</c>.</summary>
    HardSigmoid,
    Relu,
}

internal static class GateActivations
{
    /// <summary>Reads a Keras activation name (<c>"tanh"</c>, <c>"sigmoid"</c>, <c>"hard_sigmoid"</c>,
    /// <c>"relu"</c>, <c>"linear"</c>; null means linear, as in Keras).</summary>
    public static GateActivation Parse(string? name, string parameterName) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or "linear" or "none" => GateActivation.Linear,
        "tanh" => GateActivation.Tanh,
        "sigmoid" => GateActivation.Sigmoid,
        "hard_sigmoid" or "hardsigmoid" => GateActivation.HardSigmoid,
        "relu" => GateActivation.Relu,
        _ => throw new ArgumentException(
            $"Unknown recurrent activation '{name}' for {parameterName}. Use one of \"tanh\", \"sigmoid\", \"hard_sigmoid\", \"relu\" or \"linear\".",
            parameterName),
    };

    /// <summary>The name Keras writes in a layer config.</summary>
    public static string KerasName(this GateActivation activation) => activation switch
    {
        GateActivation.Linear => "linear",
        GateActivation.Tanh => "tanh",
        GateActivation.Sigmoid => "sigmoid",
        GateActivation.HardSigmoid => "hard_sigmoid",
        GateActivation.Relu => "relu",
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };
}
