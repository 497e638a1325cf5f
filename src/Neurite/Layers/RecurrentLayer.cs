using Neurite.Backends;
using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// What <see cref="Lstm"/>, <see cref="Gru"/> and <see cref="SimpleRnn"/> share: Keras's RNN
/// options (returnSequences, returnState, goBackwards, stateful, dropout, recurrentDropout), the
/// carried states, and the dropout masks. The sequence itself runs in a fused core per cell type.
/// </summary>
/// <remarks>
/// Input (B, T, F); output (B, T, U) with returnSequences, else (B, U). A stateful layer keeps
/// the final states of each batch as the initial states of the next (sample i continues sample
/// i), in training and inference alike, until <see cref="ResetStates"/>; its batch size is fixed
/// and no gradient flows into the carried state, so none crosses a batch boundary. With
/// returnState, the final states of the latest call are in <see cref="FinalStates"/> (a
/// <c>Sequential</c> passes only the output on).
/// </remarks>
public abstract class RecurrentLayer : Layer
{
    private readonly BufferCache _output = new(), _inputGradient = new();
    private float[][] _states = [];
    private float[] _inputMask = [], _recurrentMask = [];
    private System.Random? _rng;
    private Backends.IDropoutSampler? _masks;
    private byte[] _keepBits = [];
    private int _stateBatch;
    private bool _lastWasTraining, _backwardDone;
    private Tensor? _lastOutput;

    private protected RecurrentLayer(RecurrentConfig config, int[]? inputShape, int? batchSize, string? name)
        : base(name, inputShape, batchSize)
    {
        string kind = GetType().Name;
        if (config.Units <= 0)
            throw new NeuriteException($"{kind}: units must be a positive integer. Received units={config.Units}.");
        if (!(config.Dropout >= 0 && config.Dropout < 1))
            throw new NeuriteException($"{kind}: dropout must be in [0, 1). Received dropout={config.Dropout}.");
        if (!(config.RecurrentDropout >= 0 && config.RecurrentDropout < 1))
            throw new NeuriteException($"{kind}: recurrentDropout must be in [0, 1). Received recurrentDropout={config.RecurrentDropout}.");
        if (inputShape is not null && inputShape.Length != 2)
            throw new NeuriteException($"{kind}: inputShape must be (timeSteps, features). Received inputShape={ShapeText.Format(inputShape)}. For one feature per step, reshape the data to (samples, timeSteps, 1).");
        Config = config;
        ActivationKind = GateActivations.Parse(config.Activation, "activation");
        RecurrentActivationKind = config.RecurrentActivation is null ? GateActivation.Linear : GateActivations.Parse(config.RecurrentActivation, "recurrentActivation");
    }

    /// <summary>An activation argument as the Keras name the config keeps (null means linear, as in Keras).</summary>
    private protected static string KerasActivation(string? name, string parameterName) => GateActivations.Parse(name, parameterName).KerasName();

    private protected static Initializer KernelDefault(Initializer? given) => given ?? Initializer.Get("glorot_uniform");
    private protected static Initializer RecurrentDefault(Initializer? given) => given ?? Initializer.Get("orthogonal");
    private protected static Initializer BiasDefault(Initializer? given) => given ?? Initializer.Get("zeros");

    public override RecurrentConfig Config { get; }
    public int Units => Config.Units;
    public string Activation => Config.Activation;
    /// <summary>The gates' activation; null for a SimpleRNN, which has no gates.</summary>
    public string? RecurrentActivation => Config.RecurrentActivation;
    public bool UseBias => Config.UseBias;
    public Initializer KernelInitializer => Config.KernelInitializer;
    public Initializer RecurrentInitializer => Config.RecurrentInitializer;
    public Initializer BiasInitializer => Config.BiasInitializer;
    public double Dropout => Config.Dropout;
    public double RecurrentDropout => Config.RecurrentDropout;
    public bool ReturnSequences => Config.ReturnSequences;
    public bool ReturnState => Config.ReturnState;
    public bool GoBackwards => Config.GoBackwards;
    public bool Stateful => Config.Stateful;
    public override bool IsStateful => Stateful;

    internal GateActivation ActivationKind { get; }
    internal GateActivation RecurrentActivationKind { get; }

    /// <summary>Number of state tensors: 2 for an LSTM (h, c), 1 otherwise.</summary>
    private protected abstract int StateCount { get; }

    /// <summary>Gates per unit: the kernel and the recurrent kernel have GateCount × units columns.</summary>
    private protected abstract int GateCount { get; }

    /// <summary>The bias's shape; one value per kernel column unless the cell has more.</summary>
    private protected virtual int[] BiasShape => [GateCount * Units];

    /// <summary>Sets the freshly initialised bias's starting values, for cells with a rule of their own.</summary>
    private protected virtual void InitializeBias(Span<float> bias) { }

    /// <summary>The sequence core for inputs of <paramref name="features"/> features.</summary>
    private protected abstract Backends.IRecurrentCore CreateCore(int features);

    private Backends.IRecurrentCore? _core;
    private Parameter? _kernel, _recurrentKernel, _bias;

    // Set by OnBuild, before any pass can run. Internal for a backend's training strategy (the CPU's halves share LSTM packs).
    internal Backends.IRecurrentCore Core => _core!;
    internal Parameter KernelWeights => _kernel!;
    internal Parameter RecurrentKernelWeights => _recurrentKernel!;

    /// <summary>Creates the weights (kernel, recurrent kernel, bias, in Keras's order) and the sequence core for (T, F) inputs.</summary>
    private void BuildCell(int timeSteps, int features, System.Random rng)
    {
        int columns = GateCount * Units;
        _kernel = AddWeight("kernel", [features, columns], KernelInitializer, rng);
        _recurrentKernel = AddWeight("recurrent_kernel", [Units, columns], RecurrentInitializer, rng);
        if (UseBias)
        {
            _bias = AddWeight("bias", BiasShape, BiasInitializer, rng);
            InitializeBias(_bias.Value.Span);
        }
        _core = CreateCore(features);
        if ((FixedBatchSize ?? DeclaredBatchSize) is int batch) _core.Reserve(batch, timeSteps);
    }

    private void RunForward(int batch, int steps, ReadOnlySpan<float> x, float[][]? initialStates, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask) =>
        Core.RunForward(batch, steps, x, initialStates is null ? default : initialStates[0],
            initialStates is null || StateCount < 2 ? default : initialStates[1],
            KernelWeights.Value.Span, RecurrentKernelWeights.Value.Span, _bias is null ? default : _bias.Value.Span, output, inputMask, recurrentMask);

    /// <summary>Final state <paramref name="index"/> of the latest forward pass, (B, U).</summary>
    private ReadOnlySpan<float> FinalState(int index) => index == 0 ? Core.FinalHidden : Core.FinalCell;

    /// <summary>BPTT of the latest forward; parameter gradients added (the caller clears them), dx skipped when empty.</summary>
    private void RunBackward(ReadOnlySpan<float> dOutput, Span<float> dx) =>
        Core.RunBackward(dOutput, default, default, KernelWeights.Value.Span, RecurrentKernelWeights.Value.Span, dx,
            KernelWeights.Gradient.Span, RecurrentKernelWeights.Gradient.Span, _bias is null ? default : _bias.Gradient.Span, default, default);

    protected sealed override int[] OnBuild(int[] inputShape, System.Random rng)
    {
        if (inputShape.Length != 2)
            throw new ShapeMismatchException($"{ClassName} '{Name}'", "(timeSteps, features)", ShapeText.Format(inputShape, null),
                "Recurrent layers take 3-D input (samples, timeSteps, features); reshape the data, e.g. to (samples, timeSteps, 1) for one series.");
        _rng = rng;
        BuildCell(inputShape[0], inputShape[1], rng);
        return ReturnSequences ? [inputShape[0], Units] : [Units];
    }

    /// <summary>Every weight once per time step (the input shape's first axis).</summary>
    internal override double MultiplyAddsPerRow => (double)CountParams() * InputDims[0];

    public sealed override Tensor Forward(Tensor input, bool training)
    {
        CheckInput(input);
        int batch = input.Shape[0], steps = InputShape[0], features = InputShape[1];
        float[][]? initial = null;
        if (Stateful)
        {
            PrepareCarriedStates(batch);
            initial = _states;
        }
        ReadOnlySpan<float> inputMask = default, recurrentMask = default;
        _lastWasTraining = training;
        if (training && Dropout > 0)
        {
            if (_fixedInputMask is null) SampleMask(ref _inputMask, batch * features, Dropout);
            inputMask = (_fixedInputMask ?? _inputMask).AsSpan(0, batch * features);
        }
        if (training && RecurrentDropout > 0)
        {
            if (_fixedRecurrentMask is null) SampleMask(ref _recurrentMask, batch * Units, RecurrentDropout);
            recurrentMask = (_fixedRecurrentMask ?? _recurrentMask).AsSpan(0, batch * Units);
        }
        var output = _output.Get(batch, OutputDims);
        RunForward(batch, steps, input.Span, initial, output.Span, inputMask, recurrentMask);
        if (Stateful)
            for (int i = 0; i < StateCount; i++) FinalState(i).CopyTo(_states[i]);
        _lastOutput = output;
        _backwardDone = false;
        return output;
    }

    /// <summary>
    /// Backpropagation through the latest training Forward, once per Forward: the LSTM core overwrites
    /// that pass's gates with their gradients (which keeps its cache footprint small), and every
    /// recurrent layer keeps the same rule, as a non-persistent GradientTape gives one gradient.
    /// </summary>
    public sealed override Tensor Backward(Tensor outputGradient)
    {
        if (_lastOutput is null) throw new InvalidOperationException($"{ClassName} '{Name}': Backward was called before Forward.");
        if (!_lastWasTraining)
            throw new InvalidOperationException($"{ClassName} '{Name}': Backward needs the latest Forward to run with training: true.");
        if (_backwardDone)
            throw new InvalidOperationException($"{ClassName} '{Name}': Backward was already run for the latest Forward. Run Forward on the batch again before another Backward.");
        _backwardDone = true;
        int batch = _lastOutput.Shape[0];
        var parameters = Parameters;
        for (int i = 0; i < parameters.Count; i++) parameters[i].Gradient.Span.Clear();
        if (!NeedsInputGradient)
        {
            RunBackward(outputGradient.Span, default);
            return outputGradient;
        }
        var dx = _inputGradient.Get(batch, InputDims);
        RunBackward(outputGradient.Span, dx.Span);
        return dx;
    }

    /// <summary>The final states of the latest call (h, then c for an LSTM), each (B, U): Keras's returnState outputs.</summary>
    public IReadOnlyList<Tensor> FinalStates
    {
        get
        {
            if (_lastOutput is null) throw new InvalidOperationException($"{ClassName} '{Name}' has not run yet, so it has no final states.");
            int batch = _lastOutput.Shape[0];
            var states = new Tensor[StateCount];
            for (int i = 0; i < states.Length; i++) states[i] = new Tensor(FinalState(i).ToArray(), batch, Units);
            return states;
        }
    }

    /// <summary>Copies of the carried states of a stateful layer (h, then c for an LSTM), each (B, U); zeros before the first batch.</summary>
    public IReadOnlyList<Tensor> GetStates()
    {
        RequireStateful(nameof(GetStates));
        HeldBy?.SyncToHost();
        int batch = StateBatchSize();
        PrepareCarriedStates(batch);
        return _states.Select(s => new Tensor((float[])s.Clone(), batch, Units)).ToList();
    }

    /// <summary>Sets the carried states of a stateful layer; each must be (B, U) with the layer's batch size.</summary>
    public void SetStates(IReadOnlyList<Tensor> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        RequireStateful(nameof(SetStates));
        int batch = StateBatchSize();
        if (states.Count != StateCount)
            throw new NeuriteException($"{ClassName} '{Name}' carries {StateCount} state tensor(s) ({(StateCount == 2 ? "h, c" : "h")}), but {states.Count} were given.");
        foreach (var s in states)
            if (s.Rank != 2 || s.Shape[0] != batch || s.Shape[1] != Units)
                throw new ShapeMismatchException($"SetStates of {ClassName} '{Name}'", $"({batch}, {Units})", ShapeText.Format(s.ShapeArray),
                    "Pass one (batchSize, units) tensor per state.");
        var holder = HeldBy;
        holder?.SyncToHost();
        PrepareCarriedStates(batch);
        for (int i = 0; i < StateCount; i++) states[i].Span.CopyTo(_states[i]);
        holder?.HostChanged();
    }

    /// <summary>Zeroes the carried states (Keras's <c>reset_states</c>); the next batch starts fresh.</summary>
    public override void ResetStates()
    {
        var holder = HeldBy;
        holder?.SyncToHost();
        foreach (var s in _states) Array.Clear(s);
        holder?.HostChanged();
    }

    private void RequireStateful(string member)
    {
        if (!Stateful)
            throw new NeuriteException($"{ClassName} '{Name}' is not stateful, so it carries no states for {member}. Create it with stateful: true (and a fixed batchSize), or read FinalStates after a call.");
    }

    private int StateBatchSize() =>
        FixedBatchSize ?? DeclaredBatchSize ?? (_stateBatch > 0 ? _stateBatch : throw new NeuriteException(
            $"{ClassName} '{Name}' is stateful but its batch size is not known yet. Pass batchSize: N to the model's first layer."));

    /// <summary>Allocates zero states on first use and refuses a batch size other than the fixed one.</summary>
    private void PrepareCarriedStates(int batch)
    {
        int expected = FixedBatchSize ?? DeclaredBatchSize ?? (_stateBatch > 0 ? _stateBatch : batch);
        if (batch != expected)
            throw new NeuriteException(
                $"{ClassName} '{Name}' is stateful with batch size {expected}, but received a batch of {batch} samples. " +
                "A stateful layer continues sample i of one batch with sample i of the next, so every batch must have exactly that size: " +
                "make the number of samples a multiple of the batch size, or use Sequential.WithBatchSize to predict with another batch size.");
        if (_stateBatch == batch && _states.Length == StateCount) return;
        _stateBatch = batch;
        _states = new float[StateCount][];
        for (int i = 0; i < StateCount; i++) _states[i] = new float[batch * Units];
    }

    // The same sampler as Dropout's, drawn as keep bits and spread into the float mask the cores multiply by.
    private void SampleMask(ref float[] mask, int length, double rate)
    {
        if (mask.Length < length) mask = new float[length];
        if (_keepBits.Length < (length + 7) / 8) _keepBits = new byte[(length + 7) / 8];
        MasksOrCreate().FillKeepBits(_keepBits, length, rate);
        Backends.Ops.SpreadKeepBits(_keepBits, (float)(1.0 / (1.0 - rate)), mask.AsSpan(0, length));
    }

    /// <summary>Fixed dropout masks used instead of random draws (tests use them for finite-difference checks).</summary>
    internal void UseFixedMasks(float[]? inputMask, float[]? recurrentMask)
    {
        _fixedInputMask = inputMask;
        _fixedRecurrentMask = recurrentMask;
    }

    private float[]? _fixedInputMask, _fixedRecurrentMask;

    internal override bool UsesFixedMasks => _fixedInputMask is not null || _fixedRecurrentMask is not null;

    internal override Backends.IDropoutSampler? MaskSampler
    {
        get => Dropout > 0 || RecurrentDropout > 0 ? MasksOrCreate() : null;
        set => _masks = value;
    }

    private Backends.IDropoutSampler MasksOrCreate() => _masks ??= Backends.Ops.CreateDropoutSampler(_rng ??= NeuriteRandom.Fork());

    /// <summary>Sets up the carried states for batches of <paramref name="batch"/> rows, refusing another size as Forward does.</summary>
    internal void PrepareStatesFor(int batch) => PrepareCarriedStates(batch);

    /// <summary>Carried state <paramref name="index"/> (h, then c) of a stateful layer for batches of <paramref name="batch"/>, (B, U): a backend that keeps it elsewhere while training reads and writes it here.</summary>
    internal float[] CarriedState(int index, int batch)
    {
        PrepareCarriedStates(batch);
        return _states[index];
    }

    /// <summary>
    /// Copies the carried states of rows [<paramref name="firstRow"/>, firstRow + the part's batch) to
    /// <paramref name="part"/>, a weight-sharing copy that trains on those rows, or back from it.
    /// </summary>
    internal void ExchangeStateRows(RecurrentLayer part, int firstRow, bool toPart)
    {
        PrepareCarriedStates(StateBatchSize());
        int partBatch = part.StateBatchSize();
        part.PrepareCarriedStates(partBatch);
        for (int i = 0; i < StateCount; i++)
        {
            var rows = _states[i].AsSpan(firstRow * Units, partBatch * Units);
            if (toPart) rows.CopyTo(part._states[i]);
            else part._states[i].AsSpan(0, partBatch * Units).CopyTo(rows);
        }
    }
}
