using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>The metrics' per-batch accumulation (see <see cref="IBackend.AccumulateMeanMetric"/> and <see cref="IBackend.AccumulateConfusion"/>).</summary>
internal static class MetricKernels
{
    // The kind is resolved once per batch: each metric's rows run in a loop of their own with its row function inlined.
    public static void AccumulateMean(MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth,
        int batch, int width, ref double sum)
    {
        switch (kind)
        {
            case MeanMetricKind.CategoricalAccuracy: Rows<CategoricalAccuracyRow>(threshold, pred, truth, batch, width, ref sum); break;
            case MeanMetricKind.SparseCategoricalAccuracy: Rows<SparseCategoricalAccuracyRow>(threshold, pred, truth, batch, width, ref sum); break;
            case MeanMetricKind.BinaryAccuracy: Rows<BinaryAccuracyRow>(threshold, pred, truth, batch, width, ref sum); break;
            case MeanMetricKind.MeanAbsoluteError: Rows<AbsoluteErrorRow>(threshold, pred, truth, batch, width, ref sum); break;
            case MeanMetricKind.MeanSquaredError: Rows<SquaredErrorRow>(threshold, pred, truth, batch, width, ref sum); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>One row's value of a mean metric.</summary>
    private interface IRowValue
    {
        static abstract double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TValue>(double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width, ref double sum)
        where TValue : struct, IRowValue
    {
        int truthWidth = batch == 0 ? 0 : truth.Length / batch;
        // A local sum, stored once: the same additions in the same order, without a store and reload per row.
        double total = sum;
        for (int b = 0; b < batch; b++)
            total += TValue.Row(pred.Slice(b * width, width), truth.Slice(b * truthWidth, truthWidth), threshold);
        sum = total;
    }

    private struct CategoricalAccuracyRow : IRowValue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold) => ArgMax(pred) == ArgMax(truth) ? 1 : 0;
    }

    private struct SparseCategoricalAccuracyRow : IRowValue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold) => ArgMax(pred) == (int)truth[0] ? 1 : 0;
    }

    private struct BinaryAccuracyRow : IRowValue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold) => BinaryAccuracy(pred, truth, threshold);
    }

    private struct AbsoluteErrorRow : IRowValue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold) => MeanAbsoluteError(pred, truth);
    }

    private struct SquaredErrorRow : IRowValue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold) => MeanSquaredError(pred, truth);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateConfusion(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, ReadOnlySpan<double> thresholds,
        Span<long> truePositives, Span<long> falsePositives, Span<long> trueNegatives, Span<long> falseNegatives)
    {
        bool countTrueNegatives = !trueNegatives.IsEmpty;
        for (int i = 0; i < pred.Length; i++)
        {
            bool t = truth[i] > 0.5f;
            for (int k = 0; k < thresholds.Length; k++)
            {
                bool p = pred[i] > thresholds[k];
                if (p && t) truePositives[k]++;
                else if (p) falsePositives[k]++;
                else if (t) falseNegatives[k]++;
                else if (countTrueNegatives) trueNegatives[k]++;
            }
        }
    }

    /// <summary>The first index of the largest value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double BinaryAccuracy(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold)
    {
        double hits = 0;
        for (int k = 0; k < pred.Length; k++) hits += (pred[k] > threshold ? 1 : 0) == (truth[k] > 0.5 ? 1 : 0) ? 1 : 0;
        return hits / pred.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MeanAbsoluteError(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) s += Math.Abs(pred[k] - truth[k]);
        return s / pred.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MeanSquaredError(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) { double d = pred[k] - truth[k]; s += d * d; }
        return s / pred.Length;
    }
}
