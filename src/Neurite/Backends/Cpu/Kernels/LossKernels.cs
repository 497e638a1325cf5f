using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The losses with their gradients, per sample row in double sums (see <see cref="IBackend.Loss"/>): each row's
/// loss is weighted and added in row order, and its gradient is scaled by weight / averageOver.
/// </summary>
internal static class LossKernels
{
    /// <summary>Keras's backend epsilon, used to clip probabilities.</summary>
    private const float Epsilon = 1e-7f;

    // The kind is resolved once per batch: each loss's rows run in a loop of their own with its row function inlined.
    public static double Compute(LossKind kind, double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver) => kind switch
        {
            LossKind.CategoricalCrossentropy => Rows<CategoricalRow>(delta, pred, truth, gradient, sampleWeights, batch, width, averageOver),
            LossKind.SparseCategoricalCrossentropy => Rows<SparseCategoricalRow>(delta, pred, truth, gradient, sampleWeights, batch, width, averageOver),
            LossKind.BinaryCrossentropy => Rows<BinaryRow>(delta, pred, truth, gradient, sampleWeights, batch, width, averageOver),
            LossKind.MeanSquaredError => Rows<SquaredErrorRow>(delta, pred, truth, gradient, sampleWeights, batch, width, averageOver),
            LossKind.MeanAbsoluteError => Rows<AbsoluteErrorRow>(delta, pred, truth, gradient, sampleWeights, batch, width, averageOver),
            LossKind.Huber => Rows<HuberRow>(delta, pred, truth, gradient, sampleWeights, batch, width, averageOver),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

    /// <summary>One row's loss and, when the gradient span is not empty, the scale times its gradient written there.</summary>
    private interface IRowLoss
    {
        static abstract double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Rows<TLoss>(double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver) where TLoss : struct, IRowLoss
    {
        if (batch == 0) return 0;
        double total = 0;
        int truthWidth = truth.Length / batch;
        bool wantGrad = !gradient.IsEmpty;
        float invBatch = 1f / averageOver;
        for (int b = 0; b < batch; b++)
        {
            float w = sampleWeights.IsEmpty ? 1f : sampleWeights[b];
            var g = wantGrad ? gradient.Slice(b * width, width) : Span<float>.Empty;
            double l = TLoss.Row(pred.Slice(b * width, width), truth.Slice(b * truthWidth, truthWidth), g, w * invBatch, delta);
            total += w * l;
        }
        return total / averageOver;
    }

    private struct CategoricalRow : IRowLoss
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta) =>
            CrossEntropy(pred, truth, -1, gradient, scale);
    }

    private struct SparseCategoricalRow : IRowLoss
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta) =>
            CrossEntropy(pred, default, (int)truth[0], gradient, scale);
    }

    private struct BinaryRow : IRowLoss
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta) =>
            BinaryCrossEntropy(pred, truth, gradient, scale);
    }

    private struct SquaredErrorRow : IRowLoss
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta) =>
            MeanSquaredError(pred, truth, gradient, scale);
    }

    private struct AbsoluteErrorRow : IRowLoss
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta) =>
            MeanAbsoluteError(pred, truth, gradient, scale);
    }

    private struct HuberRow : IRowLoss
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Row(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta) =>
            Huber(pred, truth, gradient, scale, delta);
    }

    /// <remarks>
    /// −Σ y·log(q) with q = clip(p / Σp, ε, 1−ε). With S = Σp: ∂L/∂q_k = −y_k/q_k where unclipped, else 0; and
    /// ∂q_k/∂p_j = δ_kj/S − p_k/S², so ∂L/∂p_j = g_j/S − (Σ_k g_k p_k)/S². <paramref name="label"/> ≥ 0 stands for a one-hot row.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double CrossEntropy(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int label, Span<float> gradient, float scale)
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

    /// <summary>−mean(y·log p + (1−y)·log(1−p)), p clipped to [ε, 1−ε].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double BinaryCrossEntropy(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale)
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
                gradient[k] = clipped ? 0f : (float)((-y / pc + (1 - y) / (1 - pc)) / n * scale);
        }
        return loss / n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MeanSquaredError(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            double d = pred[k] - truth[k];
            loss += d * d;
            if (!gradient.IsEmpty) gradient[k] = (float)(2 * d / n * scale);
        }
        return loss / n;
    }

    /// <summary>mean(|y − p|); the gradient at a tie is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MeanAbsoluteError(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            float d = pred[k] - truth[k];
            loss += Math.Abs(d);
            if (!gradient.IsEmpty) gradient[k] = MathF.Sign(d) * scale / n;
        }
        return loss / n;
    }

    /// <summary>½d² for |d| ≤ δ, else δ(|d| − ½δ), averaged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Huber(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float scale, double delta)
    {
        double loss = 0;
        int n = pred.Length;
        for (int k = 0; k < n; k++)
        {
            double d = pred[k] - truth[k];
            double ad = Math.Abs(d);
            loss += ad <= delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
            if (!gradient.IsEmpty) gradient[k] = (float)((ad <= delta ? d : delta * Math.Sign(d)) / n * scale);
        }
        return loss / n;
    }
}
