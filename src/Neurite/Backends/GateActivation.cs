namespace Neurite.Backends;

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
