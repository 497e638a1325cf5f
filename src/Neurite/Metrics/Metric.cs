using Neurite.Losses;

namespace Neurite.Metrics;

/// <summary>
/// A metric accumulated over the batches of an epoch, as Keras's stateful metrics are:
/// <see cref="Reset"/>, then <see cref="Update"/> per batch, then <see cref="Result"/>.
/// </summary>
public abstract class Metric
{
    protected Metric(string name) => Name = name;

    /// <summary>The key in logs and history, e.g. <c>accuracy</c> (<c>val_accuracy</c> for validation).</summary>
    public string Name { get; }

    public abstract void Reset();

    /// <summary>Adds one batch: <paramref name="batch"/> rows of <paramref name="width"/> predictions.</summary>
    public abstract void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width);

    public abstract double Result();

    /// <summary>
    /// Resolves a metric name as Keras does. "accuracy"/"acc" becomes categorical, sparse or binary
    /// accuracy depending on the loss and the output width; the name given is kept as the log key.
    /// </summary>
    public static Metric Get(string name, Loss loss, int outputWidth)
    {
        string key = name.ToLowerInvariant();
        switch (key)
        {
            case "accuracy" or "acc":
                if (loss is SparseCategoricalCrossentropy) return new SparseCategoricalAccuracy(name);
                if (loss is BinaryCrossentropy || outputWidth == 1) return new BinaryAccuracy(name);
                return new CategoricalAccuracy(name);
            case "categorical_accuracy": return new CategoricalAccuracy(name);
            case "sparse_categorical_accuracy": return new SparseCategoricalAccuracy(name);
            case "binary_accuracy": return new BinaryAccuracy(name);
            case "mae" or "mean_absolute_error": return new MeanAbsoluteErrorMetric(name);
            case "mse" or "mean_squared_error": return new MeanSquaredErrorMetric(name);
            case "rmse" or "root_mean_squared_error": return new RootMeanSquaredError(name);
            case "precision": return new Precision(name);
            case "recall": return new Recall(name);
            case "auc": return new Auc(name);
            default:
                throw new NeuriteException($"Unknown metric '{name}'. Use one of: accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, mae, mse, rmse, precision, recall, auc.");
        }
    }
}

/// <summary>A running mean of per-sample values.</summary>
public abstract class MeanMetric(string name) : Metric(name)
{
    private double _sum;
    private long _count;

    public override void Reset() { _sum = 0; _count = 0; }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width)
    {
        int truthWidth = batch == 0 ? 0 : truth.Length / batch;
        for (int b = 0; b < batch; b++)
            _sum += SampleValue(pred.Slice(b * width, width), truth.Slice(b * truthWidth, truthWidth));
        _count += batch;
    }

    protected abstract double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth);

    public override double Result() => _count == 0 ? 0 : Transform(_sum / _count);

    protected virtual double Transform(double mean) => mean;

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}

/// <summary>Share of rows whose arg-max prediction equals the arg-max of the one-hot target.</summary>
public sealed class CategoricalAccuracy(string name = "categorical_accuracy") : MeanMetric(name)
{
    protected override double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth) =>
        ArgMax(pred) == ArgMax(truth) ? 1 : 0;
}

/// <summary>Share of rows whose arg-max prediction equals the integer label.</summary>
public sealed class SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy") : MeanMetric(name)
{
    protected override double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth) =>
        ArgMax(pred) == (int)truth[0] ? 1 : 0;
}

/// <summary>Share of values where (p &gt; 0.5) equals the 0/1 target, averaged over the last axis.</summary>
public sealed class BinaryAccuracy(string name = "binary_accuracy", double threshold = 0.5) : MeanMetric(name)
{
    protected override double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double hits = 0;
        for (int k = 0; k < pred.Length; k++) hits += (pred[k] > threshold ? 1 : 0) == (truth[k] > 0.5 ? 1 : 0) ? 1 : 0;
        return hits / pred.Length;
    }
}

public sealed class MeanAbsoluteErrorMetric(string name = "mean_absolute_error") : MeanMetric(name)
{
    protected override double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) s += Math.Abs(pred[k] - truth[k]);
        return s / pred.Length;
    }
}

public sealed class MeanSquaredErrorMetric(string name = "mean_squared_error") : MeanMetric(name)
{
    protected override double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) { double d = pred[k] - truth[k]; s += d * d; }
        return s / pred.Length;
    }
}

/// <summary>√(mean squared error over all values seen in the epoch).</summary>
public sealed class RootMeanSquaredError(string name = "root_mean_squared_error") : MeanMetric(name)
{
    protected override double SampleValue(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) { double d = pred[k] - truth[k]; s += d * d; }
        return s / pred.Length;
    }

    protected override double Transform(double mean) => Math.Sqrt(mean);
}

/// <summary>
/// Counts of a binary decision per value (threshold 0.5 on each output, as Keras's Precision/Recall
/// with one threshold; for a softmax output with one-hot targets this is the micro average).
/// </summary>
public abstract class ConfusionMetric(string name, double threshold) : Metric(name)
{
    protected long TruePositives, FalsePositives, FalseNegatives;

    public override void Reset() { TruePositives = FalsePositives = FalseNegatives = 0; }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width)
    {
        for (int i = 0; i < pred.Length; i++)
        {
            bool p = pred[i] > threshold, t = truth[i] > 0.5f;
            if (p && t) TruePositives++;
            else if (p) FalsePositives++;
            else if (t) FalseNegatives++;
        }
    }
}

public sealed class Precision(string name = "precision", double threshold = 0.5) : ConfusionMetric(name, threshold)
{
    public override double Result() => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);
}

public sealed class Recall(string name = "recall", double threshold = 0.5) : ConfusionMetric(name, threshold)
{
    public override double Result() => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>
/// Area under the ROC curve as Keras computes it: confusion counts at 200 thresholds
/// (0−ε, i/199 for i = 1..198, 1+ε), then the trapezoid rule over (FPR, TPR).
/// </summary>
public sealed class Auc : Metric
{
    private readonly int _thresholdCount;
    private readonly double[] _thresholds;
    private readonly long[] _tp, _fp, _tn, _fn;

    public Auc(string name = "auc", int numThresholds = 200) : base(name)
    {
        if (numThresholds < 2) throw new NeuriteException($"AUC needs at least 2 thresholds. Received numThresholds={numThresholds}.");
        _thresholdCount = numThresholds;
        _thresholds = new double[numThresholds];
        const double eps = 1e-7;
        _thresholds[0] = -eps;
        for (int i = 1; i < numThresholds - 1; i++) _thresholds[i] = (double)i / (numThresholds - 1);
        _thresholds[^1] = 1 + eps;
        _tp = new long[numThresholds]; _fp = new long[numThresholds]; _tn = new long[numThresholds]; _fn = new long[numThresholds];
    }

    public override void Reset()
    {
        Array.Clear(_tp); Array.Clear(_fp); Array.Clear(_tn); Array.Clear(_fn);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width)
    {
        for (int i = 0; i < pred.Length; i++)
        {
            bool t = truth[i] > 0.5f;
            for (int k = 0; k < _thresholdCount; k++)
            {
                bool p = pred[i] > _thresholds[k];
                if (p && t) _tp[k]++;
                else if (p) _fp[k]++;
                else if (t) _fn[k]++;
                else _tn[k]++;
            }
        }
    }

    public override double Result()
    {
        double area = 0;
        for (int k = 0; k < _thresholdCount - 1; k++)
        {
            double tpr0 = Rate(_tp[k], _fn[k]), tpr1 = Rate(_tp[k + 1], _fn[k + 1]);
            double fpr0 = Rate(_fp[k], _tn[k]), fpr1 = Rate(_fp[k + 1], _tn[k + 1]);
            area += (fpr0 - fpr1) * (tpr0 + tpr1) / 2;
        }
        return area;
    }

    private static double Rate(long hit, long miss) => hit + miss == 0 ? 0 : (double)hit / (hit + miss);
}
