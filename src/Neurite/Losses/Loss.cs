namespace Neurite.Losses;

/// <summary>
/// A loss with its gradient. Per-sample losses are averaged over the batch (Keras's
/// <c>sum_over_batch_size</c>); with sample weights, the weighted sum is still divided by the batch size.
/// </summary>
public abstract class Loss
{
    /// <summary>Keras's identifier, e.g. <c>categorical_crossentropy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Returns the mean loss over the batch and, when <paramref name="gradient"/> is not empty, writes
    /// ∂loss/∂yPred into it. Shapes: yPred and yTrue (B, ..., C) with equal sizes, except for sparse
    /// losses whose yTrue holds one class index per row.
    /// </summary>
    public double Compute(Tensor yPred, Tensor yTrue, Span<float> gradient, ReadOnlySpan<float> sampleWeights = default)
    {
        int batch = yPred.Shape[0];
        int width = yPred.Size / Math.Max(1, batch);
        return Compute(yPred.Span, yTrue.Span, gradient, sampleWeights, batch, width);
    }

    /// <summary>
    /// Span form: <paramref name="batch"/> rows of <paramref name="width"/> predictions. The sum is divided
    /// by <paramref name="averageOver"/> rows (default: <paramref name="batch"/>); a part of a batch passes
    /// the whole batch's row count, so the parts' losses and gradients add up to the batch's.
    /// </summary>
    internal double Compute(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, ReadOnlySpan<float> sampleWeights, int batch, int width,
        int averageOver = 0)
    {
        if (batch == 0) return 0;
        CheckBatch(truth, batch, width);
        int divisor = averageOver > 0 ? averageOver : batch;
        return Kind is { } kind
            ? Backends.Ops.Loss(kind, Parameter, pred, truth, gradient, sampleWeights, batch, width, divisor)
            : ComputeOwnLoss(pred, truth, gradient, sampleWeights, batch, width, divisor);
    }

    /// <summary>Which loss the backend computes; null for a loss of one's own (<see cref="SampleLoss"/>).</summary>
    private protected virtual Backends.LossKind? Kind => null;

    /// <summary>The backend kernel computing this loss (null: its own code), for the kernel prewarm.</summary>
    internal Backends.LossKind? BackendKind => Kind;

    /// <summary>
    /// A loss of one's own: the loss of one sample and, when <paramref name="gradient"/> is not empty,
    /// <paramref name="gradientScale"/> · ∂(sample loss)/∂pred written into it. Neurite has no automatic
    /// differentiation, so the gradient is the subclass's to give. The built-in losses are computed by the backend instead.
    /// </summary>
    protected virtual double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale) =>
        throw new NotSupportedException($"The loss '{Name}' derives from Loss but does not override SampleLoss: a loss of one's own must give each sample's loss and gradient there.");

    // On the host, row by row: a loss of one's own is plain C#, whatever the backend.
    private double ComputeOwnLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, ReadOnlySpan<float> sampleWeights,
        int batch, int width, int divisor)
    {
        double total = 0;
        int truthWidth = truth.Length / batch;
        bool wantGradient = !gradient.IsEmpty;
        float invDivisor = 1f / divisor;
        for (int b = 0; b < batch; b++)
        {
            float w = sampleWeights.IsEmpty ? 1f : sampleWeights[b];
            var g = wantGradient ? gradient.Slice(b * width, width) : Span<float>.Empty;
            total += w * SampleLoss(pred.Slice(b * width, width), truth.Slice(b * truthWidth, truthWidth), g, w * invDivisor);
        }
        return total / divisor;
    }

    /// <summary>The loss's own parameter (Huber's δ).</summary>
    private protected virtual double Parameter => 0;

    /// <summary>Refuses targets a batch's computation cannot use; <see cref="ValidateTargets"/> covers the rest once per shape.</summary>
    private protected virtual void CheckBatch(ReadOnlySpan<float> truth, int batch, int width) { }

    /// <summary>Checks that labels fit this loss; throws with the fix otherwise.</summary>
    internal virtual void ValidateTargets(Tensor y, IReadOnlyList<int> outputShape)
    {
        // Loops, not LINQ: TrainOnBatch checks every batch and must not allocate unless it throws.
        bool matches = y.Rank == outputShape.Count + 1;
        for (int i = 0; matches && i < outputShape.Count; i++) matches = y.Shape[i + 1] == outputShape[i];
        if (matches) return;
        var expected = outputShape.ToArray();
        throw new ShapeMismatchException($"loss '{Name}'", $"targets of shape {ShapeText.Format(expected, null)} to match the model's output",
            ShapeText.Format(y.Shape), TargetShapeHint(expected));
    }

    protected virtual string TargetShapeHint(int[] outputShape) =>
        "Give y one row per sample with as many columns as the last layer has units.";

    public override string ToString() => Name;

    public static implicit operator Loss(string name) => Get(name);

    /// <summary>Looks up a loss by its Keras name or alias.</summary>
    public static Loss Get(string name) => name.ToLowerInvariant() switch
    {
        "categorical_crossentropy" => new CategoricalCrossentropy(),
        "sparse_categorical_crossentropy" => new SparseCategoricalCrossentropy(),
        "binary_crossentropy" => new BinaryCrossentropy(),
        "mean_squared_error" or "mse" => new MeanSquaredError(),
        "mean_absolute_error" or "mae" => new MeanAbsoluteError(),
        "huber" or "huber_loss" => new Huber(),
        _ => throw new NeuriteException($"Unknown loss '{name}'. Use one of: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error (mse), mean_absolute_error (mae), huber."),
    };

    /// <summary>Keras's backend epsilon, used to clip probabilities.</summary>
    public const float Epsilon = 1e-7f;
}

/// <summary>
/// −Σ y·log(p̂) with p̂ = clip(p / Σp, ε, 1−ε), as Keras computes it from probabilities.
/// </summary>
public sealed class CategoricalCrossentropy : Loss
{
    public override string Name => "categorical_crossentropy";

    private protected override Backends.LossKind? Kind => Backends.LossKind.CategoricalCrossentropy;

    protected override string TargetShapeHint(int[] outputShape) =>
        $"categorical_crossentropy needs one-hot targets with {outputShape[^1]} columns: convert class codes with CategoricalEncoding.ToCategorical, or use loss: \"sparse_categorical_crossentropy\" with integer labels.";

    internal override void ValidateTargets(Tensor y, IReadOnlyList<int> outputShape)
    {
        base.ValidateTargets(y, outputShape);
        foreach (var v in y.Span)
            if (v < 0 || v > 1)
                throw new NeuriteException($"categorical_crossentropy needs targets in [0, 1] (one-hot or probabilities), but y contains {v}. Convert class codes with CategoricalEncoding.ToCategorical.");
    }
}

/// <summary>Categorical cross-entropy with integer class labels: y has shape (B) or (B, 1).</summary>
public sealed class SparseCategoricalCrossentropy : Loss
{
    public override string Name => "sparse_categorical_crossentropy";

    private protected override Backends.LossKind? Kind => Backends.LossKind.SparseCategoricalCrossentropy;

    // Checked per batch too: TrainOnBatch validates targets only on its first call for a shape.
    private protected override void CheckBatch(ReadOnlySpan<float> truth, int batch, int width)
    {
        int truthWidth = truth.Length / batch;
        for (int b = 0; b < batch; b++)
        {
            float v = truth[b * truthWidth];
            if (!(v >= 0 && v < width && v == MathF.Floor(v)))
                throw new NeuriteException($"sparse_categorical_crossentropy needs integer labels in 0..{width - 1} (the model has {width} outputs), but y contains {v}. Recode the labels, or give the last layer more units.");
        }
    }

    internal override void ValidateTargets(Tensor y, IReadOnlyList<int> outputShape)
    {
        int classes = outputShape[^1];
        if (!(y.Rank == 1 || (y.Rank == 2 && y.Shape[1] == 1)) || outputShape.Count != 1)
            throw new ShapeMismatchException($"loss '{Name}'", "integer class labels of shape (N,) or (N, 1)", ShapeText.Format(y.Shape),
                "Pass one class index per sample, or use categorical_crossentropy with one-hot targets.");
        foreach (var v in y.Span)
            if (v < 0 || v >= classes || v != MathF.Floor(v))
                throw new NeuriteException($"sparse_categorical_crossentropy needs integer labels in 0..{classes - 1} (the model has {classes} outputs), but y contains {v}. Recode the labels, or give the last layer more units.");
    }
}

/// <summary>−mean(y·log p + (1−y)·log(1−p)) over the last axis, p clipped to [ε, 1−ε].</summary>
public sealed class BinaryCrossentropy : Loss
{
    public override string Name => "binary_crossentropy";

    private protected override Backends.LossKind? Kind => Backends.LossKind.BinaryCrossentropy;

    internal override void ValidateTargets(Tensor y, IReadOnlyList<int> outputShape)
    {
        base.ValidateTargets(y, outputShape);
        foreach (var v in y.Span)
            if (v < 0 || v > 1)
                throw new NeuriteException($"binary_crossentropy needs targets in [0, 1], but y contains {v}. Encode the two classes as 0 and 1.");
    }
}

/// <summary>mean((y − p)²) over the last axis.</summary>
public sealed class MeanSquaredError : Loss
{
    public override string Name => "mean_squared_error";

    private protected override Backends.LossKind? Kind => Backends.LossKind.MeanSquaredError;
}

/// <summary>mean(|y − p|) over the last axis; the gradient at a tie is 0.</summary>
public sealed class MeanAbsoluteError : Loss
{
    public override string Name => "mean_absolute_error";

    private protected override Backends.LossKind? Kind => Backends.LossKind.MeanAbsoluteError;
}

/// <summary>Huber: ½d² for |d| ≤ δ, else δ(|d| − ½δ), averaged over the last axis (δ = 1 by default).</summary>
public sealed class Huber(double delta = 1.0) : Loss
{
    public override string Name => "huber";
    public double Delta => delta;

    private protected override Backends.LossKind? Kind => Backends.LossKind.Huber;
    private protected override double Parameter => delta;
}
