using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Backends.Cpu;

/// <summary>
/// The CPU backend: managed SIMD kernels (<see cref="Neurite.Backends.Cpu.Kernels"/>: GEMM, element-wise math,
/// dropout masks, the recurrent cores) with Vector512, Vector256 and scalar paths that give the
/// same bits, on <see cref="Threading.MaxThreads"/> threads; recurrent models train each batch as
/// two halves on two cores (<see cref="HalvesTraining"/>).
/// </summary>
internal sealed class CpuBackend : IBackend
{
    public string Name => "cpu";

    public void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n,
        bool transA = false, bool transB = false, bool accumulate = false) =>
        Gemm.Multiply(a, b, c, m, k, n, transA, transB, accumulate);

    public void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols) => FastMath.AddBias(matrix, bias, rows, cols);

    public void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate) =>
        FastMath.SumRows(matrix, sums, rows, cols, accumulate);

    public void Tanh(ReadOnlySpan<float> x, Span<float> y) => FastMath.Tanh(x, y);

    public void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => FastMath.Sigmoid(x, y);

    public void Relu(ReadOnlySpan<float> z, Span<float> a) => ElementwiseKernels.Relu(z, a);

    public void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz) => ElementwiseKernels.ReluBackward(z, da, dz);

    public void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product) => ElementwiseKernels.Multiply(a, b, product);

    public IDropoutSampler CreateDropoutSampler(System.Random seedSource) => new MaskGenerator(seedSource);

    public void MultiplyByKeepBits(ReadOnlySpan<float> input, ReadOnlySpan<byte> keepBits, float keep, Span<float> output) =>
        MaskGenerator.MultiplyByMask(input, keepBits, keep, output);

    public void SpreadKeepBits(ReadOnlySpan<byte> keepBits, float keep, Span<float> mask) => MaskGenerator.SpreadKeepBits(keepBits, keep, mask);

    public IRecurrentCore CreateLstm(int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool returnSequences, bool goBackwards) =>
        new LstmSequence(features, units, activation, recurrentActivation, returnSequences, goBackwards);

    public IRecurrentCore CreateGru(int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool resetAfter, bool returnSequences, bool goBackwards) =>
        new GruSequence(features, units, activation, recurrentActivation, resetAfter, returnSequences, goBackwards);

    public IRecurrentCore CreateSimpleRnn(int features, int units, GateActivation activation, bool returnSequences, bool goBackwards) =>
        new SimpleRnnSequence(features, units, activation, returnSequences, goBackwards);

    public void AdamUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, float alpha, float b1, float b2, float epsilon) =>
        ElementwiseKernels.AdamUpdate(value, gradient, m, v, alpha, b1, b2, epsilon);

    public ITrainingStrategy? CreateTrainingStrategy(Sequential model) => new HalvesTraining(model);
}
