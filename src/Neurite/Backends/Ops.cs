using System.Runtime.CompilerServices;

namespace Neurite.Backends;

/// <summary>The library's calls into the backend in use (<see cref="Backend.Current"/>); see <see cref="IBackend"/> for each.</summary>
internal static class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n,
        bool transA = false, bool transB = false, bool accumulate = false) =>
        Backend.Active.MatMul(a, b, c, m, k, n, transA, transB, accumulate);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols) => Backend.Active.AddBias(matrix, bias, rows, cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate) =>
        Backend.Active.SumRows(matrix, sums, rows, cols, accumulate);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Backend.Active.Tanh(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Backend.Active.Sigmoid(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Relu(ReadOnlySpan<float> z, Span<float> a) => Backend.Active.Relu(z, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz) => Backend.Active.ReluBackward(z, da, dz);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product) => Backend.Active.Multiply(a, b, product);

    public static void ActivationForward(ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols) =>
        Backend.Active.ActivationForward(kind, z, a, cols);

    public static void ActivationBackward(ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols) =>
        Backend.Active.ActivationBackward(kind, z, a, da, dz, cols);

    public static double Loss(LossKind kind, double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver) =>
        Backend.Active.Loss(kind, delta, pred, truth, gradient, sampleWeights, batch, width, averageOver);

    public static void AccumulateMeanMetric(MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth,
        int batch, int width, ref double sum) =>
        Backend.Active.AccumulateMeanMetric(kind, threshold, pred, truth, batch, width, ref sum);

    public static void AccumulateConfusion(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, ReadOnlySpan<double> thresholds,
        Span<long> truePositives, Span<long> falsePositives, Span<long> trueNegatives, Span<long> falseNegatives) =>
        Backend.Active.AccumulateConfusion(pred, truth, thresholds, truePositives, falsePositives, trueNegatives, falseNegatives);

    public static IDropoutSampler CreateDropoutSampler(System.Random seedSource) => Backend.Active.CreateDropoutSampler(seedSource);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyByKeepBits(ReadOnlySpan<float> input, ReadOnlySpan<byte> keepBits, float keep, Span<float> output) =>
        Backend.Active.MultiplyByKeepBits(input, keepBits, keep, output);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SpreadKeepBits(ReadOnlySpan<byte> keepBits, float keep, Span<float> mask) => Backend.Active.SpreadKeepBits(keepBits, keep, mask);

    public static IRecurrentCore CreateLstm(int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool returnSequences, bool goBackwards) =>
        Backend.Active.CreateLstm(features, units, activation, recurrentActivation, returnSequences, goBackwards);

    public static IRecurrentCore CreateGru(int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool resetAfter, bool returnSequences, bool goBackwards) =>
        Backend.Active.CreateGru(features, units, activation, recurrentActivation, resetAfter, returnSequences, goBackwards);

    public static IRecurrentCore CreateSimpleRnn(int features, int units, GateActivation activation, bool returnSequences, bool goBackwards) =>
        Backend.Active.CreateSimpleRnn(features, units, activation, returnSequences, goBackwards);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AdamUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float alpha, float b1, float b2, float epsilon) =>
        Backend.Active.AdamUpdate(value, gradient, m, v, alpha, b1, b2, epsilon);

    public static void AmsgradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float epsilon) =>
        Backend.Active.AmsgradUpdate(value, gradient, m, v, vhat, alpha, b1, b2, epsilon);

    public static void SgdUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float momentum, bool nesterov) =>
        Backend.Active.SgdUpdate(value, gradient, velocity, learningRate, momentum, nesterov);

    public static void RmsPropUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float learningRate, float rho, float epsilon, float momentum, bool centered) =>
        Backend.Active.RmsPropUpdate(value, gradient, s, velocity, average, learningRate, rho, epsilon, momentum, centered);

    public static void AdagradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float learningRate, float epsilon) =>
        Backend.Active.AdagradUpdate(value, gradient, accumulator, learningRate, epsilon);

    public static double SumOfSquares(ReadOnlySpan<float> values) => Backend.Active.SumOfSquares(values);

    public static void Scale(Span<float> values, float factor) => Backend.Active.Scale(values, factor);

    public static void ClampSymmetric(Span<float> values, float limit) => Backend.Active.ClampSymmetric(values, limit);
}
