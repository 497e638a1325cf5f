using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

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

    /// <summary>The most threads the kernels may use (see <see cref="Backend.MaxThreads"/>).</summary>
    internal static int MaxThreads
    {
        get => Threading.MaxThreads;
        set => Threading.MaxThreads = value;
    }

    internal static int ThreadLimit => Threading.Limit;

    // One prewarm per kind of model and batch in a process: compiling models alike again finds everything compiled.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> s_prewarms = new(StringComparer.Ordinal);

    /// <summary>What each prewarm started in this process was for (<see cref="ModelPrewarm.Key"/>); for tests.</summary>
    internal static IReadOnlyCollection<string> StartedPrewarms => [.. s_prewarms.Keys];

    public Task Prewarm(Sequential model, int batchSize)
    {
        var path = KernelSelector.Current;
        int threads = Threading.MaxThreads;
        // The scalar path is the portable fallback: no vector kernels to get ready.
        if (path == KernelPath.Scalar) return Task.CompletedTask;
        string key = ModelPrewarm.Key(model, batchSize, path, threads);
        return s_prewarms.GetOrAdd(key, _ => KernelPrewarm.Run(() => ModelPrewarm.For(model, batchSize, path, threads)));
    }

    public void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n,
        bool transA = false, bool transB = false, bool accumulate = false) =>
        Gemm.Multiply(a, b, c, m, k, n, transA, transB, accumulate);

    public void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols) => ParallelPasses.AddBias(matrix, bias, rows, cols);

    public void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate) =>
        ParallelPasses.SumRows(matrix, sums, rows, cols, accumulate);

    public void Tanh(ReadOnlySpan<float> x, Span<float> y) => FastMath.Tanh(x, y);

    public void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => FastMath.Sigmoid(x, y);

    public void Relu(ReadOnlySpan<float> z, Span<float> a) => ElementwiseKernels.Relu(z, a);

    public void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz) => ElementwiseKernels.ReluBackward(z, da, dz);

    public void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product) => ElementwiseKernels.Multiply(a, b, product);

    public void ActivationForward(ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols) => ParallelPasses.ActivationForward(kind, z, a, cols);

    public void ActivationBackward(ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols) =>
        ParallelPasses.ActivationBackward(kind, z, a, da, dz, cols);

    public double Loss(LossKind kind, double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver) =>
        LossKernels.Compute(kind, delta, pred, truth, gradient, sampleWeights, batch, width, averageOver);

    public void AccumulateMeanMetric(MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth,
        int batch, int width, ref double sum) =>
        MetricKernels.AccumulateMean(kind, threshold, pred, truth, batch, width, ref sum);

    public void AccumulateConfusion(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, ReadOnlySpan<double> thresholds,
        Span<long> truePositives, Span<long> falsePositives, Span<long> trueNegatives, Span<long> falseNegatives) =>
        MetricKernels.AccumulateConfusion(pred, truth, thresholds, truePositives, falsePositives, trueNegatives, falseNegatives);

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
        ParallelUpdates.Adam(value, gradient, m, v, alpha, b1, b2, epsilon);

    public void AmsgradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float epsilon) =>
        ParallelUpdates.Amsgrad(value, gradient, m, v, vhat, alpha, b1, b2, epsilon);

    public void SgdUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float momentum, bool nesterov) =>
        ParallelUpdates.Sgd(value, gradient, velocity, learningRate, momentum, nesterov);

    public void RmsPropUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float learningRate, float rho, float epsilon, float momentum, bool centered) =>
        ParallelUpdates.RmsProp(value, gradient, s, velocity, average, learningRate, rho, epsilon, momentum, centered);

    public void AdagradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float learningRate, float epsilon) =>
        ParallelUpdates.Adagrad(value, gradient, accumulator, learningRate, epsilon);

    public double SumOfSquares(ReadOnlySpan<float> values) => OptimizerKernels.SumOfSquares(values);

    public void Scale(Span<float> values, float factor) => OptimizerKernels.Scale(values, factor);

    public void ClampSymmetric(Span<float> values, float limit) => OptimizerKernels.ClampSymmetric(values, limit);

    // Only a recurrent model ever trains in halves; any other gets no strategy, so its steps ask nothing of one.
    public ITrainingStrategy? CreateTrainingStrategy(Sequential model) => HalvesTraining.CanTrainInHalves(model) ? new HalvesTraining(model) : null;
}
