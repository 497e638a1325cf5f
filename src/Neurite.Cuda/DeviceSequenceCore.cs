using GateActivation = Neurite.Backends.GateActivation;
using ILGPU;
using ILGPU.Runtime;
using Neurite.Backends;

namespace Neurite.Cuda;

/// <summary>
/// A whole hidden-state recurrent sequence (GRU, SimpleRNN) on the device, in the CPU driver's layout
/// (see <c>RecurrentSequence</c>): x packed step-major (T, B, F) in processing order and masked, its
/// projection x̃W + b of all steps as one product, then per step the cell's recurrent products and fused
/// gate kernels; backward mirrors it, and the input weights' gradients are one product over all steps.
/// The states and gates of every step stay on the device between the two passes.
/// </summary>
internal abstract class DeviceSequenceCore : IRecurrentCore, IDeviceSequenceCore
{
    private readonly string _noun;
    private readonly bool _returnSequences, _goBackwards;
    private bool _hasInputMask, _forwardDone;
    private float[] _hostPacked = [], _hostMask = [], _hostStates = [], _finalHidden = [];

    // Scratch slots of the driver; a cell's own start at CellSlots.
    private const int PackedInputs = 0, HiddenStates = 2, Dropped = 3, Mask = 4, KernelSlot = 5, RecurrentKernelSlot = 6, BiasSlot = 7,
        DHiddenSlot = 8, DOutputSlot = 9, DKernelSlot = 10, DRecurrentKernelSlot = 11, DBiasSlot = 12, DInputs = 13;
    private protected const int ProjectionSlot = 1, CellSlots = 16;

    private protected DeviceSequenceCore(string noun, DeviceOps ops, int features, int units, int gates,
        GateActivation activation, GateActivation recurrentActivation, bool returnSequences, bool goBackwards)
    {
        _noun = noun;
        Ops = ops;
        Buffers = new Scratch(ops.Accelerator);
        Features = features;
        Units = units;
        GateWidth = gates * units;
        Activation = (int)activation;
        RecurrentActivation = (int)recurrentActivation;
        _returnSequences = returnSequences;
        _goBackwards = goBackwards;
    }

    private protected DeviceOps Ops { get; }
    private protected Scratch Buffers { get; }
    private protected int Features { get; }
    private protected int Units { get; }
    private protected int GateWidth { get; }
    private protected int Activation { get; }
    private protected int RecurrentActivation { get; }
    private protected int Batch { get; private set; }
    private protected int Steps { get; private set; }
    private protected bool HasRecurrentMask { get; private set; }
    private protected int StateSize => Batch * Units;

    /// <summary>Bias values the cell takes: the gate width, or more (a GRU with resetAfter has a recurrent bias too).</summary>
    private protected virtual int BiasLength => GateWidth;

    public ReadOnlySpan<float> FinalHidden => _finalHidden.AsSpan(0, Batch * Units);

    public ReadOnlySpan<float> FinalCell => throw new InvalidOperationException($"{_noun} carries no cell state c.");

    /// <summary>The input projection of all steps (T, B, G), the cell's gates stored over it by the forward steps.</summary>
    private protected ArrayView<float> Projection(int step) => Buffers.Floats(ProjectionSlot, (long)Steps * Batch * GateWidth).SubView((long)step * Batch * GateWidth, Batch * GateWidth);

    /// <summary>h before step s (s = 0: the initial state), (B, U).</summary>
    private protected ArrayView<float> Hidden(int step) => Buffers.Floats(HiddenStates, (long)(Steps + 1) * StateSize).SubView((long)step * StateSize, StateSize);

    /// <summary>What step s multiplies by the recurrent kernel: h̃ = h ⊙ recurrent mask, or h.</summary>
    private protected ArrayView<float> RecurrentInput(int step) =>
        HasRecurrentMask ? Buffers.Floats(Dropped, (long)Steps * StateSize).SubView((long)step * StateSize, StateSize) : Hidden(step);

    /// <summary>Every step's h̃ (T·B, U), the left operand of the recurrent kernel's gradient.</summary>
    private protected ArrayView<float> RecurrentInputs => HasRecurrentMask
        ? Buffers.Floats(Dropped, (long)Steps * StateSize)
        : Buffers.Floats(HiddenStates, (long)(Steps + 1) * StateSize).SubView(0, (long)Steps * StateSize);

    private protected ArrayView<float> RecurrentMask => Buffers.Floats(Mask, StateSize);

    /// <summary>dh flowing into the current step, (B, U).</summary>
    private protected ArrayView<float> DHidden => Buffers.Floats(DHiddenSlot, StateSize);

    /// <summary>The gradients of the input projection of all steps (T, B, G), which the backward steps fill.</summary>
    private protected abstract ArrayView<float> InputGateGradients { get; }

    /// <summary>Takes the recurrent kernel (U, G) and the whole bias (empty when none) on the device for the steps that follow.</summary>
    private protected abstract void UseRecurrentKernel(ArrayView<float> recurrentKernel, ArrayView<float> bias);

    private protected abstract void ForwardStep(int step);

    /// <summary>Back through step s (dh holds its full gradient); with <paramref name="needPrevious"/>, leaves the previous step's dh.</summary>
    private protected abstract void BackwardStep(int step, bool needPrevious);

    /// <summary>Writes or adds the recurrent kernel's gradient (and the cell's own bias gradient, from <see cref="GateWidth"/> on) over all steps.</summary>
    private protected abstract void RecurrentWeightGradients(ArrayView<float> dRecurrentKernel, ArrayView<float> dBias, bool accumulate);

    public int StateCount => 1;

    public ArrayView<float> HiddenSequence => Buffers.Floats(HiddenStates, (long)(Steps + 1) * StateSize).SubView(StateSize, (long)Steps * StateSize);

    public ArrayView<float> FinalStateView(int index) => Hidden(Steps);

    public void ForwardOnDevice(int batch, int steps, ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent,
        ArrayView<float> bias, ReadOnlySpan<ArrayView<float>> initialStates)
    {
        Batch = batch;
        Steps = steps;
        HasRecurrentMask = false;
        _hasInputMask = false;
        var h0 = Hidden(0);
        if (initialStates.IsEmpty) h0.MemSetToZero(); else initialStates[0].SubView(0, StateSize).CopyTo(h0);
        RunSteps(packed, kernel, recurrent, bias);
        _forwardDone = true;
    }

    public void BackwardOnDevice(ArrayView<float> dOutput, ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent,
        ArrayView<float> dKernel, ArrayView<float> dRecurrent, ArrayView<float> dBias, ArrayView<float> dPacked)
    {
        TakeForward();
        DHidden.MemSetToZero();
        BackSteps(dOutput, wantsInitialGradient: false);
        WeightGradients(packed, kernel, dKernel, dRecurrent, dBias, dPacked, accumulate: false);
    }

    /// <summary>x̃W + b of all steps as one product, the recurrent weights handed to the cell, then every step (h̃ = h ⊙ mask first).</summary>
    private void RunSteps(ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent, ArrayView<float> bias)
    {
        int rows = Batch * Steps, g = GateWidth;
        var projection = Buffers.Floats(ProjectionSlot, (long)rows * g);
        Ops.MatMul(packed, kernel, projection, rows, Features, g, false, false, accumulate: false);
        if (bias.Length > 0) Ops.AddBias(projection, bias, rows, g);
        UseRecurrentKernel(recurrent, bias);
        for (int s = 0; s < Steps; s++)
        {
            if (HasRecurrentMask) Ops.Multiply(Hidden(s), RecurrentMask, RecurrentInput(s), StateSize);
            ForwardStep(s);
        }
    }

    /// <summary>
    /// Back through every step (dh holds the final state's gradient on entry, the initial one's on exit when asked), adding
    /// the output's gradient (step-major; none when empty) where the output took h.
    /// </summary>
    private void BackSteps(ArrayView<float> dOut, bool wantsInitialGradient)
    {
        int state = StateSize;
        for (int s = Steps - 1; s >= 0; s--)
        {
            if (dOut.Length > 0 && (_returnSequences || s == Steps - 1))
                Ops.AddInPlace(DHidden, _returnSequences ? dOut.SubView((long)s * state, state) : dOut, state);
            BackwardStep(s, needPrevious: s > 0 || wantsInitialGradient);
        }
    }

    /// <summary>The weights' gradients over all steps, written or added; the packed input's, d(x̃W)·Wᵀ, when <paramref name="dPacked"/> is not empty.</summary>
    private void WeightGradients(ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> dKernel, ArrayView<float> dRecurrent,
        ArrayView<float> dBias, ArrayView<float> dPacked, bool accumulate)
    {
        int rows = Batch * Steps, g = GateWidth;
        var gradients = InputGateGradients;
        Ops.MatMul(packed, gradients, dKernel, Features, rows, g, transA: true, false, accumulate);
        if (dBias.Length > 0) Ops.SumRows(gradients, dBias, rows, g, accumulate);
        RecurrentWeightGradients(dRecurrent, dBias, accumulate);
        if (dPacked.Length > 0) Ops.MatMul(gradients, kernel, dPacked, rows, g, Features, false, transB: true, accumulate: false);
    }

    private void TakeForward()
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward needs a Forward of its own: it was called before Forward, or twice after one. Run Forward on the batch first.");
        _forwardDone = false;
    }

    public void Reserve(int batch, int steps)
    {
        HostSequenceLayout.Grow(ref _hostPacked, (long)batch * steps * Math.Max(Features, Units));
        HostSequenceLayout.Grow(ref _hostMask, (long)batch * Features);
        HostSequenceLayout.Grow(ref _finalHidden, (long)batch * Units);
    }

    public void RunForward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask)
    {
        int f = Features, u = Units, g = GateWidth, rows = batch * steps, state = batch * u;
        if (batch <= 0 || steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"{_noun} sequence needs a positive batch and number of steps; received batch {batch}, steps {steps}.");
        Expect(x.Length, rows * f, "x");
        Expect(kernel.Length, f * g, "kernel");
        Expect(recurrentKernel.Length, u * g, "recurrent kernel");
        if (!bias.IsEmpty) Expect(bias.Length, BiasLength, "bias");
        Expect(output.Length, _returnSequences ? rows * u : state, "output");
        Reserve(batch, steps);
        Batch = batch;
        Steps = steps;
        HasRecurrentMask = !recurrentMask.IsEmpty;

        var packed = _hostPacked.AsSpan(0, rows * f);
        HostSequenceLayout.ToStepMajor(x, packed, batch, steps, f, _goBackwards, inputMask.IsEmpty ? default : inputMask[..(batch * f)]);
        if (HasRecurrentMask) DeviceOps.Upload(recurrentMask[..state], RecurrentMask);
        var h0 = Hidden(0);
        if (initialHidden.IsEmpty) h0.MemSetToZero(); else DeviceOps.Upload(initialHidden[..state], h0);
        RunSteps(Upload(PackedInputs, packed), Upload(KernelSlot, kernel), Upload(RecurrentKernelSlot, recurrentKernel),
            bias.IsEmpty ? default : Upload(BiasSlot, bias));

        Ops.Download(Hidden(steps), _finalHidden.AsSpan(0, state));
        if (_returnSequences)
        {
            var states = HostSequenceLayout.GrowAndSlice(ref _hostStates, rows * u);
            Ops.Download(Buffers.Floats(HiddenStates, (long)(steps + 1) * state).SubView(state, (long)rows * u), states);
            HostSequenceLayout.ToBatchMajor(states, output, batch, steps, u, reverse: false, mask: default);
        }
        else _finalHidden.AsSpan(0, state).CopyTo(output);
        _hasInputMask = !inputMask.IsEmpty;
        if (_hasInputMask) inputMask[..(batch * f)].CopyTo(_hostMask);
        _forwardDone = true;
    }

    public void RunBackward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden, Span<float> dInitialCell)
    {
        TakeForward();
        int batch = Batch, steps = Steps, f = Features, u = Units, g = GateWidth, rows = batch * steps, state = batch * u;
        Expect(dKernel.Length, f * g, "kernel gradient");
        Expect(dRecurrentKernel.Length, u * g, "recurrent kernel gradient");
        if (!dBias.IsEmpty) Expect(dBias.Length, BiasLength, "bias gradient");

        var dh = DHidden;
        if (dFinalHidden.IsEmpty) dh.MemSetToZero(); else DeviceOps.Upload(dFinalHidden[..state], dh);
        // The output gradient, step-major like the states.
        var dOut = Buffers.Floats(DOutputSlot, _returnSequences ? (long)rows * u : state);
        HostSequenceLayout.UploadOutputGradient(dOutput, dOut, ref _hostStates, batch, steps, u, _returnSequences);

        bool wantsInitialGradient = !dInitialHidden.IsEmpty;
        BackSteps(dOutput.IsEmpty ? default : dOut, wantsInitialGradient);
        if (wantsInitialGradient) Ops.Download(dh, dInitialHidden[..state]);

        var dK = Upload(DKernelSlot, dKernel);
        var dR = Upload(DRecurrentKernelSlot, dRecurrentKernel);
        var dB = dBias.IsEmpty ? default : Upload(DBiasSlot, dBias);
        var dInputs = dx.IsEmpty ? default : Buffers.Floats(DInputs, (long)rows * f);
        WeightGradients(Buffers.Floats(PackedInputs, (long)rows * f), Upload(KernelSlot, kernel), dK, dR, dB, dInputs, accumulate: true);
        Ops.Download(dK, dKernel);
        Ops.Download(dR, dRecurrentKernel);
        if (!dBias.IsEmpty) Ops.Download(dB, dBias);
        if (!dx.IsEmpty)
        {
            var packed = HostSequenceLayout.GrowAndSlice(ref _hostPacked, rows * f);
            Ops.Download(dInputs, packed);
            HostSequenceLayout.ToBatchMajor(packed, dx, batch, steps, f, _goBackwards, _hasInputMask ? _hostMask.AsSpan(0, batch * f) : default);
        }
    }

    private protected ArrayView<float> Upload(int slot, ReadOnlySpan<float> values)
    {
        var view = Buffers.Floats(slot, values.Length);
        DeviceOps.Upload(values, view);
        return view;
    }

    private void Expect(int actual, int expected, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"{_noun} sequence needs {expected} values of {what}; received {actual}.", what);
    }

    public void Dispose() => Buffers.Dispose();
}

/// <summary>A SimpleRNN sequence on the device: per step pre += h̃R (one product) and h' = act(pre) (one kernel).</summary>
internal sealed class DeviceSimpleRnnCore(DeviceOps ops, int features, int units, GateActivation activation, bool returnSequences, bool goBackwards)
    : DeviceSequenceCore("A SimpleRNN", ops, features, units, 1, activation, GateActivation.Linear, returnSequences, goBackwards)
{
    private ArrayView<float> _recurrentKernel;

    // The backward steps overwrite each step's pre-activations with their gradients, as the CPU core does.
    private protected override ArrayView<float> InputGateGradients => Buffers.Floats(ProjectionSlot, (long)Steps * StateSize);

    private protected override void UseRecurrentKernel(ArrayView<float> recurrentKernel, ArrayView<float> bias) => _recurrentKernel = recurrentKernel;

    private protected override void ForwardStep(int step)
    {
        var pre = Projection(step);
        Ops.MatMul(RecurrentInput(step), _recurrentKernel, pre, Batch, Units, Units, false, false, accumulate: true);
        Ops.SimpleRnnForwardStep(pre, Hidden(step + 1), StateSize, Activation);
    }

    private protected override void BackwardStep(int step, bool needPrevious)
    {
        var dPre = Projection(step);
        Ops.SimpleRnnBackwardStep(Hidden(step + 1), DHidden, dPre, StateSize, Activation);
        if (!needPrevious) return;
        Ops.MatMul(dPre, _recurrentKernel, DHidden, Batch, Units, Units, false, transB: true, accumulate: false);
        if (HasRecurrentMask) Ops.Multiply(DHidden, RecurrentMask, DHidden, StateSize);
    }

    private protected override void RecurrentWeightGradients(ArrayView<float> dRecurrentKernel, ArrayView<float> dBias, bool accumulate) =>
        Ops.MatMul(RecurrentInputs, InputGateGradients, dRecurrentKernel, Units, Batch * Steps, Units, transA: true, false, accumulate);
}
