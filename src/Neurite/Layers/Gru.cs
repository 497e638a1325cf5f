using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// Keras's <c>GRU</c> (Cho et al. 2014) with Keras's weights: kernel (F, 3U), recurrent_kernel
/// (U, 3U), gate order z, r, h; bias (2, 3U) = [input bias; recurrent bias] with
/// <c>resetAfter</c> (Keras 3's default, cuDNN-compatible), else (3U).
/// </summary>
public sealed class Gru : RecurrentLayer
{
    public Gru(int units, string? activation = "tanh", string? recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        bool resetAfter = true, int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(new GruConfig(units, KerasActivation(activation, nameof(activation)), KerasActivation(recurrentActivation, nameof(recurrentActivation)),
            useBias, KernelDefault(kernelInitializer), RecurrentDefault(recurrentInitializer), BiasDefault(biasInitializer),
            dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful, resetAfter), inputShape, batchSize, name)
    {
    }

    public override string ClassName => "GRU";
    public override GruConfig Config => (GruConfig)base.Config;
    public bool ResetAfter => Config.ResetAfter;
    private protected override int StateCount => 1;

    private protected override int GateCount => 3;

    private protected override int[] BiasShape => ResetAfter ? [2, 3 * Units] : [3 * Units];

    private protected override Backends.IRecurrentCore CreateCore(int features) =>
        Backends.Ops.CreateGru(features, Units, ActivationKind, RecurrentActivationKind, ResetAfter, ReturnSequences, GoBackwards);
}
