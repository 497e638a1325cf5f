using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// Keras's <c>SimpleRNN</c>: h' = activation(x·kernel + h·recurrent_kernel + bias), with kernel
/// (F, U), recurrent_kernel (U, U), bias (U).
/// </summary>
public sealed class SimpleRnn : RecurrentLayer
{
    public SimpleRnn(int units, string? activation = "tanh", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(new SimpleRnnConfig(units, KerasActivation(activation, nameof(activation)), useBias,
            KernelDefault(kernelInitializer), RecurrentDefault(recurrentInitializer), BiasDefault(biasInitializer),
            dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful), inputShape, batchSize, name)
    {
    }

    public override string ClassName => "SimpleRNN";
    public override SimpleRnnConfig Config => (SimpleRnnConfig)base.Config;
    private protected override int StateCount => 1;

    private protected override int GateCount => 1;

    private protected override Backends.IRecurrentCore CreateCore(int features) =>
        Backends.Ops.CreateSimpleRnn(features, Units, ActivationKind, ReturnSequences, GoBackwards);
}
