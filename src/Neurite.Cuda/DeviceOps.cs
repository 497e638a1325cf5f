using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using Neurite.Backends;
using Neurite.Cuda.Kernels;

namespace Neurite.Cuda;

/// <summary>
/// The kernels loaded on one accelerator, as calls on device views; all run in order on the
/// accelerator's default stream (cuBLAS shares it), so only reads back to the host synchronise.
/// </summary>
internal sealed class DeviceOps
{
    private readonly DeviceContext _device;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _addBias;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _sumRows;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _tanh, _sigmoid, _relu, _addInPlace;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _reluBackward, _multiply;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _activationBackward, _softmaxBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _softmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<byte>, float, ArrayView<float>> _multiplyByKeepBits;
    private readonly Action<Index1D, ArrayView<byte>, float, ArrayView<float>> _spreadKeepBits;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int> _gemm;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, int, int, float, int, int> _crossEntropy;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, int, float, int, int> _binaryCrossEntropy, _mse, _mae;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int> _sgd;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float> _adam;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int> _rmsProp;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _lstmForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _lstmBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _simpleRnnForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _toStepMajor, _toBatchMajor;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _simpleRnnBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int> _copyColumns;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _gruResetAfterForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _gruResetAfterBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _gruGatesForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _gruCandidateForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _gruCandidateBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _gruResetBackward;

    public DeviceOps(DeviceContext device)
    {
        _device = device;
        var acc = device.Accelerator;
        _addBias = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.AddBias);
        _sumRows = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ElementwiseKernels.SumRows);
        _tanh = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Tanh);
        _sigmoid = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Sigmoid);
        _addInPlace = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.AddInPlace);
        _relu = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Relu);
        _reluBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.ReluBackward);
        _multiply = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Multiply);
        _activationBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationBackwardFromOutput);
        _softmax = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.Softmax);
        _softmaxBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.SoftmaxBackward);
        _multiplyByKeepBits = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<byte>, float, ArrayView<float>>(ElementwiseKernels.MultiplyByKeepBits);
        _spreadKeepBits = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, float, ArrayView<float>>(ElementwiseKernels.SpreadKeepBits);
        _gemm = acc.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>(ElementwiseKernels.Gemm);
        _crossEntropy = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, int, int, float, int, int>(LossKernels.CrossEntropy);
        _binaryCrossEntropy = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, int, float, int, int>(LossKernels.BinaryCrossEntropy);
        _mse = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, int, float, int, int>(LossKernels.MeanSquaredError);
        _mae = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, int, float, int, int>(LossKernels.MeanAbsoluteError);
        _sgd = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int>(OptimizerKernels.Sgd);
        _adam = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float>(OptimizerKernels.Adam);
        _rmsProp = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int>(OptimizerKernels.RmsProp);
        _lstmForward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(RecurrentKernels.LstmForwardStep);
        _lstmBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(RecurrentKernels.LstmBackwardStep);
        _toStepMajor = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(RecurrentKernels.ToStepMajor);
        _toBatchMajor = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(RecurrentKernels.ToBatchMajor);
        _simpleRnnForward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(RecurrentKernels.SimpleRnnForwardStep);
        _copyColumns = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>(RecurrentKernels.CopyColumns);
        _simpleRnnBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(RecurrentKernels.SimpleRnnBackwardStep);
        _gruResetAfterForward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(RecurrentKernels.GruResetAfterForwardStep);
        _gruResetAfterBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(RecurrentKernels.GruResetAfterBackwardStep);
        _gruGatesForward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RecurrentKernels.GruGatesForwardStep);
        _gruCandidateForward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RecurrentKernels.GruCandidateForwardStep);
        _gruCandidateBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(RecurrentKernels.GruCandidateBackwardStep);
        _gruResetBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(RecurrentKernels.GruResetBackwardStep);
    }

    public Accelerator Accelerator => _device.Accelerator;

    public MemoryBuffer1D<float, Stride1D.Dense> Allocate(long length) => Accelerator.Allocate1D<float>(Math.Max(1, length));

    public static void Upload(ReadOnlySpan<float> source, ArrayView<float> target)
    {
        if (source.IsEmpty) return;
        target.SubView(0, source.Length).CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
    }

    public static void Upload(ReadOnlySpan<byte> source, ArrayView<byte> target)
    {
        if (source.IsEmpty) return;
        target.SubView(0, source.Length).CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
    }

    public void Download(ArrayView<float> source, Span<float> target)
    {
        if (target.IsEmpty) return;
        Accelerator.Synchronize();
        source.SubView(0, target.Length).CopyToCPU(ref MemoryMarshal.GetReference(target), target.Length);
    }

    public void Download(ArrayView<double> source, Span<double> target)
    {
        if (target.IsEmpty) return;
        Accelerator.Synchronize();
        source.SubView(0, target.Length).CopyToCPU(ref MemoryMarshal.GetReference(target), target.Length);
    }

    /// <summary><c>c (+)= op(a)·op(b)</c>, row-major: cuBLAS on a CUDA device, the GEMM kernel elsewhere.</summary>
    public void MatMul(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int k, int n, bool transA, bool transB, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (_device.Blas is { } blas)
        {
            if (k == 0)
            {
                if (!accumulate) c.SubView(0, (long)m * n).MemSetToZero();
                return;
            }
            blas.Gemm(a.LoadEffectiveAddressAsPtr(), b.LoadEffectiveAddressAsPtr(), c.LoadEffectiveAddressAsPtr(), m, k, n, transA, transB, accumulate);
            return;
        }
        _gemm(new Index2D(m, n), a, b, c, k, n, m, transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0);
    }

    public void AddBias(ArrayView<float> matrix, ArrayView<float> bias, int rows, int cols) => _addBias((int)((long)rows * cols), matrix, bias, cols);

    public void SumRows(ArrayView<float> matrix, ArrayView<float> sums, int rows, int cols, bool accumulate) =>
        _sumRows(cols, matrix, sums, rows, cols, accumulate ? 1 : 0);

    public void Tanh(ArrayView<float> x, ArrayView<float> y, int length) => _tanh(length, x, y);
    public void Sigmoid(ArrayView<float> x, ArrayView<float> y, int length) => _sigmoid(length, x, y);
    public void Relu(ArrayView<float> z, ArrayView<float> a, int length) => _relu(length, z, a);
    public void ReluBackward(ArrayView<float> z, ArrayView<float> da, ArrayView<float> dz, int length) => _reluBackward(length, z, da, dz);
    public void AddInPlace(ArrayView<float> target, ArrayView<float> addend, int length) => _addInPlace(length, target, addend);
    public void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> product, int length) => _multiply(length, a, b, product);

    /// <summary><c>dz = da·f'(a)</c> from the activation's output, for a <see cref="DeviceMath"/> activation code.</summary>
    public void ActivationBackward(ArrayView<float> a, ArrayView<float> da, ArrayView<float> dz, int length, int activation) =>
        _activationBackward(length, a, da, dz, activation);

    public void Softmax(ArrayView<float> z, ArrayView<float> a, int rows, int cols) => _softmax(rows, z, a, cols);
    public void SoftmaxBackward(ArrayView<float> a, ArrayView<float> da, ArrayView<float> dz, int rows, int cols) => _softmaxBackward(rows, a, da, dz, cols);

    public void MultiplyByKeepBits(ArrayView<float> input, ArrayView<byte> keepBits, float keep, ArrayView<float> output, int length) =>
        _multiplyByKeepBits(length, input, keepBits, keep, output);

    public void SpreadKeepBits(ArrayView<byte> keepBits, float keep, ArrayView<float> mask, int length) => _spreadKeepBits(length, keepBits, keep, mask);

    /// <summary>The losses the device has kernels for (every <see cref="LossKind"/> but Huber).</summary>
    public void Loss(LossKind kind, ArrayView<float> pred, ArrayView<float> truth, ArrayView<float> gradient, ArrayView<double> rowLoss,
        ArrayView<float> weights, int rows, int width, int averageOver, bool hasWeights, bool wantGradient)
    {
        float inv = 1f / averageOver;
        int w = hasWeights ? 1 : 0, g = wantGradient ? 1 : 0;
        switch (kind)
        {
            case LossKind.CategoricalCrossentropy: _crossEntropy(rows, pred, truth, gradient, rowLoss, weights, width, 0, inv, w, g); break;
            case LossKind.SparseCategoricalCrossentropy: _crossEntropy(rows, pred, truth, gradient, rowLoss, weights, width, 1, inv, w, g); break;
            case LossKind.BinaryCrossentropy: _binaryCrossEntropy(rows, pred, truth, gradient, rowLoss, weights, width, inv, w, g); break;
            case LossKind.MeanSquaredError: _mse(rows, pred, truth, gradient, rowLoss, weights, width, inv, w, g); break;
            case LossKind.MeanAbsoluteError: _mae(rows, pred, truth, gradient, rowLoss, weights, width, inv, w, g); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    public void Sgd(ArrayView<float> value, ArrayView<float> gradient, ArrayView<float> momentum, int length, float learningRate, float mu, bool nesterov) =>
        _sgd(length, value, gradient, momentum, learningRate, mu, nesterov ? 1 : 0);

    public void Adam(ArrayView<float> value, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v, int length,
        float alpha, float b1, float b2, float epsilon) =>
        _adam(length, value, gradient, m, v, alpha, b1, b2, epsilon);

    public void RmsProp(ArrayView<float> value, ArrayView<float> gradient, ArrayView<float> s, ArrayView<float> momentum, ArrayView<float> average,
        int length, float learningRate, float rho, float epsilon, float mu, bool centered) =>
        _rmsProp(length, value, gradient, s, momentum, average, learningRate, rho, epsilon, mu, centered ? 1 : 0);

    public void LstmForwardStep(ArrayView<float> z, ArrayView<float> cellPrev, ArrayView<float> cell, ArrayView<float> activatedCell,
        ArrayView<float> hidden, int batch, int units, int activation, int recurrentActivation) =>
        _lstmForward(batch * units, z, cellPrev, cell, activatedCell, hidden, units, activation, recurrentActivation);

    public void LstmBackwardStep(ArrayView<float> gates, ArrayView<float> cellPrev, ArrayView<float> activatedCell, ArrayView<float> dHidden,
        ArrayView<float> dCell, int batch, int units, int activation, int recurrentActivation) =>
        _lstmBackward(batch * units, gates, cellPrev, activatedCell, dHidden, dCell, units, activation, recurrentActivation);

    public void ToStepMajor(ArrayView<float> batchMajor, ArrayView<float> stepMajor, int batch, int steps, int width, bool reverse) =>
        _toStepMajor(batch * steps * width, batchMajor, stepMajor, batch, steps, width, reverse ? 1 : 0);

    public void ToBatchMajor(ArrayView<float> stepMajor, ArrayView<float> batchMajor, int batch, int steps, int width, bool reverse) =>
        _toBatchMajor(batch * steps * width, stepMajor, batchMajor, batch, steps, width, reverse ? 1 : 0);

    /// <summary>Writes (or adds) columns [sourceOffset, +width) of a (rows, sourceWidth) matrix into columns [targetOffset, +width) of a (rows, targetWidth) one.</summary>
    public void CopyColumns(ArrayView<float> source, ArrayView<float> target, int rows, int sourceWidth, int sourceOffset,
        int targetWidth, int targetOffset, int width, bool accumulate) =>
        _copyColumns(rows * width, source, target, sourceWidth, sourceOffset, targetWidth, targetOffset, width, accumulate ? 1 : 0);

    public void SimpleRnnForwardStep(ArrayView<float> preActivation, ArrayView<float> hidden, int length, int activation) =>
        _simpleRnnForward(length, preActivation, hidden, activation);

    public void SimpleRnnBackwardStep(ArrayView<float> hidden, ArrayView<float> dHidden, ArrayView<float> dPreActivation, int length, int activation) =>
        _simpleRnnBackward(length, hidden, dHidden, dPreActivation, activation);

    public void GruResetAfterForwardStep(ArrayView<float> projection, ArrayView<float> recurrent, ArrayView<float> hiddenPrev, ArrayView<float> hidden,
        int batch, int units, int activation, int recurrentActivation) =>
        _gruResetAfterForward(batch * units, projection, recurrent, hiddenPrev, hidden, units, activation, recurrentActivation);

    public void GruResetAfterBackwardStep(ArrayView<float> gates, ArrayView<float> recurrent, ArrayView<float> hiddenPrev, ArrayView<float> dHidden,
        ArrayView<float> dProjection, ArrayView<float> dRecurrent, int batch, int units, int activation, int recurrentActivation) =>
        _gruResetAfterBackward(batch * units, gates, recurrent, hiddenPrev, dHidden, dProjection, dRecurrent, units, activation, recurrentActivation);

    public void GruGatesForwardStep(ArrayView<float> projection, ArrayView<float> gateProducts, ArrayView<float> recurrentInput, ArrayView<float> resetHidden,
        int batch, int units, int recurrentActivation) =>
        _gruGatesForward(batch * units, projection, gateProducts, recurrentInput, resetHidden, units, recurrentActivation);

    public void GruCandidateForwardStep(ArrayView<float> projection, ArrayView<float> candidateProduct, ArrayView<float> hiddenPrev, ArrayView<float> hidden,
        int batch, int units, int activation) =>
        _gruCandidateForward(batch * units, projection, candidateProduct, hiddenPrev, hidden, units, activation);

    public void GruCandidateBackwardStep(ArrayView<float> gates, ArrayView<float> hiddenPrev, ArrayView<float> dHidden, ArrayView<float> dProjection,
        ArrayView<float> dGates, ArrayView<float> dCandidate, int batch, int units, int activation, int recurrentActivation) =>
        _gruCandidateBackward(batch * units, gates, hiddenPrev, dHidden, dProjection, dGates, dCandidate, units, activation, recurrentActivation);

    public void GruResetBackwardStep(ArrayView<float> gates, ArrayView<float> recurrentInput, ArrayView<float> dResetHidden, ArrayView<float> dProjection,
        ArrayView<float> dGates, ArrayView<float> dRecurrentState, int batch, int units, int recurrentActivation) =>
        _gruResetBackward(batch * units, gates, recurrentInput, dResetHidden, dProjection, dGates, dRecurrentState, units, recurrentActivation);
}

