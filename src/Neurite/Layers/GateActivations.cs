using Neurite.Backends;

namespace Neurite.Layers;

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
