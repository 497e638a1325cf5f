using GateActivation = Neurite.Backends.GateActivation;
using Neurite.Backends;
using Neurite.Backends.Cpu;
using Neurite.Layers;

namespace Neurite.Cuda;

/// <summary>
/// The CUDA backend: every coarse op of <see cref="IBackend"/> runs as ILGPU kernels (products on
/// cuBLAS) on one accelerator. The span ops move their operands to the device and back per call; the
/// LSTM, GRU and SimpleRNN cores keep their whole sequence (gates, cells, hidden states) on the device between
/// forward and backward. A model the device has kernels for throughout trains by a <see cref="DeviceTrainer"/>.
/// </summary>
/// <remarks>
/// Dropout masks are drawn on the host by the CPU backend's sampler (the same bits for the same seed
/// on both backends) and only applied on the device.
/// </remarks>
internal sealed class CudaBackend : IBackend, IDisposable
{
    private static readonly CpuBackend s_cpu = new();
    private readonly DeviceContext _device;
    private readonly Scratch _scratch;

    public CudaBackend(DeviceContext device)
    {
        _device = device;
        Ops = new DeviceOps(device);
        _scratch = new Scratch(device.Accelerator);
    }

    public string Name => "cuda";

    public DeviceOps Ops { get; }

    internal DeviceContext Device => _device;

    public void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        var da = Upload(0, a);
        var db = Upload(1, b);
        var dc = _scratch.Floats(2, (long)m * n);
        if (accumulate) DeviceOps.Upload(c[..(m * n)], dc);
        Ops.MatMul(da, db, dc, m, k, n, transA, transB, accumulate);
        Ops.Download(dc, c[..(m * n)]);
    }

    public void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols)
    {
        var dm = Upload(0, matrix[..(rows * cols)]);
        Ops.AddBias(dm, Upload(1, bias[..cols]), rows, cols);
        Ops.Download(dm, matrix[..(rows * cols)]);
    }

    public void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate)
    {
        var dm = Upload(0, matrix[..(rows * cols)]);
        var ds = Upload(1, sums[..cols]);
        Ops.SumRows(dm, ds, rows, cols, accumulate);
        Ops.Download(ds, sums[..cols]);
    }

    public void Tanh(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, Ops.Tanh);

    public void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, Ops.Sigmoid);

    public void Relu(ReadOnlySpan<float> z, Span<float> a) => Map(z, a, Ops.Relu);

    public void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz)
    {
        int n = z.Length;
        var out_ = _scratch.Floats(2, n);
        Ops.ReluBackward(Upload(0, z), Upload(1, da[..n]), out_, n);
        Ops.Download(out_, dz[..n]);
    }

    public void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product)
    {
        int n = a.Length;
        var out_ = _scratch.Floats(2, n);
        Ops.Multiply(Upload(0, a), Upload(1, b[..n]), out_, n);
        Ops.Download(out_, product[..n]);
    }

    public IDropoutSampler CreateDropoutSampler(System.Random seedSource) => s_cpu.CreateDropoutSampler(seedSource);

    public void MultiplyByKeepBits(ReadOnlySpan<float> input, ReadOnlySpan<byte> keepBits, float keep, Span<float> output)
    {
        int n = input.Length;
        var bits = _scratch.Bytes(keepBits.Length);
        DeviceOps.Upload(keepBits, bits);
        var out_ = _scratch.Floats(1, n);
        Ops.MultiplyByKeepBits(Upload(0, input), bits, keep, out_, n);
        Ops.Download(out_, output[..n]);
    }

    public void SpreadKeepBits(ReadOnlySpan<byte> keepBits, float keep, Span<float> mask)
    {
        var bits = _scratch.Bytes(keepBits.Length);
        DeviceOps.Upload(keepBits, bits);
        var out_ = _scratch.Floats(0, mask.Length);
        Ops.SpreadKeepBits(bits, keep, out_, mask.Length);
        Ops.Download(out_, mask);
    }

    public IRecurrentCore CreateLstm(int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool returnSequences, bool goBackwards) =>
        new DeviceLstmCore(Ops, features, units, activation, recurrentActivation, returnSequences, goBackwards);

    public IRecurrentCore CreateGru(int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool resetAfter, bool returnSequences, bool goBackwards) =>
        new DeviceGruCore(Ops, features, units, activation, recurrentActivation, resetAfter, returnSequences, goBackwards);

    public IRecurrentCore CreateSimpleRnn(int features, int units, GateActivation activation, bool returnSequences, bool goBackwards) =>
        new DeviceSimpleRnnCore(Ops, features, units, activation, returnSequences, goBackwards);

    public void AdamUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, float alpha, float b1, float b2, float epsilon)
    {
        int n = value.Length;
        var dv = Upload(0, value);
        var dm = Upload(2, m[..n]);
        var dvv = Upload(3, v[..n]);
        Ops.Adam(dv, Upload(1, gradient[..n]), dm, dvv, n, alpha, b1, b2, epsilon);
        Ops.Download(dv, value);
        Ops.Download(dm, m[..n]);
        Ops.Download(dvv, v[..n]);
    }

    public void ActivationForward(Backends.ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        switch (kind)
        {
            case Backends.ActivationKind.Tanh: Tanh(z, a); break;
            case Backends.ActivationKind.Sigmoid: Sigmoid(z, a); break;
            case Backends.ActivationKind.Relu: Relu(z, a); break;
            default: s_cpu.ActivationForward(kind, z, a, cols); break;
        }
    }

    public void ActivationBackward(Backends.ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        if (kind == Backends.ActivationKind.Relu) ReluBackward(z, da, dz);
        else s_cpu.ActivationBackward(kind, z, a, da, dz, cols);
    }

    /// <remarks>The device's loss kernels where it has one (Huber has none); the rows' weighted losses are summed on the host in row order.</remarks>
    private double[] _rowLoss = [];

    public double Loss(Backends.LossKind kind, double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver)
    {
        if (kind == Backends.LossKind.Huber || batch == 0) return s_cpu.Loss(kind, delta, pred, truth, gradient, sampleWeights, batch, width, averageOver);
        int n = batch * width;
        bool wantGradient = !gradient.IsEmpty, hasWeights = !sampleWeights.IsEmpty;
        var dPred = Upload(0, pred[..n]);
        var dTruth = Upload(1, truth);
        var dGradient = _scratch.Floats(2, wantGradient ? n : 1);
        var dWeights = hasWeights ? Upload(3, sampleWeights[..batch]) : _scratch.Floats(3, 1);
        var dRowLoss = _scratch.Doubles(batch);
        Ops.Loss(kind, dPred, dTruth, dGradient, dRowLoss, dWeights, batch, width, averageOver, hasWeights, wantGradient);
        if (wantGradient) Ops.Download(dGradient, gradient[..n]);
        if (_rowLoss.Length < batch) _rowLoss = new double[batch];
        var rowLoss = _rowLoss.AsSpan(0, batch);
        Ops.Download(dRowLoss, rowLoss);
        double total = 0;
        foreach (var l in rowLoss) total += l;
        return total / averageOver;
    }

    public void AccumulateMeanMetric(Backends.MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth,
        int batch, int width, ref double sum) =>
        s_cpu.AccumulateMeanMetric(kind, threshold, pred, truth, batch, width, ref sum);

    public void AccumulateConfusion(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, ReadOnlySpan<double> thresholds,
        Span<long> truePositives, Span<long> falsePositives, Span<long> trueNegatives, Span<long> falseNegatives) =>
        s_cpu.AccumulateConfusion(pred, truth, thresholds, truePositives, falsePositives, trueNegatives, falseNegatives);

    public void AmsgradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float epsilon) =>
        s_cpu.AmsgradUpdate(value, gradient, m, v, vhat, alpha, b1, b2, epsilon);

    public void SgdUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float momentum, bool nesterov) =>
        s_cpu.SgdUpdate(value, gradient, velocity, learningRate, momentum, nesterov);

    public void RmsPropUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float learningRate, float rho, float epsilon, float momentum, bool centered) =>
        s_cpu.RmsPropUpdate(value, gradient, s, velocity, average, learningRate, rho, epsilon, momentum, centered);

    public void AdagradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float learningRate, float epsilon) =>
        s_cpu.AdagradUpdate(value, gradient, accumulator, learningRate, epsilon);

    public double SumOfSquares(ReadOnlySpan<float> values) => s_cpu.SumOfSquares(values);

    public void Scale(Span<float> values, float factor) => s_cpu.Scale(values, factor);

    public void ClampSymmetric(Span<float> values, float limit) => s_cpu.ClampSymmetric(values, limit);

    /// <summary>
    /// A <see cref="DeviceTrainer"/> (weights and optimizer slots kept on the device across batches) when the device has
    /// kernels for the whole model as compiled; else null, and the model trains layer by layer through this backend's ops.
    /// </summary>
    /// <remarks>A model sharing another's weight tensors (WithBatchSize) trains layer by layer: one weight must not have two device copies.</remarks>
    public ITrainingStrategy? CreateTrainingStrategy(Sequential model)
    {
        if (model.SharesWeights) return null;
        var trainer = new DeviceTrainer(model, Ops);
        if (trainer.Plans()) return trainer;
        trainer.Dispose();
        return null;
    }

    private ILGPU.ArrayView<float> Upload(int slot, ReadOnlySpan<float> values)
    {
        var view = _scratch.Floats(slot, values.Length);
        DeviceOps.Upload(values, view);
        return view;
    }

    private void Map(ReadOnlySpan<float> x, Span<float> y, Action<ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> kernel)
    {
        int n = x.Length;
        var dy = _scratch.Floats(1, n);
        kernel(Upload(0, x), dy, n);
        Ops.Download(dy, y[..n]);
    }

    public void Dispose()
    {
        _scratch.Dispose();
        _device.Dispose();
    }
}
