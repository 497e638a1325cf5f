using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// Keras's <c>SimpleRNN</c>: h' = activation(x·kernel + h·recurrent_kernel + bias), with kernel
/// (F, U), recurrent_kernel (U, U), bias (U).
/// </summary>
public sealed class SimpleRnn : RecurrentLayer
{
    private SimpleRnnSequence? _core;
    private Parameter? _kernel, _recurrentKernel, _bias;

    public SimpleRnn(int units, string? activation = "tanh", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(units, activation, "sigmoid", useBias, kernelInitializer, recurrentInitializer, biasInitializer,
            dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful, inputShape, batchSize, name)
    {
    }

    public override string ClassName => "SimpleRNN";
    private protected override int StateCount => 1;

    private protected override void BuildCell(int timeSteps, int features, System.Random rng)
    {
        int u = Units;
        _kernel = AddWeight("kernel", [features, u], KernelInitializer, rng);
        _recurrentKernel = AddWeight("recurrent_kernel", [u, u], RecurrentInitializer, rng);
        if (UseBias) _bias = AddWeight("bias", [u], BiasInitializer, rng);
        _core = new SimpleRnnSequence(features, u, ActivationKind, ReturnSequences, GoBackwards);
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

    public override IReadOnlyDictionary<string, object?> GetConfig()
    {
        var config = new Dictionary<string, object?>(base.GetConfig());
        config.Remove("recurrent_activation");
        return config;
    }

    protected internal override Layer CopyWithBatchSize(int? batchSize) =>
        new SimpleRnn(Units, Activation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
            Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful,
            DeclaredInputShape?.ToArray(), batchSize, Name);
}
