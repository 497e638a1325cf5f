using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>The metrics' per-batch accumulation (see <see cref="IBackend.AccumulateMeanMetric"/> and <see cref="IBackend.AccumulateConfusion"/>).</summary>
internal static class MetricKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateMean(MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth,
        int batch, int width, ref double sum)
    {
        int truthWidth = batch == 0 ? 0 : truth.Length / batch;
        for (int b = 0; b < batch; b++)
        {
            var p = pred.Slice(b * width, width);
            var t = truth.Slice(b * truthWidth, truthWidth);
            sum += kind switch
            {
                MeanMetricKind.CategoricalAccuracy => ArgMax(p) == ArgMax(t) ? 1 : 0,
                MeanMetricKind.SparseCategoricalAccuracy => ArgMax(p) == (int)t[0] ? 1 : 0,
                MeanMetricKind.BinaryAccuracy => BinaryAccuracy(p, t, threshold),
                MeanMetricKind.MeanAbsoluteError => MeanAbsoluteError(p, t),
                MeanMetricKind.MeanSquaredError => MeanSquaredError(p, t),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
            };
        }
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
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static double BinaryAccuracy(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, double threshold)
    {
        double hits = 0;
        for (int k = 0; k < pred.Length; k++) hits += (pred[k] > threshold ? 1 : 0) == (truth[k] > 0.5 ? 1 : 0) ? 1 : 0;
        return hits / pred.Length;
    }

    private static double MeanAbsoluteError(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) s += Math.Abs(pred[k] - truth[k]);
        return s / pred.Length;
    }

    private static double MeanSquaredError(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth)
    {
        double s = 0;
        for (int k = 0; k < pred.Length; k++) { double d = pred[k] - truth[k]; s += d * d; }
        return s / pred.Length;
    }
}
