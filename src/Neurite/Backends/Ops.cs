using System.Runtime.CompilerServices;
using Neurite.Backends.Cpu;

namespace Neurite.Backends;

/// <summary>The library's calls into the backend in use (<see cref="Backend.Current"/>); see <see cref="IBackend"/> for each.</summary>
/// <remarks>
/// Each call tests for the CPU backend first: it is sealed, so the JIT calls its member directly and inlines it, where a
/// call through the interface cannot be inlined. Small models make hundreds of these calls per epoch (W1 some 250), and
/// interface calls there cost W1 about 5 % against the kernels called directly; another backend still gets the interface call.
/// </remarks>
internal static class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.MatMul(a, b, c, m, k, n, transA, transB, accumulate);
        else backend.MatMul(a, b, c, m, k, n, transA, transB, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.AddBias(matrix, bias, rows, cols);
        else backend.AddBias(matrix, bias, rows, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.SumRows(matrix, sums, rows, cols, accumulate);
        else backend.SumRows(matrix, sums, rows, cols, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.Tanh(x, y);
        else backend.Tanh(x, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.Sigmoid(x, y);
        else backend.Sigmoid(x, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Relu(ReadOnlySpan<float> z, Span<float> a)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.Relu(z, a);
        else backend.Relu(z, a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.ReluBackward(z, da, dz);
        else backend.ReluBackward(z, da, dz);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.Multiply(a, b, product);
        else backend.Multiply(a, b, product);
    }

    public static void ActivationForward(ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.ActivationForward(kind, z, a, cols);
        else backend.ActivationForward(kind, z, a, cols);
    }

    public static void ActivationBackward(ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.ActivationBackward(kind, z, a, da, dz, cols);
        else backend.ActivationBackward(kind, z, a, da, dz, cols);
    }

    public static double Loss(LossKind kind, double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver)
    {
        var backend = Backend.Active;
        return backend is CpuBackend cpu ? cpu.Loss(kind, delta, pred, truth, gradient, sampleWeights, batch, width, averageOver) : backend.Loss(kind, delta, pred, truth, gradient, sampleWeights, batch, width, averageOver);
    }

    public static void AccumulateMeanMetric(MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth,
        int batch, int width, ref double sum)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.AccumulateMeanMetric(kind, threshold, pred, truth, batch, width, ref sum);
        else backend.AccumulateMeanMetric(kind, threshold, pred, truth, batch, width, ref sum);
    }

    public static void AccumulateConfusion(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, ReadOnlySpan<double> thresholds,
        Span<long> truePositives, Span<long> falsePositives, Span<long> trueNegatives, Span<long> falseNegatives)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.AccumulateConfusion(pred, truth, thresholds, truePositives, falsePositives, trueNegatives, falseNegatives);
        else backend.AccumulateConfusion(pred, truth, thresholds, truePositives, falsePositives, trueNegatives, falseNegatives);
    }

    public static IDropoutSampler CreateDropoutSampler(System.Random seedSource) =>
        Backend.Active.CreateDropoutSampler(seedSource);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyByKeepBits(ReadOnlySpan<float> input, ReadOnlySpan<byte> keepBits, float keep, Span<float> output)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.MultiplyByKeepBits(input, keepBits, keep, output);
        else backend.MultiplyByKeepBits(input, keepBits, keep, output);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SpreadKeepBits(ReadOnlySpan<byte> keepBits, float keep, Span<float> mask)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.SpreadKeepBits(keepBits, keep, mask);
        else backend.SpreadKeepBits(keepBits, keep, mask);
    }

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
        float alpha, float b1, float b2, float epsilon)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.AdamUpdate(value, gradient, m, v, alpha, b1, b2, epsilon);
        else backend.AdamUpdate(value, gradient, m, v, alpha, b1, b2, epsilon);
    }

    public static void AmsgradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float epsilon)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.AmsgradUpdate(value, gradient, m, v, vhat, alpha, b1, b2, epsilon);
        else backend.AmsgradUpdate(value, gradient, m, v, vhat, alpha, b1, b2, epsilon);
    }

    public static void SgdUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float momentum, bool nesterov)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.SgdUpdate(value, gradient, velocity, learningRate, momentum, nesterov);
        else backend.SgdUpdate(value, gradient, velocity, learningRate, momentum, nesterov);
    }

    public static void RmsPropUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float learningRate, float rho, float epsilon, float momentum, bool centered)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.RmsPropUpdate(value, gradient, s, velocity, average, learningRate, rho, epsilon, momentum, centered);
        else backend.RmsPropUpdate(value, gradient, s, velocity, average, learningRate, rho, epsilon, momentum, centered);
    }

    public static void AdagradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float learningRate, float epsilon)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.AdagradUpdate(value, gradient, accumulator, learningRate, epsilon);
        else backend.AdagradUpdate(value, gradient, accumulator, learningRate, epsilon);
    }

    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        var backend = Backend.Active;
        return backend is CpuBackend cpu ? cpu.SumOfSquares(values) : backend.SumOfSquares(values);
    }

    public static void Scale(Span<float> values, float factor)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.Scale(values, factor);
        else backend.Scale(values, factor);
    }

    public static void ClampSymmetric(Span<float> values, float limit)
    {
        var backend = Backend.Active;
        if (backend is CpuBackend cpu) cpu.ClampSymmetric(values, limit);
        else backend.ClampSymmetric(values, limit);
    }
}
