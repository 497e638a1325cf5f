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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal double Compute(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, ReadOnlySpan<float> sampleWeights, int batch, int width,
        int averageOver = 0)
    {
        if (batch == 0) return 0;
        double total = 0;
        int truthWidth = truth.Length / batch;
        bool wantGrad = !gradient.IsEmpty;
        int divisor = averageOver > 0 ? averageOver : batch;
        float invBatch = 1f / divisor;
        for (int b = 0; b < batch; b++)
        {
            float w = sampleWeights.IsEmpty ? 1f : sampleWeights[b];
            var g = wantGrad ? gradient.Slice(b * width, width) : Span<float>.Empty;
            double l = SampleLoss(pred.Slice(b * width, width), truth.Slice(b * truthWidth, truthWidth), g, w * invBatch);
            total += w * l;
        }
        return total / divisor;
    }

    /// <summary>
    /// The loss of one sample; when <paramref name="gradient"/> is not empty, writes
    /// <paramref name="gradientScale"/> · ∂(sample loss)/∂pred into it.
    /// </summary>
    protected abstract double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale);

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

    protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale) =>
        CrossEntropy(pred, truth, -1, gradient, gradientScale);

    /// <remarks>
    /// With S = Σp and q_k = clip(p_k/S): ∂L/∂q_k = −y_k/q_k where unclipped, else 0; and
    /// ∂q_k/∂p_j = δ_kj/S − p_k/S², so ∂L/∂p_j = g_j/S − (Σ_k g_k p_k)/S².
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static double CrossEntropy(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int label, Span<float> gradient, float scale)
    {
        double sum = 0;
        foreach (var p in pred) sum += p;
        double loss = 0, gp = 0;
        bool wantGrad = !gradient.IsEmpty;
        for (int k = 0; k < pred.Length; k++)
        {
            double y = label >= 0 ? (k == label ? 1 : 0) : truth[k];
            double q = pred[k] / sum;
            bool clipped = q < Epsilon || q > 1 - Epsilon;
            double qc = Math.Clamp(q, Epsilon, 1 - Epsilon);
            if (y != 0) loss -= y * Math.Log(qc);
            if (wantGrad)
            {
                double g = clipped || y == 0 ? 0 : -y / qc;
                gradient[k] = (float)g;
                gp += g * pred[k];
            }
        }
        if (wantGrad)
            for (int k = 0; k < pred.Length; k++)
                gradient[k] = (float)((gradient[k] / sum - gp / (sum * sum)) * scale);
        return loss;
    }

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

    protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale)
    {
        // Checked per sample too: TrainOnBatch validates targets only on its first call for a shape.
        float v = truth[0];
        if (!(v >= 0 && v < pred.Length && v == MathF.Floor(v)))
            throw new NeuriteException($"sparse_categorical_crossentropy needs integer labels in 0..{pred.Length - 1} (the model has {pred.Length} outputs), but y contains {v}. Recode the labels, or give the last layer more units.");
        return CategoricalCrossentropy.CrossEntropy(pred, default, (int)v, gradient, gradientScale);
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

    protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            double p = pred[k], y = truth[k];
            bool clipped = p < Epsilon || p > 1 - Epsilon;
            double pc = Math.Clamp(p, Epsilon, 1 - Epsilon);
            loss -= y * Math.Log(pc) + (1 - y) * Math.Log(1 - pc);
            if (!gradient.IsEmpty)
                gradient[k] = clipped ? 0f : (float)((-y / pc + (1 - y) / (1 - pc)) / n * gradientScale);
        }
        return loss / n;
    }

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

    protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            double d = pred[k] - truth[k];
            loss += d * d;
            if (!gradient.IsEmpty) gradient[k] = (float)(2 * d / n * gradientScale);
        }
        return loss / n;
    }
}

/// <summary>mean(|y − p|) over the last axis; the gradient at a tie is 0.</summary>
public sealed class MeanAbsoluteError : Loss
{
    public override string Name => "mean_absolute_error";

    protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            float d = pred[k] - truth[k];
            loss += Math.Abs(d);
            if (!gradient.IsEmpty) gradient[k] = MathF.Sign(d) * gradientScale / n;
        }
        return loss / n;
    }
}

/// <summary>Huber: ½d² for |d| ≤ δ, else δ(|d| − ½δ), averaged over the last axis (δ = 1 by default).</summary>
public sealed class Huber(double delta = 1.0) : Loss
{
    public override string Name => "huber";
    public double Delta => delta;

    protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            double d = pred[k] - truth[k];
            double ad = Math.Abs(d);
            loss += ad <= delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
            if (!gradient.IsEmpty) gradient[k] = (float)((ad <= delta ? d : delta * Math.Sign(d)) / n * gradientScale);
        }
        return loss / n;
    }
}
