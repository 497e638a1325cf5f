namespace Neurite.Data;

/// <summary>
/// Supervised samples cut from a series by <see cref="TimeSeriesWindows"/>: inputs <see cref="X"/> of
/// shape (N, lookback, F) and targets <see cref="Y"/> of shape (N, horizon), with the series index of
/// every sample's first input and first target so that anyone can check what each sample saw.
/// </summary>
/// <remarks>
/// Sample i reads inputs at indices InputStarts[i] .. InputStarts[i] + lookback − 1 (its forecast origin
/// is the last of them) and predicts the target at TargetStarts[i] .. TargetStarts[i] + horizon − 1,
/// where TargetStarts[i] = origin + 1. Indices count rows of the whole series, not of the segment.
/// </remarks>
public sealed class WindowSet
{
    private readonly int[] _inputStarts;
    private readonly double[] _target;

    internal WindowSet(Tensor x, Tensor y, double[,] actual, int[] inputStarts, int lookback, int horizon,
        int segmentStart, int segmentEnd, double[] target, int? batchSize)
    {
        X = x;
        Y = y;
        Actual = actual;
        _inputStarts = inputStarts;
        Lookback = lookback;
        Horizon = horizon;
        SegmentStart = segmentStart;
        SegmentEnd = segmentEnd;
        _target = target;
        BatchSize = batchSize;
    }

    /// <summary>Inputs, shape (N, lookback, F).</summary>
    public Tensor X { get; }

    /// <summary>Targets, shape (N, horizon), float32 for training.</summary>
    public Tensor Y { get; }

    /// <summary>The same targets in double precision, for scoring forecasts and baselines.</summary>
    public double[,] Actual { get; }

    /// <summary>Number of samples N.</summary>
    public int Count => _inputStarts.Length;

    /// <summary>Input steps per sample.</summary>
    public int Lookback { get; }

    /// <summary>Target steps per sample.</summary>
    public int Horizon { get; }

    /// <summary>Number of input features F.</summary>
    public int FeatureCount => X.Dim(2);

    /// <summary>First series index the windows may touch (inclusive).</summary>
    public int SegmentStart { get; }

    /// <summary>Series index just past the last one the windows may touch (exclusive).</summary>
    public int SegmentEnd { get; }

    /// <summary>For a stateful layout, the batch size it was laid out for (train with exactly that and no shuffling); else null.</summary>
    public int? BatchSize { get; }

    /// <summary>Series index of each sample's first input step.</summary>
    public IReadOnlyList<int> InputStarts => _inputStarts;

    /// <summary>Series index of each sample's first target step (its forecast origin + 1).</summary>
    public IReadOnlyList<int> TargetStarts => _inputStarts.Select(s => s + Lookback).ToArray();

    /// <summary>Series index of each sample's forecast origin: the last input step, the last value known when forecasting.</summary>
    public int Origin(int sample) => _inputStarts[sample] + Lookback - 1;

    /// <summary>The series indices sample <paramref name="sample"/> reads as inputs.</summary>
    public IEnumerable<int> InputIndices(int sample) => Enumerable.Range(_inputStarts[sample], Lookback);

    /// <summary>The series indices sample <paramref name="sample"/> predicts.</summary>
    public IEnumerable<int> TargetIndices(int sample) => Enumerable.Range(_inputStarts[sample] + Lookback, Horizon);

    /// <summary>The target series value at index <paramref name="index"/>; baselines may only read indices up to a sample's origin.</summary>
    internal double TargetAt(int index) => _target[index];
}
