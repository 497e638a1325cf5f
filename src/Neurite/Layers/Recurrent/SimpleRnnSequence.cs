using System.Runtime.InteropServices;
using Neurite.Kernels;

namespace Neurite.Layers;

/// <summary>
/// A whole simple (Elman) RNN sequence, forward and backpropagation through time, on spans, in
/// Keras's weight layout. Owns its scratch buffers; once grown it does not allocate.
/// </summary>
/// <remarks>
/// Shapes: x (B, T, F); kernel W (F, U); recurrent kernel R (U, U); bias (U).
/// <c>h' = act(x̃W + h̃R + b)</c> with x̃ = x ⊙ inputMask, h̃ = h ⊙ recurrentMask.
/// </remarks>
internal sealed unsafe class SimpleRnnSequence : IRowSteps
{
    private const string Op = "SimpleRNN sequence";

    private float[] _packedInputs = [];    // (T, B, F)
    private float[] _preActivation = [];   // (T, B, U)
    private float[] _hidden = [];          // (T+1, B, U)
    private float[] _droppedHidden = [];   // (T, B, U)
    private float[] _dPreActivation = [];  // (T, B, U)
    private float[] _dPackedInputs = [];   // (T, B, F)
    private float[] _dHidden = [];         // (B, U)
    private float[] _inputMask = [];
    private float[] _recurrentMask = [];
    private bool _hasInputMask, _hasRecurrentMask, _forwardDone;
    private int _batch, _steps;

    // Refreshed on every pass (weights change between batches): R for the forward steps, Rᵀ for
    // the backward steps, Wᵀ for the input gradient.
    private readonly PackedMatrix _recurrentPacked;
    private readonly PackedMatrix _recurrentTransposed;
    private PackedMatrix? _kernelTransposed;
    private readonly RowSplitPass _rowPass;
    private PinnedFloats _dOutput; // the caller's output gradient, pinned by Backward for its step pass

    public SimpleRnnSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        bool returnSequences = false, bool goBackwards = false)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, "A SimpleRNN needs at least one input feature.");
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, "A SimpleRNN needs a positive number of units.");
        Features = features;
        Units = units;
        Activation = activation;
        ReturnSequences = returnSequences;
        GoBackwards = goBackwards;
        _recurrentPacked = new PackedMatrix(units, units);
        _recurrentTransposed = new PackedMatrix(units, units);
        _rowPass = new RowSplitPass(this);
    }

    public int Features { get; }
    public int Units { get; }
    public GateActivation Activation { get; }
    public bool ReturnSequences { get; }
    public bool GoBackwards { get; }

    /// <summary>h after the last step of the latest forward pass, (B, U).</summary>
    public ReadOnlySpan<float> FinalHidden => _hidden.AsSpan(_steps * _batch * Units, _batch * Units);

    public void Reserve(int batch, int steps)
    {
        int u = Units, f = Features, rows = batch * steps;
        SequenceLayout.EnsureLength(ref _packedInputs, rows * f);
        SequenceLayout.EnsureLength(ref _preActivation, rows * u);
        SequenceLayout.EnsureLength(ref _hidden, (rows + batch) * u);
        SequenceLayout.EnsureLength(ref _dPreActivation, rows * u);
        SequenceLayout.EnsureLength(ref _dPackedInputs, rows * f);
        SequenceLayout.EnsureLength(ref _dHidden, batch * u);
        SequenceLayout.EnsureLength(ref _inputMask, batch * f);
        SequenceLayout.EnsureLength(ref _recurrentMask, batch * u);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Forward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask = default, ReadOnlySpan<float> recurrentMask = default)
    {
        int u = Units, f = Features;
        if (batch <= 0 || steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"A SimpleRNN sequence needs a positive batch and number of steps; received batch {batch}, steps {steps}.");
        SequenceLayout.CheckLength(x, batch * steps * f, Op, "x", "(B={0}, T={1}, F={2})", batch, steps, f);
        SequenceLayout.CheckOptionalLength(initialHidden, batch * u, Op, "initial h", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckLength(kernel, f * u, Op, "kernel", "(F={0}, U={1})", f, u);
        SequenceLayout.CheckLength(recurrentKernel, u * u, Op, "recurrent kernel", "(U={0}, U={0})", u);
        SequenceLayout.CheckOptionalLength(bias, u, Op, "bias", "(U={0})", u);
        SequenceLayout.CheckLength(output, ReturnSequences ? batch * steps * u : batch * u, Op, "output",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        SequenceLayout.CheckOptionalLength(inputMask, batch * f, Op, "input dropout mask", "(B={0}, F={1})", batch, f);
        SequenceLayout.CheckOptionalLength(recurrentMask, batch * u, Op, "recurrent dropout mask", "(B={0}, U={1})", batch, u);

        Reserve(batch, steps);
        _batch = batch;
        _steps = steps;
        _hasInputMask = !inputMask.IsEmpty;
        _hasRecurrentMask = !recurrentMask.IsEmpty;
        if (_hasInputMask) inputMask.CopyTo(_inputMask);
        if (_hasRecurrentMask)
        {
            recurrentMask.CopyTo(_recurrentMask);
            SequenceLayout.EnsureLength(ref _droppedHidden, batch * steps * u);
        }

        int rows = batch * steps, stateSize = batch * u;
        var packed = _packedInputs.AsSpan(0, rows * f);
        var pre = _preActivation.AsSpan(0, rows * u);
        SequenceLayout.PackInputs(x, packed, batch, steps, f, GoBackwards, inputMask);
        SequenceLayout.ProjectInputs(packed, kernel, bias, pre, rows, f, u);
        Gemm.Repack(_recurrentPacked, recurrentKernel);

        var hidden = _hidden.AsSpan();
        if (initialHidden.IsEmpty) hidden[..stateSize].Clear(); else initialHidden.CopyTo(hidden);
        _rowPass.Run(batch, steps, 2.0 * batch * u * u, backward: false);

        if (ReturnSequences) SequenceLayout.UnpackSequence(hidden.Slice(stateSize, rows * u), output, batch, steps, u);
        else FinalHidden.CopyTo(output);
        _forwardDone = true;
    }

    /// <summary>
    /// Backpropagation through the whole sequence of the latest <see cref="Forward"/>; weight
    /// gradients are added, <paramref name="dx"/> is overwritten, empty spans skip a gradient.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias, Span<float> dInitialHidden = default)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward was called before Forward. Run Forward on the batch first.");
        int batch = _batch, steps = _steps, u = Units, f = Features;
        int rows = batch * steps, stateSize = batch * u;
        SequenceLayout.CheckOptionalLength(dOutput, ReturnSequences ? rows * u : stateSize, Op, "output gradient",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        SequenceLayout.CheckOptionalLength(dFinalHidden, stateSize, Op, "final h gradient", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckLength(kernel, f * u, Op, "kernel", "(F={0}, U={1})", f, u);
        SequenceLayout.CheckLength(recurrentKernel, u * u, Op, "recurrent kernel", "(U={0}, U={0})", u);
        SequenceLayout.CheckOptionalLength(dx, rows * f, Op, "input gradient", "(B={0}, T={1}, F={2})", batch, steps, f);
        SequenceLayout.CheckLength(dKernel, f * u, Op, "kernel gradient", "(F={0}, U={1})", f, u);
        SequenceLayout.CheckLength(dRecurrentKernel, u * u, Op, "recurrent kernel gradient", "(U={0}, U={0})", u);
        SequenceLayout.CheckOptionalLength(dBias, u, Op, "bias gradient", "(U={0})", u);
        SequenceLayout.CheckOptionalLength(dInitialHidden, stateSize, Op, "initial h gradient", "(B={0}, U={1})", batch, u);

        var dh = _dHidden.AsSpan(0, stateSize);
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        var dPre = _dPreActivation.AsSpan(0, rows * u);
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(0, stateSize) : default;
        if (steps > 1 || !dInitialHidden.IsEmpty) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
        fixed (float* pinDOutput = dOutput)
        {
            _dOutput = new(pinDOutput, dOutput.Length);
            _rowPass.Run(batch, steps, 2.0 * batch * u * u, backward: true);
            _dOutput = default;
        }
        if (!dInitialHidden.IsEmpty)
        {
            Gemm.Multiply(dPre[..stateSize], _recurrentTransposed, dInitialHidden, batch);
            if (_hasRecurrentMask) SequenceLayout.Multiply(dInitialHidden, recurrentMask, dInitialHidden);
        }

        ReadOnlySpan<float> recurrentInputs = _hasRecurrentMask ? _droppedHidden.AsSpan(0, rows * u) : _hidden.AsSpan(0, rows * u);
        SequenceLayout.AddInputWeightGradients(_packedInputs.AsSpan(0, rows * f), dPre, dKernel, dBias, rows, f, u);
        Gemm.Multiply(recurrentInputs, dPre, dRecurrentKernel, u, rows, u, transA: true, accumulate: true);
        if (!dx.IsEmpty)
        {
            var dPacked = _dPackedInputs.AsSpan(0, rows * f);
            SequenceLayout.MultiplyByKernelTransposed(dPre, kernel, dPacked, rows, u, f, ref _kernelTransposed);
            SequenceLayout.UnpackInputGradient(dPacked, dx, batch, steps, f, GoBackwards,
                _hasInputMask ? _inputMask.AsSpan(0, batch * f) : default);
        }
    }

    void IRowSteps.RunRows(int firstRow, int endRow, bool backward)
    {
        if (backward) BackwardSteps(firstRow, endRow);
        else ForwardSteps(firstRow, endRow);
    }

    private void ForwardSteps(int b0, int b1)
    {
        int batch = _batch, u = Units, rowsHere = b1 - b0, stateSize = batch * u, offset = b0 * u, length = rowsHere * u;
        var hidden = _hidden.AsSpan();
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(offset, length) : default;
        for (int s = 0; s < _steps; s++)
        {
            var hPrev = hidden.Slice(s * stateSize + offset, length);
            ReadOnlySpan<float> recurrentInput = hPrev;
            if (_hasRecurrentMask)
            {
                var dropped = _droppedHidden.AsSpan(s * stateSize + offset, length);
                SequenceLayout.Multiply(hPrev, recurrentMask, dropped);
                recurrentInput = dropped;
            }
            var stepPre = _preActivation.AsSpan(s * stateSize + offset, length);
            Gemm.Multiply(recurrentInput, _recurrentPacked, stepPre, rowsHere, accumulate: true);
            Activate(stepPre, hidden.Slice((s + 1) * stateSize + offset, length));
        }
    }

    private void BackwardSteps(int b0, int b1)
    {
        int batch = _batch, steps = _steps, u = Units, rowsHere = b1 - b0, stateSize = batch * u, offset = b0 * u, length = rowsHere * u;
        var dh = _dHidden.AsSpan(offset, length);
        var dPre = _dPreActivation.AsSpan();
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(offset, length) : default;
        var dOutput = _dOutput.ReadOnly;
        for (int s = steps - 1; s >= 0; s--)
        {
            if (s < steps - 1)
            {
                Gemm.Multiply(dPre.Slice((s + 1) * stateSize + offset, length), _recurrentTransposed, dh, rowsHere);
                if (_hasRecurrentMask) SequenceLayout.Multiply(dh, recurrentMask, dh);
            }
            SequenceLayout.AddOutputGradient(dOutput, _dHidden, batch, steps, u, s, ReturnSequences, b0, b1);
            ActivationBackward(_hidden.AsSpan((s + 1) * stateSize + offset, length), dh, dPre.Slice(s * stateSize + offset, length));
        }
    }

    private void Activate(ReadOnlySpan<float> pre, Span<float> hNext)
    {
        ref float p = ref MemoryMarshal.GetReference(pre);
        ref float h = ref MemoryMarshal.GetReference(hNext);
        int n = hNext.Length, j = 0;
        var path = KernelSelector.Current;
        if (path == KernelPath.Vector512) j = ActivateLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, n, ref p, ref h);
        if (path != KernelPath.Scalar) j = ActivateLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, n, ref p, ref h);
        ActivateLanes<LanesScalar, float>(j, n, ref p, ref h);
    }

    private int ActivateLanes<TL, TV>(int j, int n, ref float p, ref float h) where TL : struct, ILanes<TV> where TV : struct
    {
        var act = Activation;
        for (; j <= n - TL.Width; j += TL.Width) TL.Store(TL.Activate(act, TL.Load(ref p, j)), ref h, j);
        return j;
    }

    /// <summary><c>dPre = dh ⊙ act'(h)</c>.</summary>
    private void ActivationBackward(ReadOnlySpan<float> hNext, ReadOnlySpan<float> dh, Span<float> dPre)
    {
        ref float h = ref MemoryMarshal.GetReference(hNext);
        ref float d = ref MemoryMarshal.GetReference(dh);
        ref float dp = ref MemoryMarshal.GetReference(dPre);
        int n = dPre.Length, j = 0;
        var path = KernelSelector.Current;
        if (path == KernelPath.Vector512) j = ActivationBackwardLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, n, ref h, ref d, ref dp);
        if (path != KernelPath.Scalar) j = ActivationBackwardLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, n, ref h, ref d, ref dp);
        ActivationBackwardLanes<LanesScalar, float>(j, n, ref h, ref d, ref dp);
    }

    private int ActivationBackwardLanes<TL, TV>(int j, int n, ref float h, ref float d, ref float dp) where TL : struct, ILanes<TV> where TV : struct
    {
        var act = Activation;
        for (; j <= n - TL.Width; j += TL.Width)
            TL.Store(TL.Multiply(TL.Load(ref d, j), TL.Derivative(act, TL.Load(ref h, j))), ref dp, j);
        return j;
    }
}
