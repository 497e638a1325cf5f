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

    public override void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width)
    {
        Backends.Ops.AccumulateMeanMetric(Kind, Threshold, pred, truth, batch, width, ref _sum);
        _count += batch;
    }

    /// <summary>Which per-sample value the backend accumulates.</summary>
    private protected abstract Backends.MeanMetricKind Kind { get; }

    /// <summary><see cref="Kind"/>, for the kernel prewarm's list.</summary>
    internal Backends.MeanMetricKind BackendKind => Kind;

    /// <summary>The prediction threshold of a binary metric.</summary>
    private protected virtual double Threshold => 0.5;

    public override double Result() => _count == 0 ? 0 : Transform(_sum / _count);

    private protected virtual double Transform(double mean) => mean;
}

/// <summary>Share of rows whose arg-max prediction equals the arg-max of the one-hot target.</summary>
public sealed class CategoricalAccuracy(string name = "categorical_accuracy") : MeanMetric(name)
{
    private protected override Backends.MeanMetricKind Kind => Backends.MeanMetricKind.CategoricalAccuracy;
}

/// <summary>Share of rows whose arg-max prediction equals the integer label.</summary>
public sealed class SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy") : MeanMetric(name)
{
    private protected override Backends.MeanMetricKind Kind => Backends.MeanMetricKind.SparseCategoricalAccuracy;
}

/// <summary>Share of values where (p &gt; threshold) equals the 0/1 target (&gt; 0.5), averaged over the last axis.</summary>
public sealed class BinaryAccuracy(string name = "binary_accuracy", double threshold = 0.5) : MeanMetric(name)
{
    private protected override Backends.MeanMetricKind Kind => Backends.MeanMetricKind.BinaryAccuracy;
    private protected override double Threshold => threshold;
}

/// <summary>mean(|y − p|) over the last axis, averaged over the samples.</summary>
public sealed class MeanAbsoluteErrorMetric(string name = "mean_absolute_error") : MeanMetric(name)
{
    private protected override Backends.MeanMetricKind Kind => Backends.MeanMetricKind.MeanAbsoluteError;
}

/// <summary>mean((y − p)²) over the last axis, averaged over the samples.</summary>
public sealed class MeanSquaredErrorMetric(string name = "mean_squared_error") : MeanMetric(name)
{
    private protected override Backends.MeanMetricKind Kind => Backends.MeanMetricKind.MeanSquaredError;
}

/// <summary>√(mean squared error over all values seen in the epoch).</summary>
public sealed class RootMeanSquaredError(string name = "root_mean_squared_error") : MeanMetric(name)
{
    private protected override Backends.MeanMetricKind Kind => Backends.MeanMetricKind.MeanSquaredError;

    private protected override double Transform(double mean) => Math.Sqrt(mean);
}

/// <summary>
/// Counts of a binary decision per value (threshold 0.5 on each output, as Keras's Precision/Recall
/// with one threshold; for a softmax output with one-hot targets this is the micro average).
/// </summary>
public abstract class ConfusionMetric(string name, double threshold) : Metric(name)
{
    private readonly double[] _threshold = [threshold];
    protected long TruePositives, FalsePositives, FalseNegatives;

    public override void Reset() { TruePositives = FalsePositives = FalseNegatives = 0; }

    public override void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width) =>
        Backends.Ops.AccumulateConfusion(pred, truth, _threshold, new Span<long>(ref TruePositives), new Span<long>(ref FalsePositives),
            default, new Span<long>(ref FalseNegatives));
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

    public override void Update(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width) =>
        Backends.Ops.AccumulateConfusion(pred, truth, _thresholds, _tp, _fp, _tn, _fn);

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
