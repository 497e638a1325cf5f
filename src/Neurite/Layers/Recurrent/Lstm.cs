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
    private LstmSequence? _core;
    private Parameter? _kernel, _recurrentKernel, _bias;

    public Lstm(int units, string? activation = "tanh", string? recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool unitForgetBias = true, double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer,
            dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful, inputShape, batchSize, name)
    {
        UnitForgetBias = unitForgetBias;
    }

    public override string ClassName => "LSTM";
    public bool UnitForgetBias { get; }
    private protected override int StateCount => 2;

    private protected override void BuildCell(int timeSteps, int features, System.Random rng)
    {
        int u = Units;
        _kernel = AddWeight("kernel", [features, 4 * u], KernelInitializer, rng);
        _recurrentKernel = AddWeight("recurrent_kernel", [u, 4 * u], RecurrentInitializer, rng);
        if (UseBias)
        {
            _bias = AddWeight("bias", [4 * u], BiasInitializer, rng);
            if (UnitForgetBias) _bias.Value.Span.Slice(u, u).Fill(1f);
        }
        _core = new LstmSequence(features, u, ActivationKind, RecurrentActivationKind, ReturnSequences, GoBackwards);
        if ((FixedBatchSize ?? DeclaredBatchSize) is int batch) _core.Reserve(batch, timeSteps);
    }

    private protected override void RunForward(int batch, int steps, ReadOnlySpan<float> x, float[][]? initialStates, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask) =>
        _core!.Forward(batch, steps, x, initialStates is null ? default : initialStates[0], initialStates is null ? default : initialStates[1],
            _kernel!.Value.Span, _recurrentKernel!.Value.Span, _bias is null ? default : _bias.Value.Span, output, inputMask, recurrentMask);

    /// <summary>New packs for this layer's weights, to be shared by its weight-sharing copies (<see cref="UseSharedPacks"/>).</summary>
    internal SharedLstmPacks CreateSharedPacks() => new(InputShape[1], Units);

    /// <summary>Makes this layer's passes read <paramref name="packs"/> while they are ready.</summary>
    internal void UseSharedPacks(SharedLstmPacks packs) => _core!.Shared = packs;

    /// <summary>Packs piece <paramref name="piece"/> (see <see cref="SharedLstmPacks.Pack"/>) of this layer's current weights.</summary>
    internal void PackShared(SharedLstmPacks packs, int piece) =>
        packs.Pack(piece, _kernel!.Value.Span, _recurrentKernel!.Value.Span, NeedsInputGradient);

    private protected override ReadOnlySpan<float> FinalState(int index) => index == 0 ? _core!.FinalHidden : _core!.FinalCell;

    private protected override void RunBackward(ReadOnlySpan<float> dOutput, Span<float> dx) =>
        _core!.Backward(dOutput, default, default, _kernel!.Value.Span, _recurrentKernel!.Value.Span, dx,
            _kernel.Gradient.Span, _recurrentKernel.Gradient.Span, _bias is null ? default : _bias.Gradient.Span);

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["unit_forget_bias"] = UnitForgetBias };

    protected internal override Layer CopyWithBatchSize(int? batchSize) =>
        new Lstm(Units, Activation, RecurrentActivation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
            UnitForgetBias, Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful,
            DeclaredInputShape?.ToArray(), batchSize, Name);
}
