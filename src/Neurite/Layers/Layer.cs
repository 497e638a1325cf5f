using System.Runtime.CompilerServices;
using System.Collections.Concurrent;

namespace Neurite.Layers;

/// <summary>
/// A layer with a forward pass and a hand-written backward pass. Shapes given to and reported by a
/// layer exclude the batch axis (Keras's <c>input_shape</c>); the tensors it computes on have it first.
/// </summary>
/// <remarks>
/// Contract: <see cref="Forward"/> returns a buffer the layer owns and reuses for the next call with
/// the same batch size (copy it to keep it); <see cref="Backward"/> receives ∂loss/∂output for the
/// most recent <see cref="Forward"/> in training mode, overwrites every parameter's gradient and
/// returns ∂loss/∂input (also a reused buffer).
/// </remarks>
public abstract class Layer
{
    private static readonly ConcurrentDictionary<string, int> NameCounters = new();
    private readonly List<Parameter> _parameters = [];
    private int[]? _inputShape;
    private int[]? _outputShape;

    protected Layer(string? name, int[]? inputShape, int? batchSize)
    {
        if (inputShape is not null)
            foreach (var d in inputShape)
                if (d <= 0)
                    throw new NeuriteException($"{GetType().Name}: every dimension of inputShape must be a positive integer. Received inputShape={ShapeText.Format(inputShape)}.");
        if (batchSize is <= 0)
            throw new NeuriteException($"{GetType().Name}: batchSize must be a positive integer. Received batchSize={batchSize}.");
        Name = name ?? UniqueName(ToSnakeCase(GetType().Name));
        DeclaredInputShape = inputShape is null ? null : (int[])inputShape.Clone();
        DeclaredBatchSize = batchSize;
    }

    /// <summary>The layer's name, unique in the process unless given (Keras's scheme: dense, dense_1, ...).</summary>
    public string Name { get; }

    /// <summary>Keras's class name, e.g. <c>Dense</c>, <c>LSTM</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The <c>inputShape</c> passed to the constructor (without the batch axis), if any.</summary>
    public IReadOnlyList<int>? DeclaredInputShape { get; }

    /// <summary>The <c>batchSize</c> passed to the constructor (stateful models fix it), if any.</summary>
    public int? DeclaredBatchSize { get; }

    public bool IsBuilt => _outputShape is not null;

    /// <summary>Input shape without the batch axis; known once built.</summary>
    public IReadOnlyList<int> InputShape => _inputShape ?? throw NotBuilt();

    /// <summary>Output shape without the batch axis; known once built.</summary>
    public IReadOnlyList<int> OutputShape => _outputShape ?? throw NotBuilt();

    /// <summary>Input dimensions without the batch axis, for hot paths (no allocation).</summary>
    protected ReadOnlySpan<int> InputDims => _inputShape ?? throw NotBuilt();

    /// <summary>Output dimensions without the batch axis, for hot paths (no allocation).</summary>
    protected ReadOnlySpan<int> OutputDims => _outputShape ?? throw NotBuilt();

    /// <summary>The batch size this layer is fixed to (stateful layers), else null.</summary>
    public int? FixedBatchSize { get; internal set; }

    /// <summary>Weights in Keras's order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>
    /// When false, the optimizer leaves this layer's weights alone (Keras's <c>trainable</c>). A change on a built
    /// model takes effect at the model's next <c>Compile</c>, as in Keras.
    /// </summary>
    public bool Trainable { get; set; } = true;

    /// <summary>True for layers that carry state between batches.</summary>
    public virtual bool IsStateful => false;

    /// <summary>Set by the model: the first layer need not compute ∂loss/∂input.</summary>
    internal bool NeedsInputGradient { get; set; } = true;

    /// <summary>True while tests have fixed this layer's dropout masks; the model then trains the batch whole.</summary>
    internal virtual bool UsesFixedMasks => false;

    /// <summary>
    /// Where this layer draws its training dropout masks, or null when it draws none; a weight-sharing copy that
    /// trains some rows of a batch takes its masks from the whole layer's sampler through this.
    /// </summary>
    internal virtual Backends.IDropoutSampler? MaskSampler
    {
        get => null;
        set { }
    }

    /// <summary>Number of scalar weights.</summary>
    public long CountParams() => _parameters.Sum(p => (long)p.Value.Size);

    /// <summary>
    /// About how many multiply-adds the layer's forward pass costs per batch row once built: each weight used once (a Dense
    /// layer's products); a layer that uses its weights at every time step counts every use. For the training step's
    /// thread rule (<c>Sequential.StepStaysOnOneThread</c>).
    /// </summary>
    internal virtual double MultiplyAddsPerRow => CountParams();

    /// <summary>Creates the weights for inputs of <paramref name="inputShape"/> (no batch axis).</summary>
    public void Build(IReadOnlyList<int> inputShape) => Build(inputShape, null);

    /// <param name="inputShape">The per-sample input shape (no batch axis).</param>
    /// <param name="rng">The generator for the initializers and the layer's own draws; null forks the global one.</param>
    /// <param name="weightsWillBeShared">
    /// The layer is a copy that will take another layer's weight tensors: its own initial values would be thrown
    /// away, and an orthogonal initializer costs milliseconds, so the initializers are skipped.
    /// </param>
    internal void Build(IReadOnlyList<int> inputShape, System.Random? rng, bool weightsWillBeShared = false)
    {
        if (IsBuilt)
        {
            if (!inputShape.SequenceEqual(_inputShape!))
                throw new ShapeMismatchException($"layer '{Name}'", ShapeText.Format(_inputShape!, null), ShapeText.Format(inputShape, null),
                    "A built layer cannot take inputs of another shape; create a new layer.");
            return;
        }
        var shape = inputShape.ToArray();
        _skipInitializers = weightsWillBeShared;
        int[] output;
        try { output = OnBuild(shape, rng ?? NeuriteRandom.Fork()); }
        finally { _skipInitializers = false; }
        _inputShape = shape;
        _outputShape = output;
    }

    // Set by Build for the duration of OnBuild.
    private bool _skipInitializers;

    /// <summary>Creates the parameters (with <see cref="AddWeight"/>) and returns the output shape (no batch axis).</summary>
    protected abstract int[] OnBuild(int[] inputShape, System.Random rng);

    protected Parameter AddWeight(string name, int[] shape, Initializers.Initializer initializer, System.Random rng)
    {
        var value = Tensor.Zeros(shape);
        if (!_skipInitializers) initializer.Fill(value.Span, shape, rng);
        var p = new Parameter(name, value);
        _parameters.Add(p);
        return p;
    }

    /// <summary>Runs the layer on a batch; <paramref name="training"/> turns on dropout and caching for backward.</summary>
    public abstract Tensor Forward(Tensor input, bool training);

    /// <summary>Back-propagates ∂loss/∂output; sets parameter gradients and returns ∂loss/∂input.</summary>
    public abstract Tensor Backward(Tensor outputGradient);

    /// <summary>Clears carried state (stateful recurrent layers); a no-op elsewhere.</summary>
    public virtual void ResetStates() { }

    /// <summary>
    /// The backend's training strategy that keeps this layer's weights (and states) elsewhere while it trains
    /// (e.g. on a device); the layer's own reads and writes go through it, as the model's do.
    /// </summary>
    internal Backends.ITrainingStrategy? HeldBy { get; set; }

    /// <summary>Copies of the weights, in Keras's order and shapes.</summary>
    public IReadOnlyList<Tensor> GetWeights()
    {
        HeldBy?.SyncToHost();
        return _parameters.Select(p => p.Value.Clone()).ToList();
    }

    /// <summary>Replaces the weights; each tensor must have the shape of <see cref="GetWeights"/>'s entry.</summary>
    public void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!IsBuilt)
            throw new NeuriteException($"Layer '{Name}' has no weights yet because it is not built. Give the first layer an inputShape, or call Fit/Build before SetWeights.");
        if (weights.Count != _parameters.Count)
            throw new NeuriteException($"Layer '{Name}' ({ClassName}) has {_parameters.Count} weights ({string.Join(", ", _parameters.Select(p => p.Name + " " + ShapeText.Format(p.Value.ShapeArray)))}), but {weights.Count} were given. Pass them in the order of GetWeights().");
        for (int i = 0; i < weights.Count; i++)
        {
            var p = _parameters[i];
            if (!weights[i].Shape.SequenceEqual(p.Value.Shape))
                throw new ShapeMismatchException($"SetWeights of layer '{Name}', weight '{p.Name}'", ShapeText.Format(p.Value.ShapeArray), ShapeText.Format(weights[i].ShapeArray),
                    "Pass weights in Keras's layout, in the order and shapes GetWeights() returns.");
        }
        var holder = HeldBy;
        holder?.SyncToHost();
        for (int i = 0; i < weights.Count; i++)
            weights[i].Span.CopyTo(_parameters[i].Value.Span);
        OnWeightsChanged();
        holder?.HostChanged();
    }

    /// <summary>
    /// A new, unbuilt layer with the same configuration, fixed to <paramref name="batchSize"/>; the
    /// model shares the weights into it (<see cref="Sequential.WithBatchSize"/>).
    /// </summary>
    protected internal Layer CopyWithBatchSize(int? batchSize) => Config.Create(DeclaredInputShape?.ToArray(), batchSize, Name);

    /// <summary>This layer's options (Keras's <c>get_config</c> less name, trainable and input shape).</summary>
    public abstract LayerConfig Config { get; }

    /// <summary>Makes this layer use <paramref name="source"/>'s weight tensors (same shapes), so updates show in both.</summary>
    internal void ShareWeightsFrom(Layer source)
    {
        for (int i = 0; i < _parameters.Count; i++) _parameters[i].ShareValue(source._parameters[i]);
        OnWeightsChanged();
    }

    /// <summary>Called after weights are replaced from outside (layers that cache packed weights refresh them).</summary>
    protected internal virtual void OnWeightsChanged() { }

    /// <summary>The constructor arguments as Keras names them (for Summary and model files).</summary>
    public IReadOnlyDictionary<string, object?> GetConfig()
    {
        var config = new Dictionary<string, object?> { ["name"] = Name, ["trainable"] = Trainable };
        if (DeclaredInputShape is not null) config["batch_input_shape"] = new int?[] { DeclaredBatchSize }.Concat(DeclaredInputShape.Select(d => (int?)d)).ToArray();
        foreach (var (key, value) in Config.Entries())
            config[key] = value switch { Activations.ActivationFunction f => f.Name, Initializers.Initializer i => i.Name, _ => value };
        return config;
    }

    /// <summary>Resets the name counters, so names start again at e.g. <c>dense</c> (Keras's <c>clear_session</c>).</summary>
    public static void ClearNameCounters() => NameCounters.Clear();

    private static string UniqueName(string prefix)
    {
        int n = NameCounters.AddOrUpdate(prefix, 0, (_, c) => c + 1);
        return n == 0 ? prefix : $"{prefix}_{n}";
    }

    internal static string ToSnakeCase(string name)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private InvalidOperationException NotBuilt([CallerMemberName] string? member = null) =>
        new($"Layer '{Name}' is not built yet, so its {member} is unknown. Give the first layer an inputShape, or call Fit first.");

    /// <summary>Checks the input's per-sample shape against the built input shape.</summary>
    protected void CheckInput(Tensor input)
    {
        // Arrays, not the IReadOnlyList views: this runs on every forward pass.
        var expected = InputDims;
        var shape = input.ShapeArray;
        if (shape.Length != expected.Length + 1 || !shape.AsSpan(1).SequenceEqual(expected))
            throw new ShapeMismatchException($"layer '{Name}' ({ClassName})", ShapeText.Format(InputShape, null), ShapeText.Format(input.Shape),
                "Reshape the input to the layer's input shape, or build the model for the new shape.");
    }
}

/// <summary>Reusable output buffers keyed by batch size, so a steady training loop allocates nothing.</summary>
internal sealed class BufferCache
{
    private readonly Tensor?[] _tensors = new Tensor?[4];
    private int _next;

    public Tensor Get(int batch, ReadOnlySpan<int> rest)
    {
        foreach (var t in _tensors)
            if (t is not null && t.ShapeArray[0] == batch && t.ShapeArray.AsSpan(1).SequenceEqual(rest)) return t;
        var shape = new int[rest.Length + 1];
        shape[0] = batch;
        rest.CopyTo(shape.AsSpan(1));
        var created = Tensor.Zeros(shape);
        _tensors[_next] = created;
        _next = (_next + 1) % _tensors.Length;
        return created;
    }
}
