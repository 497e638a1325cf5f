using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// Keras's <c>LSTM</c> (Hochreiter 1997) with Keras's weights: kernel (F, 4U), recurrent_kernel
/// (U, 4U), bias (4U), gate order i, f, c, o. The whole sequence runs in a fused core: one GEMM
/// for all input projections, one GEMM per step, gate math in one SIMD pass, BPTT by hand.
/// </summary>
/// <remarks>
/// <c>recurrentActivation: "hard_sigmoid"</c> is Keras 2.x's clip(0.2x + 0.5, 0, 1), which the
/// tutorial's models ran with. <c>unitForgetBias</c> starts the forget-gate bias at 1.
/// </remarks>
public sealed class Lstm : RecurrentLayer
{
    public Lstm(int units, string? activation = "tanh", string? recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool unitForgetBias = true, double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(new LstmConfig(units, KerasActivation(activation, nameof(activation)), KerasActivation(recurrentActivation, nameof(recurrentActivation)),
            useBias, KernelDefault(kernelInitializer), RecurrentDefault(recurrentInitializer), BiasDefault(biasInitializer), unitForgetBias,
            dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful), inputShape, batchSize, name)
    {
    }

    public override string ClassName => "LSTM";
    public override LstmConfig Config => (LstmConfig)base.Config;
    public bool UnitForgetBias => Config.UnitForgetBias;
    private protected override int StateCount => 2;

    private protected override int GateCount => 4;

    private protected override void InitializeBias(Span<float> bias)
    {
        if (UnitForgetBias) bias.Slice(Units, Units).Fill(1f);
    }

    private protected override Backends.IRecurrentCore CreateCore(int features) =>
        Backends.Ops.CreateLstm(features, Units, ActivationKind, RecurrentActivationKind, ReturnSequences, GoBackwards);
}
