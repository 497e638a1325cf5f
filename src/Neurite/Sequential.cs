using System.Globalization;
using Neurite.Callbacks;
using Neurite.Layers;
using Neurite.Losses;
using Neurite.Metrics;
using Neurite.Optimizers;

namespace Neurite;

/// <summary>
/// A linear stack of layers with Keras's training API: <c>Compile</c>, <c>Fit</c>, <c>Evaluate</c>,
/// <c>Predict</c>, <c>Summary</c>, <c>ResetStates</c>.
/// </summary>
public sealed partial class Sequential
{
    private static int _modelCounter = -1;
    private readonly List<Layer> _layers = [];
    private readonly List<Parameter> _trainable = [];
    private readonly BatchBuffers _trainBuffers = new(), _testBuffers = new();
    private float[] _lossGradient = [];
    private List<Metric> _metrics = [];

    public Sequential(params Layer[] layers) : this(layers, null) { }

    public Sequential(IEnumerable<Layer> layers, string? name = null)
    {
        // As in Keras, only an unnamed model takes the next default name (so named copies take none).
        Name = name ?? NextDefaultName();
        foreach (var layer in layers) Add(layer);
    }

    private static string NextDefaultName()
    {
        int n = Interlocked.Increment(ref _modelCounter);
        return n == 0 ? "sequential" : $"sequential_{n}";
    }

    public string Name { get; }

    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Where progress, Summary (by default) and warnings are written; Console.Out unless set.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <summary>Set by a callback to end <see cref="Fit"/> after the current batch.</summary>
    public bool StopTraining { get; set; }

    public Loss? Loss { get; private set; }
    public Optimizer? Optimizer { get; private set; }
    public IReadOnlyList<Metric> Metrics => _metrics;
    public bool IsCompiled => Loss is not null && Optimizer is not null;
    public bool IsBuilt => _layers.Count > 0 && _layers[^1].IsBuilt;

    /// <summary>True when a layer carries state between batches; the batch size is then fixed.</summary>
    public bool IsStateful
    {
        get
        {
            // A loop, not LINQ: Evaluate asks once per call, so Fit once per epoch.
            for (int i = 0; i < _layers.Count; i++) if (_layers[i].IsStateful) return true;
            return false;
        }
    }

    /// <summary>The batch size fixed by the first layer's <c>batchSize</c> argument, if any.</summary>
    public int? FixedBatchSize => _layers.Count > 0 ? _layers[0].DeclaredBatchSize : null;

    /// <summary>Adds a layer on top; builds it at once if the input shape is known.</summary>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer))
            throw new NeuriteException($"Layer '{layer.Name}' is already in model '{Name}'. Create a new layer to stack another one.");
        if (_layers.Count == 0 && layer.DeclaredInputShape is not null)
        {
            _layers.Add(layer);
            BuildFrom(0);
            return;
        }
        if (_layers.Count > 0 && layer.DeclaredInputShape is not null && _layers[^1].IsBuilt && !layer.DeclaredInputShape.SequenceEqual(_layers[^1].OutputShape))
            throw new ShapeMismatchException($"adding layer '{layer.Name}'", ShapeText.Format(_layers[^1].OutputShape, null), ShapeText.Format(layer.DeclaredInputShape, null),
                "Only the first layer needs inputShape; remove it from later layers.");
        _layers.Add(layer);
        if (_layers.Count > 1 && _layers[^2].IsBuilt) BuildFrom(_layers.Count - 1);
    }

    /// <summary>Builds the model for inputs of <paramref name="inputShape"/> (without the batch axis).</summary>
    public void Build(IReadOnlyList<int> inputShape)
    {
        if (_layers.Count == 0)
            throw new NeuriteException($"Model '{Name}' cannot be built because it has no layers. Call model.Add(layer) first.");
        if (_layers[0].IsBuilt)
        {
            if (!_layers[0].InputShape.SequenceEqual(inputShape))
                throw new ShapeMismatchException($"model '{Name}'", ShapeText.Format(_layers[0].InputShape, null), ShapeText.Format(inputShape, null),
                    $"Give inputs with {DescribeInput(_layers[0].InputShape)} per sample, as the model was built for.");
            BuildFrom(1);
            return;
        }
        _layers[0].Build(inputShape);
        BuildFrom(1);
    }

    // Set on a weight-sharing copy while CopySharingWeights builds it: its layers skip their initializers and,
    // when a generator is given, draw from it instead of forking the global one.
    private (bool WeightsWillBeShared, System.Random? Generator) _copyBuild;

    private void BuildFrom(int start)
    {
        for (int i = start; i < _layers.Count; i++)
        {
            var layer = _layers[i];
            if (i == 0)
            {
                if (!layer.IsBuilt) layer.Build(layer.DeclaredInputShape!, _copyBuild.Generator, _copyBuild.WeightsWillBeShared);
            }
            else
            {
                if (!_layers[i - 1].IsBuilt) return;
                layer.Build(_layers[i - 1].OutputShape, _copyBuild.Generator, _copyBuild.WeightsWillBeShared);
            }
            layer.FixedBatchSize = FixedBatchSize;
        }
        if (_layers.Count > 0) _layers[0].NeedsInputGradient = false;
        ForgetTrainingStrategy();
        CollectTrainableParameters();
    }

    private void CollectTrainableParameters()
    {
        _trainable.Clear();
        _largestDenseKernel = 0;
        _multiplyAddsPerRow = 0;
        foreach (var layer in _layers)
        {
            if (layer.IsBuilt) _multiplyAddsPerRow += layer.MultiplyAddsPerRow;
            if (layer.Trainable) _trainable.AddRange(layer.Parameters.Where(p => p.Trainable));
            if (layer is Dense { Kernel: { } kernel }) _largestDenseKernel = Math.Max(_largestDenseKernel, kernel.Value.Size);
        }
    }

    /// <summary>Configures training: the loss, the optimizer and the metrics to report.</summary>
    public void Compile(Loss loss, Optimizer optimizer, IReadOnlyList<string>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        // The strategy planned for the old loss and optimizer; the old optimizer's slots come home first.
        ForgetTrainingStrategy();
        Loss = loss;
        Optimizer = optimizer;
        _metricNames = metrics?.ToArray() ?? [];
        foreach (var m in _metricNames) _ = Metric.Get(m, loss, 2);
        _metrics = [];
        if (IsBuilt)
        {
            CreateMetrics();
            // A layer frozen or unfrozen since the build takes effect here, as in Keras ("compile again after freezing").
            CollectTrainableParameters();
            StartPrewarmOnCompile();
        }
    }

    private string[] _metricNames = [];

    /// <summary>The metrics Compile made for a built model (what a training step updates); for the kernel prewarm.</summary>
    internal IReadOnlyList<Metric> CompiledMetrics => _metrics;

    private void CreateMetrics()
    {
        int width = _layers[^1].OutputShape[^1];
        _metrics = _metricNames.Select(m => Metric.Get(m, Loss!, width)).ToList();
    }

    /// <summary>Clears the state of every stateful layer (Keras's <c>reset_states</c>).</summary>
    public void ResetStates()
    {
        SyncHostFromBackend();
        foreach (var layer in _layers) layer.ResetStates();
        HostWritten();
    }

    /// <summary>Total number of weights.</summary>
    public long CountParams() => _layers.Sum(l => l.CountParams());

    /// <summary>All weights, layer by layer, in Keras's order.</summary>
    public IReadOnlyList<Tensor> GetWeights()
    {
        SyncHostFromBackend();
        return _layers.SelectMany(l => l.GetWeights()).ToList();
    }

    /// <summary>Replaces all weights; the list must match <see cref="GetWeights"/> in count and shapes.</summary>
    public void SetWeights(IReadOnlyList<Tensor> weights)
    {
        RequireBuilt(nameof(SetWeights));
        int expected = _layers.Sum(l => l.Parameters.Count);
        if (weights.Count != expected)
            throw new NeuriteException($"Model '{Name}' has {expected} weight tensors, but {weights.Count} were given. Pass the list GetWeights() returns, in the same order.");
        // The optimizer's slots stay; they come home first so that the strategy can take both up again.
        SyncHostFromBackend();
        int offset = 0;
        foreach (var layer in _layers)
        {
            int n = layer.Parameters.Count;
            layer.SetWeights(weights.Skip(offset).Take(n).ToList());
            offset += n;
        }
        HostWritten();
    }

    /// <summary>The model's input: <c>{first layer}_input</c> with its shape.</summary>
    public IReadOnlyList<TensorSpec> Inputs
    {
        get
        {
            RequireBuilt(nameof(Inputs));
            return [new TensorSpec($"{_layers[0].Name}_input:0", FixedBatchSize, _layers[0].InputShape)];
        }
    }

    /// <summary>The model's output: named after the last layer and its activation, with its shape.</summary>
    public IReadOnlyList<TensorSpec> Outputs
    {
        get
        {
            RequireBuilt(nameof(Outputs));
            var last = _layers[^1];
            string op = last.GetConfig().TryGetValue("activation", out var a) && a is string act && act != "linear"
                ? char.ToUpperInvariant(act[0]) + act[1..]
                : last.ClassName == "Dense" ? "BiasAdd" : "Identity";
            return [new TensorSpec($"{last.Name}/{op}:0", FixedBatchSize, last.OutputShape)];
        }
    }

    /// <summary>
    /// A model with the same layers fixed to another batch size that shares this model's weights
    /// (training either changes both); its recurrent states are its own. Use it to predict one step
    /// at a time from a model trained statefully with a larger batch.
    /// </summary>
    public Sequential WithBatchSize(int batchSize)
    {
        RequireBuilt(nameof(WithBatchSize));
        if (batchSize <= 0) throw new NeuriteException($"batchSize must be a positive integer. Received {batchSize}.");
        var copy = CopySharingWeights(batchSize, $"_batch{batchSize}", new System.Random(0));
        copy._weightsOrigin = this;
        if (Loss is not null && Optimizer is not null) copy.Compile(Loss, Optimizer, _metricNames);
        return copy;
    }

    /// <summary>
    /// A copy of the layers (the first fixed to <paramref name="batchSize"/> when given) that uses this model's
    /// weight tensors; <paramref name="rng"/> builds what the constructor did not (e.g. dropout generators): the
    /// first layer only, or every layer with <paramref name="buildAllFromRng"/>, which leaves the global generator untouched.
    /// </summary>
    internal Sequential CopySharingWeights(int? batchSize, string suffix, System.Random rng, bool buildAllFromRng = false)
    {
        var copy = new Sequential([], Name + suffix) { Output = Output };
        copy._copyBuild = (true, buildAllFromRng ? rng : null);
        try
        {
            for (int i = 0; i < _layers.Count; i++) copy.Add(_layers[i].CopyWithBatchSize(i == 0 ? batchSize : null));
            if (!copy.IsBuilt)
            {
                copy._layers[0].Build(_layers[0].InputShape, rng, weightsWillBeShared: true);
                copy.BuildFrom(1);
            }
            for (int i = 0; i < _layers.Count; i++) copy._layers[i].ShareWeightsFrom(_layers[i]);
            return copy;
        }
        finally
        {
            copy._copyBuild = default;
        }
    }

    private void RequireBuilt(string what)
    {
        if (!IsBuilt)
            throw new NeuriteException($"Model '{Name}' is not built yet, so {what} is not available. Give the first layer an inputShape (e.g. new Dense(8, \"relu\", inputShape: [4])), or call Fit or Build first.");
    }

    private void RequireCompiled(string what)
    {
        if (!IsCompiled)
            throw new NeuriteException($"Model '{Name}' must be compiled before {what}. Call model.Compile(loss: ..., optimizer: ...) first.");
    }

    private static string DescribeInput(IReadOnlyList<int> shape) =>
        shape.Count == 1 ? $"{shape[0]} features" : $"shape {ShapeText.Format(shape, null)}";

    internal static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>Reusable batch tensors keyed by batch size.</summary>
    private sealed class BatchBuffers
    {
        private readonly BufferCache _x = new(), _y = new(), _w = new();
        public Tensor X(int batch, ReadOnlySpan<int> rest) => _x.Get(batch, rest);
        public Tensor Y(int batch, ReadOnlySpan<int> rest) => _y.Get(batch, rest);
        public Tensor W(int batch) => _w.Get(batch, []);
    }
}
