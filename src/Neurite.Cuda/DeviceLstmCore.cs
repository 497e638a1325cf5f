using GateActivation = Neurite.Backends.GateActivation;
using ILGPU;
using ILGPU.Runtime;
using Neurite.Backends;
using Neurite.Layers;
using Neurite.Cuda.Kernels;

namespace Neurite.Cuda;

/// <summary>
/// A whole LSTM sequence on the device, in the CPU core's layout and formulas (see <c>LstmSequence</c>):
/// the input projection of all steps as one product, then per step one recurrent product and one
/// fused gate kernel; backward mirrors it, and the weight gradients are one product each over all steps.
/// Gates, cells and hidden states of every step stay on the device between the two passes; only the
/// inputs, outputs and gradients the span interface carries cross to the host.
/// </summary>
internal sealed class DeviceLstmCore : IRecurrentCore, IDeviceSequenceCore
{
    private readonly DeviceOps _ops;
    private readonly Scratch _buffers;
    private readonly int _features, _units, _activation, _recurrentActivation;
    private readonly bool _returnSequences, _goBackwards;
    private int _batch, _steps;
    private bool _hasRecurrentMask, _hasBias, _forwardDone;
    private float[] _hostPacked = [], _hostMask = [], _hostStates = [], _finalHidden = [], _finalCell = [];

    // Scratch slots: the device buffers of one sequence.
    private const int PackedInputs = 0, Gates = 1, Hidden = 2, Cell = 3, ActivatedCell = 4, DroppedHidden = 5, RecurrentMask = 6,
        Kernel = 7, RecurrentKernel = 8, Bias = 9, DHidden = 10, DCell = 11, DOutput = 12, DKernel = 13, DRecurrentKernel = 14, DBias = 15, DInputs = 16;

    public DeviceLstmCore(DeviceOps ops, int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool returnSequences, bool goBackwards)
    {
        _ops = ops;
        _buffers = new Scratch(ops.Accelerator);
        _features = features;
        _units = units;
        _activation = (int)activation;
        _recurrentActivation = (int)recurrentActivation;
        _returnSequences = returnSequences;
        _goBackwards = goBackwards;
    }

    public ReadOnlySpan<float> FinalHidden => _finalHidden.AsSpan(0, _batch * _units);

    public ReadOnlySpan<float> FinalCell => _finalCell.AsSpan(0, _batch * _units);

    public void Reserve(int batch, int steps)
    {
        HostSequenceLayout.Grow(ref _hostPacked, (long)batch * steps * Math.Max(_features, _units));
        HostSequenceLayout.Grow(ref _hostMask, (long)batch * Math.Max(_features, _units));
        HostSequenceLayout.Grow(ref _finalHidden, (long)batch * _units);
        HostSequenceLayout.Grow(ref _finalCell, (long)batch * _units);
    }

    public void RunForward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask)
    {
        int f = _features, u = _units, g = 4 * u, rows = batch * steps, state = batch * u;
        if (batch <= 0 || steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"An LSTM sequence needs a positive batch and number of steps; received batch {batch}, steps {steps}.");
        Expect(x.Length, rows * f, "x");
        Expect(kernel.Length, f * g, "kernel");
        Expect(recurrentKernel.Length, u * g, "recurrent kernel");
        Expect(output.Length, _returnSequences ? rows * u : state, "output");
        Reserve(batch, steps);
        _batch = batch;
        _steps = steps;
        _hasBias = !bias.IsEmpty;
        _hasRecurrentMask = !recurrentMask.IsEmpty;

        // Step-major (T, B, F), masked and in processing order: the CPU core's layout.
        var packed = _hostPacked.AsSpan(0, rows * f);
        HostSequenceLayout.ToStepMajor(x, packed, batch, steps, f, _goBackwards, inputMask.IsEmpty ? default : inputMask[..(batch * f)]);
        var dPacked = Upload(PackedInputs, packed);
        var dKernel = Upload(Kernel, kernel);
        var dRecurrent = Upload(RecurrentKernel, recurrentKernel);
        var hidden = _buffers.Floats(Hidden, (long)(steps + 1) * state);
        var cell = _buffers.Floats(Cell, (long)(steps + 1) * state);
        if (_hasRecurrentMask) DeviceOps.Upload(recurrentMask[..state], _buffers.Floats(RecurrentMask, state));
        if (initialHidden.IsEmpty) hidden.SubView(0, state).MemSetToZero(); else DeviceOps.Upload(initialHidden[..state], hidden);
        if (initialCell.IsEmpty) cell.SubView(0, state).MemSetToZero(); else DeviceOps.Upload(initialCell[..state], cell);

        RunSteps(dPacked, dKernel, dRecurrent, _hasBias ? Upload(Bias, bias[..g]) : default);

        _ops.Download(hidden.SubView((long)steps * state, state), _finalHidden.AsSpan(0, state));
        _ops.Download(cell.SubView((long)steps * state, state), _finalCell.AsSpan(0, state));
        if (_returnSequences)
        {
            var states = HostSequenceLayout.GrowAndSlice(ref _hostStates, rows * u);
            _ops.Download(hidden.SubView(state, (long)rows * u), states);
            HostSequenceLayout.ToBatchMajor(states, output, batch, steps, u, reverse: false, mask: default);
        }
        else _finalHidden.AsSpan(0, state).CopyTo(output);
        if (!inputMask.IsEmpty) inputMask[..(batch * f)].CopyTo(_hostMask);
        _hasInputMask = !inputMask.IsEmpty;
        _forwardDone = true;
    }

    /// <summary>The input projection of all steps as one product, then per step the recurrent product and the fused gate kernel.</summary>
    private void RunSteps(ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent, ArrayView<float> bias)
    {
        int batch = _batch, steps = _steps, f = _features, u = _units, g = 4 * u, rows = batch * steps, state = batch * u;
        var gates = _buffers.Floats(Gates, (long)rows * g);
        var hidden = _buffers.Floats(Hidden, (long)(steps + 1) * state);
        var cell = _buffers.Floats(Cell, (long)(steps + 1) * state);
        var activatedCell = _buffers.Floats(ActivatedCell, (long)rows * u);
        var dropped = _buffers.Floats(DroppedHidden, (long)rows * u);
        var mask = _buffers.Floats(RecurrentMask, state);
        var dRecurrent = recurrent;
        _ops.MatMul(packed, kernel, gates, rows, f, g, false, false, accumulate: false);
        if (_hasBias) _ops.AddBias(gates, bias, rows, g);
        for (int s = 0; s < steps; s++)
        {
            var h = hidden.SubView((long)s * state, state);
            var stepGates = gates.SubView((long)s * batch * g, batch * g);
            var recurrentInput = h;
            if (_hasRecurrentMask)
            {
                recurrentInput = dropped.SubView((long)s * state, state);
                _ops.Multiply(h, mask, recurrentInput, state);
            }
            _ops.MatMul(recurrentInput, dRecurrent, stepGates, batch, u, g, false, false, accumulate: true);
            _ops.LstmForwardStep(stepGates, cell.SubView((long)s * state, state), cell.SubView((long)(s + 1) * state, state),
                activatedCell.SubView((long)s * state, state), hidden.SubView((long)(s + 1) * state, state), batch, u, _activation, _recurrentActivation);
        }
    }

    public int StateCount => 2;

    public void ForwardOnDevice(int batch, int steps, ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent,
        ArrayView<float> bias, ReadOnlySpan<ArrayView<float>> initialStates)
    {
        _batch = batch;
        _steps = steps;
        _hasBias = bias.Length > 0;
        _hasRecurrentMask = false;
        _hasInputMask = false;
        int state = batch * _units;
        var hidden = _buffers.Floats(Hidden, (long)(steps + 1) * state);
        var cell = _buffers.Floats(Cell, (long)(steps + 1) * state);
        if (initialStates.IsEmpty)
        {
            hidden.SubView(0, state).MemSetToZero();
            cell.SubView(0, state).MemSetToZero();
        }
        else
        {
            initialStates[0].SubView(0, state).CopyTo(hidden.SubView(0, state));
            initialStates[1].SubView(0, state).CopyTo(cell.SubView(0, state));
        }
        RunSteps(packed, kernel, recurrent, bias);
        _forwardDone = true;
    }

    public ArrayView<float> HiddenSequence =>
        _buffers.Floats(Hidden, (long)(_steps + 1) * _batch * _units).SubView((long)_batch * _units, (long)_steps * _batch * _units);

    public ArrayView<float> FinalStateView(int index) =>
        _buffers.Floats(index == 0 ? Hidden : Cell, (long)(_steps + 1) * _batch * _units).SubView((long)_steps * _batch * _units, _batch * _units);

    public void BackwardOnDevice(ArrayView<float> dOutput, ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent,
        ArrayView<float> dKernel, ArrayView<float> dRecurrent, ArrayView<float> dBias, ArrayView<float> dPacked)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward needs a Forward of its own: it was called before Forward, or twice after one. Run Forward on the batch first.");
        _forwardDone = false;
        int batch = _batch, steps = _steps, f = _features, u = _units, g = 4 * u, rows = batch * steps, state = batch * u;
        _buffers.Floats(DHidden, state).MemSetToZero();
        _buffers.Floats(DCell, state).MemSetToZero();
        BackSteps(dOutput, recurrent);
        var gates = _buffers.Floats(Gates, (long)rows * g);
        _ops.MatMul(packed, gates, dKernel, f, rows, g, transA: true, false, accumulate: false);
        _ops.MatMul(_buffers.Floats(Hidden, (long)(steps + 1) * state), gates, dRecurrent, u, rows, g, transA: true, false, accumulate: false);
        if (dBias.Length > 0) _ops.SumRows(gates, dBias, rows, g, accumulate: false);
        if (dPacked.Length > 0) _ops.MatMul(gates, kernel, dPacked, rows, g, f, false, transB: true, accumulate: false);
    }

    private bool _hasInputMask;

    public void RunBackward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden, Span<float> dInitialCell)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward needs a Forward of its own: it was called before Forward, or twice after one. Run Forward on the batch first.");
        _forwardDone = false;
        int batch = _batch, steps = _steps, f = _features, u = _units, g = 4 * u, rows = batch * steps, state = batch * u;
        Expect(dKernel.Length, f * g, "kernel gradient");
        Expect(dRecurrentKernel.Length, u * g, "recurrent kernel gradient");

        var gates = _buffers.Floats(Gates, (long)rows * g);
        var dRecurrent = Upload(RecurrentKernel, recurrentKernel);
        var dh = _buffers.Floats(DHidden, state);
        var dc = _buffers.Floats(DCell, state);
        if (dFinalHidden.IsEmpty) dh.MemSetToZero(); else DeviceOps.Upload(dFinalHidden[..state], dh);
        if (dFinalCell.IsEmpty) dc.MemSetToZero(); else DeviceOps.Upload(dFinalCell[..state], dc);

        // The output gradient, step-major like the states.
        var dOut = _buffers.Floats(DOutput, _returnSequences ? (long)rows * u : state);
        HostSequenceLayout.UploadOutputGradient(dOutput, dOut, ref _hostStates, batch, steps, u, _returnSequences);

        BackSteps(dOutput.IsEmpty ? default : dOut, dRecurrent);
        if (!dInitialHidden.IsEmpty) _ops.Download(dh, dInitialHidden[..state]);
        if (!dInitialCell.IsEmpty) _ops.Download(dc, dInitialCell[..state]);

        var packedInputs = _buffers.Floats(PackedInputs, (long)rows * f);
        var dK = Upload(DKernel, dKernel);
        _ops.MatMul(packedInputs, gates, dK, f, rows, g, transA: true, false, accumulate: true);
        _ops.Download(dK, dKernel);
        var recurrentInputs = _hasRecurrentMask ? _buffers.Floats(DroppedHidden, (long)rows * u) : _buffers.Floats(Hidden, (long)(steps + 1) * state);
        var dR = Upload(DRecurrentKernel, dRecurrentKernel);
        _ops.MatMul(recurrentInputs, gates, dR, u, rows, g, transA: true, false, accumulate: true);
        _ops.Download(dR, dRecurrentKernel);
        if (!dBias.IsEmpty)
        {
            var dB = Upload(DBias, dBias[..g]);
            _ops.SumRows(gates, dB, rows, g, accumulate: true);
            _ops.Download(dB, dBias[..g]);
        }
        if (!dx.IsEmpty)
        {
            var dInputs = _buffers.Floats(DInputs, (long)rows * f);
            _ops.MatMul(gates, Upload(Kernel, kernel), dInputs, rows, g, f, false, transB: true, accumulate: false);
            var packed = HostSequenceLayout.GrowAndSlice(ref _hostPacked, rows * f);
            _ops.Download(dInputs, packed);
            HostSequenceLayout.ToBatchMajor(packed, dx, batch, steps, f, _goBackwards, _hasInputMask ? _hostMask.AsSpan(0, batch * f) : default);
        }
    }

    /// <summary>
    /// Back through every step (dh and dc hold the final states' gradients on entry, the initial ones on exit), adding
    /// the output's gradient (step-major; none when empty) where the output took h; leaves dz over the gates.
    /// </summary>
    private void BackSteps(ArrayView<float> dOut, ArrayView<float> recurrent)
    {
        int batch = _batch, steps = _steps, u = _units, g = 4 * u, rows = batch * steps, state = batch * u;
        var gates = _buffers.Floats(Gates, (long)rows * g);
        var cell = _buffers.Floats(Cell, (long)(steps + 1) * state);
        var activatedCell = _buffers.Floats(ActivatedCell, (long)rows * u);
        var mask = _buffers.Floats(RecurrentMask, state);
        var dh = _buffers.Floats(DHidden, state);
        var dc = _buffers.Floats(DCell, state);
        for (int s = steps - 1; s >= 0; s--)
        {
            if (dOut.Length > 0 && (_returnSequences || s == steps - 1))
                _ops.AddInPlace(dh, _returnSequences ? dOut.SubView((long)s * state, state) : dOut, state);
            var stepGates = gates.SubView((long)s * batch * g, batch * g);
            _ops.LstmBackwardStep(stepGates, cell.SubView((long)s * state, state), activatedCell.SubView((long)s * state, state), dh, dc,
                batch, u, _activation, _recurrentActivation);
            // dh for the previous step: dz·Rᵀ, through the recurrent dropout mask.
            _ops.MatMul(stepGates, recurrent, dh, batch, g, u, false, transB: true, accumulate: false);
            if (_hasRecurrentMask) _ops.Multiply(dh, mask, dh, state);
        }
    }

    private ArrayView<float> Upload(int slot, ReadOnlySpan<float> values)
    {
        var view = _buffers.Floats(slot, values.Length);
        DeviceOps.Upload(values, view);
        return view;
    }

    private static void Expect(int actual, int expected, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"An LSTM sequence needs {expected} values of {what}; received {actual}.", what);
    }

    public void Dispose() => _buffers.Dispose();
}
