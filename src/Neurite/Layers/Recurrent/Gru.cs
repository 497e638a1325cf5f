using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// Keras's <c>GRU</c> (Cho et al. 2014) with Keras's weights: kernel (F, 3U), recurrent_kernel
/// (U, 3U), gate order z, r, h; bias (2, 3U) = [input bias; recurrent bias] with
/// <c>resetAfter</c> (Keras 3's default, cuDNN-compatible), else (3U).
/// </summary>
public sealed class Gru : RecurrentLayer
{
    private GruSequence? _core;
    private Parameter? _kernel, _recurrentKernel, _bias;

    public Gru(int units, string? activation = "tanh", string? recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        bool resetAfter = true, int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer,
            dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful, inputShape, batchSize, name)
    {
        ResetAfter = resetAfter;
    }

    public override string ClassName => "GRU";
    public bool ResetAfter { get; }
    private protected override int StateCount => 1;

    private protected override void BuildCell(int timeSteps, int features, System.Random rng)
    {
        int u = Units;
        _kernel = AddWeight("kernel", [features, 3 * u], KernelInitializer, rng);
        _recurrentKernel = AddWeight("recurrent_kernel", [u, 3 * u], RecurrentInitializer, rng);
        if (UseBias) _bias = AddWeight("bias", ResetAfter ? [2, 3 * u] : [3 * u], BiasInitializer, rng);
        _core = new GruSequence(features, u, ActivationKind, RecurrentActivationKind, ResetAfter, ReturnSequences, GoBackwards);
        if ((FixedBatchSize ?? DeclaredBatchSize) is int batch) _core.Reserve(batch, timeSteps);
    }

    private protected override void RunForward(int batch, int steps, ReadOnlySpan<float> x, float[][]? initialStates, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask) =>
        _core!.Forward(batch, steps, x, initialStates is null ? default : initialStates[0],
            _kernel!.Value.Span, _recurrentKernel!.Value.Span, _bias is null ? default : _bias.Value.Span, output, inputMask, recurrentMask);

    private protected override ReadOnlySpan<float> FinalState(int index) => _core!.FinalHidden;

    private protected override void RunBackward(ReadOnlySpan<float> dOutput, Span<float> dx) =>
        _core!.Backward(dOutput, default, _kernel!.Value.Span, _recurrentKernel!.Value.Span, dx,
            _kernel.Gradient.Span, _recurrentKernel.Gradient.Span, _bias is null ? default : _bias.Gradient.Span);

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["reset_after"] = ResetAfter };

    protected internal override Layer CopyWithBatchSize(int? batchSize) =>
        new Gru(Units, Activation, RecurrentActivation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
            Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful, ResetAfter,
            DeclaredInputShape?.ToArray(), batchSize, Name);
}
