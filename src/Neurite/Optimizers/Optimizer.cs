using Neurite.Backends;

namespace Neurite.Optimizers;

/// <summary>
/// Updates weights from their gradients. A subclass declares its per-weight slots and one
/// <see cref="UpdateStep"/>; clipping and the step counter live here (Keras's optimizer template).
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<Parameter, float[][]> _slots = new(ReferenceEqualityComparer.Instance);
    private double _learningRate;

    protected Optimizer(double learningRate, double? clipNorm, double? clipValue, double? globalClipNorm)
    {
        LearningRate = learningRate;
        if (clipNorm is <= 0) throw new NeuriteException($"clipNorm must be positive. Received clipNorm={clipNorm}.");
        if (clipValue is <= 0) throw new NeuriteException($"clipValue must be positive. Received clipValue={clipValue}.");
        if (globalClipNorm is <= 0) throw new NeuriteException($"globalClipNorm must be positive. Received globalClipNorm={globalClipNorm}.");
        ClipNorm = clipNorm;
        ClipValue = clipValue;
        GlobalClipNorm = globalClipNorm;
    }

    public abstract string Name { get; }

    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new NeuriteException($"The learning rate must be a finite non-negative number. Received {value}.");
            _learningRate = value;
        }
    }

    /// <summary>Clips each weight's gradient to this L2 norm (Keras's <c>clipnorm</c>).</summary>
    public double? ClipNorm { get; }

    /// <summary>Clips each gradient value to [−v, v] (Keras's <c>clipvalue</c>).</summary>
    public double? ClipValue { get; }

    /// <summary>Scales all gradients together so their joint L2 norm is at most this (Keras's <c>global_clipnorm</c>).</summary>
    public double? GlobalClipNorm { get; }

    /// <summary>Number of updates applied so far.</summary>
    public long Iterations { get; protected internal set; }

    /// <summary>Names of the per-weight slots, e.g. <c>m</c>, <c>v</c> (for saving optimizer state).</summary>
    protected virtual int SlotCount => 0;

    /// <summary>Applies one update to every trainable parameter from its current gradient.</summary>
    public void Apply(IReadOnlyList<Parameter> parameters) => Apply(parameters, default);

    /// <summary>
    /// As <see cref="Apply(IReadOnlyList{Parameter})"/>, except that parameter i is left alone where
    /// <paramref name="updatedAlready"/>[i] is true: this step's update was already applied to it by ranges
    /// (<see cref="UpdateRange"/>, with step <see cref="Iterations"/> + 1) as its gradient was made. Only an optimizer that
    /// <see cref="UpdatesElementwise"/> may skip any, since clipping needs every gradient first.
    /// </summary>
    internal void Apply(IReadOnlyList<Parameter> parameters, ReadOnlySpan<bool> updatedAlready)
    {
        if (!updatedAlready.IsEmpty && !UpdatesElementwise)
            throw new InvalidOperationException($"{Name} with clipping updates every weight in Apply; none can be updated ahead.");
        if (GlobalClipNorm is double g)
        {
            double total = 0;
            for (int i = 0; i < parameters.Count; i++) if (parameters[i].Trainable) total += Ops.SumOfSquares(parameters[i].Gradient.Span);
            double norm = Math.Sqrt(total);
            if (norm > g)
            {
                float scale = (float)(g / norm);
                for (int i = 0; i < parameters.Count; i++) if (parameters[i].Trainable) Ops.Scale(parameters[i].Gradient.Span, scale);
            }
        }
        // Indexed loops: a foreach over the interface would allocate an enumerator on every step.
        for (int pi = 0; pi < parameters.Count; pi++)
        {
            var p = parameters[pi];
            if (!p.Trainable || (pi < updatedAlready.Length && updatedAlready[pi])) continue;
            var grad = p.Gradient.Span;
            if (ClipNorm is double cn)
            {
                double norm = Math.Sqrt(Ops.SumOfSquares(grad));
                if (norm > cn) Ops.Scale(grad, (float)(cn / norm));
            }
            if (ClipValue is double cv) Ops.ClampSymmetric(grad, (float)cv);
            UpdateStep(p.Value.Span, grad, ApplySlots(pi, p), Iterations + 1);
        }
        Iterations++;
    }

    // Apply's parameters and their slots by position, as of the last step: a model passes the same list every
    // step, so each parameter's slots are found without a dictionary lookup.
    private Parameter?[] _applyParameters = [];
    private float[][][] _applySlots = [];

    private float[][] ApplySlots(int index, Parameter p)
    {
        if (index < _applyParameters.Length && ReferenceEquals(_applyParameters[index], p)) return _applySlots[index];
        if (index >= _applyParameters.Length)
        {
            Array.Resize(ref _applyParameters, index + 1);
            Array.Resize(ref _applySlots, index + 1);
        }
        _applyParameters[index] = p;
        return _applySlots[index] = Slots(p);
    }

    /// <summary>Updates one weight in place. <paramref name="step"/> counts from 1.</summary>
    protected abstract void UpdateStep(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, long step);

    /// <summary>
    /// True when an element's update depends only on that element (no clipping, and the optimizer can
    /// update a range), so threads can update parts of a weight and get the bits <see cref="Apply(IReadOnlyList{Parameter})"/> gets.
    /// </summary>
    internal bool UpdatesElementwise => GlobalClipNorm is null && ClipNorm is null && ClipValue is null && SupportsRangeUpdates;

    private protected virtual bool SupportsRangeUpdates => false;

    /// <summary>Creates every parameter's slots now, on the calling thread, before threads update ranges.</summary>
    internal void PrepareSlots(IReadOnlyList<Parameter> parameters)
    {
        for (int i = 0; i < parameters.Count; i++)
            if (parameters[i].Trainable) Slots(parameters[i]);
    }

    /// <summary>
    /// <see cref="Apply(IReadOnlyList{Parameter})"/>'s update of elements [<paramref name="start"/>, start + <paramref name="length"/>) of one
    /// parameter for update number <paramref name="step"/>; call <see cref="CompleteStep"/> once all ranges are done.
    /// </summary>
    internal void UpdateRange(Parameter parameter, int start, int length, long step) =>
        UpdateRangeCore(parameter.Value.Span.Slice(start, length), parameter.Gradient.Span.Slice(start, length), Slots(parameter), start, step);

    private protected virtual void UpdateRangeCore(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, int start, long step) =>
        throw new NotSupportedException($"{Name} updates whole weights only.");

    internal void CompleteStep() => Iterations++;

    /// <summary>The per-weight state (e.g. Adam's moments) of <paramref name="parameter"/>.</summary>
    public IReadOnlyList<float[]> GetSlots(Parameter parameter) => Slots(parameter);

    private float[][] Slots(Parameter p)
    {
        if (!_slots.TryGetValue(p, out var s))
        {
            s = new float[SlotCount][];
            for (int i = 0; i < s.Length; i++) s[i] = new float[p.Value.Size];
            InitializeSlots(s);
            _slots[p] = s;
        }
        return s;
    }

    protected virtual void InitializeSlots(float[][] slots) { }

    /// <summary>The Keras config (for saving models).</summary>
    public virtual IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["name"] = Name, ["learning_rate"] = LearningRate, ["clipnorm"] = ClipNorm, ["clipvalue"] = ClipValue, ["global_clipnorm"] = GlobalClipNorm,
    };

    public static implicit operator Optimizer(string name) => Get(name);

    /// <summary>An optimizer with Keras's defaults, by name.</summary>
    public static Optimizer Get(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => new Sgd(),
        "adam" => new Adam(),
        "rmsprop" => new RmsProp(),
        "adagrad" => new Adagrad(),
        _ => throw new NeuriteException($"Unknown optimizer '{name}'. Use one of: sgd, adam, rmsprop, adagrad, or pass an Optimizer object such as new Adam(learningRate: 0.01)."),
    };
}

/// <summary>
/// Keras's SGD: without momentum w −= lr·g; with momentum m = μ·m − lr·g and w += m, or with
/// Nesterov w += μ·m − lr·g.
/// </summary>
public sealed class Sgd(double learningRate = 0.01, double momentum = 0.0, bool nesterov = false,
    double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null)
    : Optimizer(learningRate, clipNorm, clipValue, globalClipNorm)
{
    public override string Name => "SGD";
    public double Momentum { get; } = momentum is >= 0 and <= 1 ? momentum : throw new NeuriteException($"SGD momentum must be in [0, 1]. Received momentum={momentum}.");
    public bool Nesterov { get; } = nesterov;
    protected override int SlotCount => Momentum > 0 ? 1 : 0;

    protected override void UpdateStep(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, long step) =>
        Ops.SgdUpdate(value, gradient, Momentum == 0 ? default : slots[0], (float)LearningRate, (float)Momentum, Nesterov);

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["momentum"] = Momentum, ["nesterov"] = Nesterov };
}

/// <summary>
/// Keras's Adam: m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
/// w −= α·m / (√v + ε) with α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ) (ε outside the bias correction, as Keras places it).
/// </summary>
public sealed class Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7,
    bool amsgrad = false, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null)
    : Optimizer(learningRate, clipNorm, clipValue, globalClipNorm)
{
    public override string Name => "Adam";
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public bool Amsgrad { get; } = amsgrad;
    protected override int SlotCount => Amsgrad ? 3 : 2;

    protected override void UpdateStep(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, long step) =>
        Update(value, gradient, slots, 0, step);

    private protected override bool SupportsRangeUpdates => true;

    private protected override void UpdateRangeCore(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, int start, long step) =>
        Update(value, gradient, slots, start, step);

    // Any split of a weight into ranges gives the bits of one pass over it (see IBackend.AdamUpdate).
    private void Update(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, int start, long step)
    {
        float alpha = (float)(LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step)));
        float b1 = (float)(1 - Beta1), b2 = (float)(1 - Beta2), eps = (float)Epsilon;
        var m = slots[0].AsSpan(start, value.Length);
        var v = slots[1].AsSpan(start, value.Length);
        if (Amsgrad)
        {
            Ops.AmsgradUpdate(value, gradient, m, v, slots[2].AsSpan(start, value.Length), alpha, b1, b2, eps);
            return;
        }
        Ops.AdamUpdate(value, gradient, m, v, alpha, b1, b2, eps);
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["beta_1"] = Beta1, ["beta_2"] = Beta2, ["epsilon"] = Epsilon, ["amsgrad"] = Amsgrad };
}

/// <summary>
/// Keras's RMSprop: s = ρs + (1−ρ)g²; w −= lr·g/√(s + ε) (centered: s − ḡ² in the root; with momentum
/// the increment feeds a velocity).
/// </summary>
public sealed class RmsProp(double learningRate = 1e-3, double rho = 0.9, double momentum = 0.0, double epsilon = 1e-7,
    bool centered = false, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null)
    : Optimizer(learningRate, clipNorm, clipValue, globalClipNorm)
{
    public override string Name => "RMSprop";
    public double Rho { get; } = rho;
    public double Momentum { get; } = momentum;
    public double Epsilon { get; } = epsilon;
    public bool Centered { get; } = centered;
    protected override int SlotCount => 3;

    protected override void UpdateStep(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, long step) =>
        Ops.RmsPropUpdate(value, gradient, slots[0], slots[1], slots[2], (float)LearningRate, (float)Rho, (float)Epsilon, (float)Momentum, Centered);

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["rho"] = Rho, ["momentum"] = Momentum, ["epsilon"] = Epsilon, ["centered"] = Centered };
}

/// <summary>Keras's Adagrad: a += g² (a starts at 0.1); w −= lr·g/√(a + ε).</summary>
public sealed class Adagrad(double learningRate = 1e-3, double initialAccumulatorValue = 0.1, double epsilon = 1e-7,
    double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null)
    : Optimizer(learningRate, clipNorm, clipValue, globalClipNorm)
{
    public override string Name => "Adagrad";
    public double InitialAccumulatorValue { get; } = initialAccumulatorValue;
    public double Epsilon { get; } = epsilon;
    protected override int SlotCount => 1;

    protected override void InitializeSlots(float[][] slots) => Array.Fill(slots[0], (float)InitialAccumulatorValue);

    protected override void UpdateStep(Span<float> value, ReadOnlySpan<float> gradient, float[][] slots, long step) =>
        Ops.AdagradUpdate(value, gradient, slots[0], (float)LearningRate, (float)Epsilon);

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["initial_accumulator_value"] = InitialAccumulatorValue, ["epsilon"] = Epsilon };
}
