using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Neurite.Kernels;

namespace Neurite.Layers;

/// <summary>
/// A whole GRU sequence, forward and backpropagation through time, on spans, in Keras's weight
/// layout; both of Keras's conventions (reset gate after or before the recurrent product).
/// Owns its scratch buffers; once grown to the largest (batch, steps) seen it does not allocate.
/// </summary>
/// <remarks>
/// Shapes: x (B, T, F); kernel W (F, 3U); recurrent kernel R (U, 3U); gate order z, r, h. Bias is
/// (2, 3U) = [input bias; recurrent bias] with resetAfter, else (3U). With x̃ = x ⊙ inputMask and
/// h̃ = h ⊙ recurrentMask (one dropout mask per sample for the whole sequence):
/// <code>
/// resetAfter:  a = x̃W + b_in;  m = h̃R + b_rec;  z = σ(a_z + m_z)  r = σ(a_r + m_r)  ĥ = act(a_h + r ⊙ m_h)
/// otherwise:   a = x̃W + b;     z = σ(a_z + h̃R_z)  r = σ(a_r + h̃R_r)  ĥ = act(a_h + (r ⊙ h̃)R_h)
/// h' = z ⊙ h + (1 − z) ⊙ ĥ
/// </code>
/// The recurrent dropout mask only feeds the recurrent products; the carried h in the last line
/// is the undropped one, as in Keras's per-gate implementation (implementation 1). Keras 3's
/// default implementation 2 ignores recurrent_dropout entirely, which is not a behaviour to copy.
/// </remarks>
internal sealed unsafe class GruSequence : IRowSteps
{
    private const string Op = "GRU sequence";

    private float[] _packedInputs = [];      // (T, B, F)
    private float[] _inputProjection = [];   // (T, B, 3U) pre-activations, then z, r, ĥ
    private float[] _recurrentProjection = [];// (T, B, 3U) h̃R + b_rec (resetAfter)
    private float[] _resetHidden = [];        // (T, B, U) r ⊙ h̃ (reset before)
    private float[] _hidden = [];             // (T+1, B, U)
    private float[] _droppedHidden = [];      // (T, B, U) with a recurrent mask
    private float[] _stepTemp = [];           // (B, 2U)
    private float[] _stepTemp2 = [];          // (B, U)
    private float[] _splitGatesKernel = [];   // (U, 2U) R's z and r columns (reset before)
    private float[] _splitCandidateKernel = [];// (U, U) R's h columns (reset before)
    private float[] _dInputProjection = [];   // (T, B, 3U)
    private float[] _dRecurrentProjection = [];// (T, B, 3U) resetAfter
    private float[] _dGatesZR = [];           // (T, B, 2U) reset before
    private float[] _dCandidate = [];         // (T, B, U) reset before
    private float[] _dPackedInputs = [];      // (T, B, F)
    private float[] _dHidden = [];            // (B, U)
    private float[] _dSplitGates = [];        // (U, 2U)
    private float[] _dSplitCandidate = [];    // (U, U)
    private float[] _inputMask = [];
    private float[] _recurrentMask = [];
    private bool _hasInputMask, _hasRecurrentMask, _forwardDone;
    private int _batch, _steps;

    // Refreshed on every pass (weights change between batches). resetAfter: R (U, 3U) and Rᵀ;
    // reset before: the split gate (U, 2U) and candidate (U, U) kernels and their transposes.
    private readonly PackedMatrix _recurrentPacked, _recurrentTransposed;
    private readonly PackedMatrix? _candidatePacked, _candidateTransposed;
    private PackedMatrix? _kernelTransposed;
    private readonly RowSplitPass _rowPass;
    private float[] _recurrentBias = [];      // (3U) b_rec (resetAfter), copied so the row passes need no caller span
    private bool _hasRecurrentBias, _wantsInitialGradient;
    private PinnedFloats _dOutput;            // the caller's output gradient, pinned by Backward for its step pass

    public GruSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        GateActivation recurrentActivation = GateActivation.Sigmoid, bool resetAfter = true,
        bool returnSequences = false, bool goBackwards = false)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, "A GRU needs at least one input feature.");
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, "A GRU needs a positive number of units.");
        Features = features;
        Units = units;
        Activation = activation;
        RecurrentActivation = recurrentActivation;
        ResetAfter = resetAfter;
        ReturnSequences = returnSequences;
        GoBackwards = goBackwards;
        int gateColumns = resetAfter ? 3 * units : 2 * units;
        _recurrentPacked = new PackedMatrix(units, gateColumns);
        _recurrentTransposed = new PackedMatrix(gateColumns, units);
        _rowPass = new RowSplitPass(this);
        if (!resetAfter)
        {
            _candidatePacked = new PackedMatrix(units, units);
            _candidateTransposed = new PackedMatrix(units, units);
        }
    }

    public int Features { get; }
    public int Units { get; }
    public GateActivation Activation { get; }
    public GateActivation RecurrentActivation { get; }
    public bool ResetAfter { get; }
    public bool ReturnSequences { get; }
    public bool GoBackwards { get; }

    /// <summary>Number of bias values: 6U with resetAfter (shape (2, 3U)), else 3U.</summary>
    public int BiasLength => ResetAfter ? 6 * Units : 3 * Units;

    /// <summary>h after the last step of the latest forward pass, (B, U).</summary>
    public ReadOnlySpan<float> FinalHidden => _hidden.AsSpan(_steps * _batch * Units, _batch * Units);

    public void Reserve(int batch, int steps)
    {
        int u = Units, f = Features, rows = batch * steps;
        SequenceLayout.EnsureLength(ref _packedInputs, rows * f);
        SequenceLayout.EnsureLength(ref _inputProjection, rows * 3 * u);
        SequenceLayout.EnsureLength(ref _hidden, (rows + batch) * u);
        SequenceLayout.EnsureLength(ref _stepTemp, batch * 2 * u);
        SequenceLayout.EnsureLength(ref _stepTemp2, batch * u);
        SequenceLayout.EnsureLength(ref _dInputProjection, rows * 3 * u);
        SequenceLayout.EnsureLength(ref _dPackedInputs, rows * f);
        SequenceLayout.EnsureLength(ref _dHidden, batch * u);
        SequenceLayout.EnsureLength(ref _inputMask, batch * f);
        SequenceLayout.EnsureLength(ref _recurrentMask, batch * u);
        if (ResetAfter)
        {
            SequenceLayout.EnsureLength(ref _recurrentProjection, rows * 3 * u);
            SequenceLayout.EnsureLength(ref _dRecurrentProjection, rows * 3 * u);
        }
        else
        {
            SequenceLayout.EnsureLength(ref _resetHidden, rows * u);
            SequenceLayout.EnsureLength(ref _dGatesZR, rows * 2 * u);
            SequenceLayout.EnsureLength(ref _dCandidate, rows * u);
            SequenceLayout.EnsureLength(ref _splitGatesKernel, u * 2 * u);
            SequenceLayout.EnsureLength(ref _splitCandidateKernel, u * u);
            SequenceLayout.EnsureLength(ref _dSplitGates, u * 2 * u);
            SequenceLayout.EnsureLength(ref _dSplitCandidate, u * u);
        }
    }

    /// <summary>
    /// Runs the sequence. <paramref name="output"/> is (B, T, U) with returnSequences, else (B, U).
    /// Empty <paramref name="initialHidden"/> means zeros, empty <paramref name="bias"/> no bias,
    /// empty masks no dropout.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Forward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask = default, ReadOnlySpan<float> recurrentMask = default)
    {
        int u = Units, f = Features, g3 = 3 * u;
        if (batch <= 0 || steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"A GRU sequence needs a positive batch and number of steps; received batch {batch}, steps {steps}.");
        SequenceLayout.CheckLength(x, batch * steps * f, Op, "x", "(B={0}, T={1}, F={2})", batch, steps, f);
        SequenceLayout.CheckOptionalLength(initialHidden, batch * u, Op, "initial h", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckLength(kernel, f * g3, Op, "kernel", "(F={0}, 3U={1})", f, g3);
        SequenceLayout.CheckLength(recurrentKernel, u * g3, Op, "recurrent kernel", "(U={0}, 3U={1})", u, g3);
        SequenceLayout.CheckOptionalLength(bias, BiasLength, Op, "bias", ResetAfter ? "(2, 3U={0}) with resetAfter" : "(3U={0}) without resetAfter", g3);
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
        var projection = _inputProjection.AsSpan(0, rows * g3);
        SequenceLayout.PackInputs(x, packed, batch, steps, f, GoBackwards, inputMask);
        SequenceLayout.ProjectInputs(packed, kernel, bias.IsEmpty ? default : bias[..g3], projection, rows, f, g3);

        var hidden = _hidden.AsSpan();
        if (initialHidden.IsEmpty) hidden[..stateSize].Clear(); else initialHidden.CopyTo(hidden);
        if (ResetAfter)
        {
            Gemm.Repack(_recurrentPacked, recurrentKernel);
        }
        else
        {
            SplitRecurrentKernel(recurrentKernel);
            Gemm.Repack(_recurrentPacked, _splitGatesKernel.AsSpan(0, u * 2 * u));
            Gemm.Repack(_candidatePacked!, _splitCandidateKernel.AsSpan(0, u * u));
        }

        _hasRecurrentBias = ResetAfter && !bias.IsEmpty;
        if (_hasRecurrentBias)
        {
            SequenceLayout.EnsureLength(ref _recurrentBias, g3);
            bias[g3..].CopyTo(_recurrentBias);
        }
        _rowPass.Run(batch, steps, 2.0 * batch * u * g3, backward: false);

        if (ReturnSequences) SequenceLayout.UnpackSequence(hidden.Slice(stateSize, rows * u), output, batch, steps, u);
        else FinalHidden.CopyTo(output);
        _forwardDone = true;
    }

    /// <summary>
    /// Backpropagation through the whole sequence of the latest <see cref="Forward"/>. Weight
    /// gradients are added to <paramref name="dKernel"/>, <paramref name="dRecurrentKernel"/> and
    /// <paramref name="dBias"/>; <paramref name="dx"/> is overwritten. Empty <paramref name="dx"/>,
    /// <paramref name="dBias"/> or <paramref name="dInitialHidden"/> skip that gradient.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias, Span<float> dInitialHidden = default)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward was called before Forward. Run Forward on the batch first.");
        int batch = _batch, steps = _steps, u = Units, f = Features, g3 = 3 * u;
        int rows = batch * steps, stateSize = batch * u;
        SequenceLayout.CheckOptionalLength(dOutput, ReturnSequences ? rows * u : stateSize, Op, "output gradient",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        SequenceLayout.CheckOptionalLength(dFinalHidden, stateSize, Op, "final h gradient", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckLength(kernel, f * g3, Op, "kernel", "(F={0}, 3U={1})", f, g3);
        SequenceLayout.CheckLength(recurrentKernel, u * g3, Op, "recurrent kernel", "(U={0}, 3U={1})", u, g3);
        SequenceLayout.CheckOptionalLength(dx, rows * f, Op, "input gradient", "(B={0}, T={1}, F={2})", batch, steps, f);
        SequenceLayout.CheckLength(dKernel, f * g3, Op, "kernel gradient", "(F={0}, 3U={1})", f, g3);
        SequenceLayout.CheckLength(dRecurrentKernel, u * g3, Op, "recurrent kernel gradient", "(U={0}, 3U={1})", u, g3);
        SequenceLayout.CheckOptionalLength(dBias, BiasLength, Op, "bias gradient", ResetAfter ? "(2, 3U={0})" : "(3U={0})", g3);
        SequenceLayout.CheckOptionalLength(dInitialHidden, stateSize, Op, "initial h gradient", "(B={0}, U={1})", batch, u);

        var dh = _dHidden.AsSpan(0, stateSize);
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(0, stateSize) : default;
        var dInput = _dInputProjection.AsSpan(0, rows * g3);
        var hidden = _hidden.AsSpan();
        if (ResetAfter)
        {
            if (steps > 1 || !dInitialHidden.IsEmpty) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
        }
        else
        {
            SplitRecurrentKernel(recurrentKernel);
            TransposedPacking.Repack(_recurrentTransposed, _splitGatesKernel.AsSpan(0, u * 2 * u));
            TransposedPacking.Repack(_candidateTransposed!, _splitCandidateKernel.AsSpan(0, u * u));
        }

        _wantsInitialGradient = !dInitialHidden.IsEmpty;
        fixed (float* pinDOutput = dOutput)
        {
            _dOutput = new(pinDOutput, dOutput.Length);
            _rowPass.Run(batch, steps, 2.0 * batch * u * g3, backward: true);
            _dOutput = default;
        }
        if (!dInitialHidden.IsEmpty) dh.CopyTo(dInitialHidden);

        ReadOnlySpan<float> recurrentInputs = _hasRecurrentMask ? _droppedHidden.AsSpan(0, rows * u) : _hidden.AsSpan(0, rows * u);
        SequenceLayout.AddInputWeightGradients(_packedInputs.AsSpan(0, rows * f), dInput, dKernel,
            dBias.IsEmpty ? default : dBias[..g3], rows, f, g3);
        if (ResetAfter)
        {
            var dRecurrent = _dRecurrentProjection.AsSpan(0, rows * g3);
            Gemm.Multiply(recurrentInputs, dRecurrent, dRecurrentKernel, u, rows, g3, transA: true, accumulate: true);
            if (!dBias.IsEmpty) SequenceLayout.AddColumnSums(dRecurrent, rows, g3, dBias[g3..]);
        }
        else
        {
            var dGates = _dSplitGates.AsSpan(0, u * 2 * u);
            var dCandidate = _dSplitCandidate.AsSpan(0, u * u);
            Gemm.Multiply(recurrentInputs, _dGatesZR.AsSpan(0, rows * 2 * u), dGates, u, rows, 2 * u, transA: true);
            Gemm.Multiply(_resetHidden.AsSpan(0, rows * u), _dCandidate.AsSpan(0, rows * u), dCandidate, u, rows, u, transA: true);
            for (int k = 0; k < u; k++)
            {
                SequenceLayout.Add(dGates.Slice(k * 2 * u, 2 * u), dRecurrentKernel.Slice(k * g3, 2 * u));
                SequenceLayout.Add(dCandidate.Slice(k * u, u), dRecurrentKernel.Slice(k * g3 + 2 * u, u));
            }
        }
        if (!dx.IsEmpty)
        {
            var dPacked = _dPackedInputs.AsSpan(0, rows * f);
            SequenceLayout.MultiplyByKernelTransposed(dInput, kernel, dPacked, rows, g3, f, ref _kernelTransposed);
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
        int batch = _batch, steps = _steps, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        var hidden = _hidden.AsSpan();
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(b0 * u, rowsHere * u) : default;
        ReadOnlySpan<float> recurrentBias = _hasRecurrentBias ? _recurrentBias.AsSpan(0, g3) : default;
        for (int s = 0; s < steps; s++)
        {
            var hPrev = hidden.Slice(s * stateSize + b0 * u, rowsHere * u);
            var hNext = hidden.Slice((s + 1) * stateSize + b0 * u, rowsHere * u);
            ReadOnlySpan<float> recurrentInput = hPrev;
            if (_hasRecurrentMask)
            {
                var dropped = _droppedHidden.AsSpan(s * stateSize + b0 * u, rowsHere * u);
                SequenceLayout.Multiply(hPrev, recurrentMask, dropped);
                recurrentInput = dropped;
            }
            var stepProjection = _inputProjection.AsSpan((s * batch + b0) * g3, rowsHere * g3);
            if (ResetAfter)
            {
                var stepRecurrent = _recurrentProjection.AsSpan((s * batch + b0) * g3, rowsHere * g3);
                SequenceLayout.FillRowsWithBias(stepRecurrent, recurrentBias, g3);
                Gemm.Multiply(recurrentInput, _recurrentPacked, stepRecurrent, rowsHere, accumulate: true);
                for (int b = 0; b < rowsHere; b++)
                    ForwardRowResetAfter(stepProjection.Slice(b * g3, g3), stepRecurrent.Slice(b * g3, g3),
                        hPrev.Slice(b * u, u), hNext.Slice(b * u, u));
            }
            else
            {
                var gateProducts = _stepTemp.AsSpan(b0 * 2 * u, rowsHere * 2 * u);
                var resetHidden = _resetHidden.AsSpan(s * stateSize + b0 * u, rowsHere * u);
                var candidateProduct = _stepTemp2.AsSpan(b0 * u, rowsHere * u);
                Gemm.Multiply(recurrentInput, _recurrentPacked, gateProducts, rowsHere);
                for (int b = 0; b < rowsHere; b++)
                    ForwardRowGates(stepProjection.Slice(b * g3, g3), gateProducts.Slice(b * 2 * u, 2 * u),
                        recurrentInput.Slice(b * u, u), resetHidden.Slice(b * u, u));
                Gemm.Multiply(resetHidden, _candidatePacked!, candidateProduct, rowsHere);
                for (int b = 0; b < rowsHere; b++)
                    ForwardRowCandidate(stepProjection.Slice(b * g3, g3), candidateProduct.Slice(b * u, u),
                        hPrev.Slice(b * u, u), hNext.Slice(b * u, u));
            }
        }
    }

    private void BackwardSteps(int b0, int b1)
    {
        int batch = _batch, steps = _steps, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        var dOutput = _dOutput.ReadOnly;
        var dh = _dHidden.AsSpan(b0 * u, rowsHere * u);
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(b0 * u, rowsHere * u) : default;
        var hidden = _hidden.AsSpan();
        for (int s = steps - 1; s >= 0; s--)
        {
            SequenceLayout.AddOutputGradient(dOutput, _dHidden, batch, steps, u, s, ReturnSequences, b0, b1);
            bool needPrevious = s > 0 || _wantsInitialGradient;
            var hPrev = hidden.Slice(s * stateSize + b0 * u, rowsHere * u);
            var stepProjection = _inputProjection.AsSpan((s * batch + b0) * g3, rowsHere * g3);
            var stepDInput = _dInputProjection.AsSpan((s * batch + b0) * g3, rowsHere * g3);
            // The recurrent-path gradient lands in `dRecurrentState` (w.r.t. h̃), then goes through the mask into dh.
            var dRecurrentState = _stepTemp2.AsSpan(b0 * u, rowsHere * u);
            if (ResetAfter)
            {
                var stepRecurrent = _recurrentProjection.AsSpan((s * batch + b0) * g3, rowsHere * g3);
                var stepDRecurrent = _dRecurrentProjection.AsSpan((s * batch + b0) * g3, rowsHere * g3);
                for (int b = 0; b < rowsHere; b++)
                    BackwardRowResetAfter(stepProjection.Slice(b * g3, g3), stepRecurrent.Slice(b * g3, g3), hPrev.Slice(b * u, u),
                        dh.Slice(b * u, u), stepDInput.Slice(b * g3, g3), stepDRecurrent.Slice(b * g3, g3));
                if (!needPrevious) continue;
                Gemm.Multiply(stepDRecurrent, _recurrentTransposed, dRecurrentState, rowsHere);
            }
            else
            {
                var stepDGates = _dGatesZR.AsSpan((s * batch + b0) * 2 * u, rowsHere * 2 * u);
                var stepDCandidate = _dCandidate.AsSpan(s * stateSize + b0 * u, rowsHere * u);
                for (int b = 0; b < rowsHere; b++)
                    BackwardRowCandidate(stepProjection.Slice(b * g3, g3), hPrev.Slice(b * u, u), dh.Slice(b * u, u),
                        stepDInput.Slice(b * g3, g3), stepDGates.Slice(b * 2 * u, 2 * u), stepDCandidate.Slice(b * u, u));
                var dResetHidden = _stepTemp.AsSpan(b0 * u, rowsHere * u);
                Gemm.Multiply(stepDCandidate, _candidateTransposed!, dResetHidden, rowsHere);
                ReadOnlySpan<float> recurrentInput = _hasRecurrentMask ? _droppedHidden.AsSpan(s * stateSize + b0 * u, rowsHere * u) : hPrev;
                for (int b = 0; b < rowsHere; b++)
                    BackwardRowReset(stepProjection.Slice(b * g3, g3), recurrentInput.Slice(b * u, u), dResetHidden.Slice(b * u, u),
                        stepDInput.Slice(b * g3, g3), stepDGates.Slice(b * 2 * u, 2 * u), dRecurrentState.Slice(b * u, u));
                if (!needPrevious) continue;
                Gemm.Multiply(stepDGates, _recurrentTransposed, dRecurrentState, rowsHere, accumulate: true);
            }
            if (_hasRecurrentMask) SequenceLayout.Multiply(dRecurrentState, recurrentMask, dRecurrentState);
            SequenceLayout.Add(dRecurrentState, dh);
        }
    }

    /// <summary>Copies R's z|r columns and h columns into two contiguous matrices, so each is one plain GEMM operand.</summary>
    private void SplitRecurrentKernel(ReadOnlySpan<float> recurrentKernel)
    {
        int u = Units;
        for (int k = 0; k < u; k++)
        {
            recurrentKernel.Slice(k * 3 * u, 2 * u).CopyTo(_splitGatesKernel.AsSpan(k * 2 * u, 2 * u));
            recurrentKernel.Slice(k * 3 * u + 2 * u, u).CopyTo(_splitCandidateKernel.AsSpan(k * u, u));
        }
    }

    // ---------- fused row passes: each dispatches the widest lanes first, narrower ones for the tail ----------

    private void ForwardRowResetAfter(Span<float> projection, ReadOnlySpan<float> recurrent, ReadOnlySpan<float> hPrev, Span<float> hNext)
    {
        ref float a = ref MemoryMarshal.GetReference(projection);
        ref float m = ref MemoryMarshal.GetReference(recurrent);
        ref float hp = ref MemoryMarshal.GetReference(hPrev);
        ref float hn = ref MemoryMarshal.GetReference(hNext);
        var path = KernelSelector.Current;
        int j = 0;
        if (path == KernelPath.Vector512) j = ForwardResetAfterLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, ref a, ref m, ref hp, ref hn);
        if (path != KernelPath.Scalar) j = ForwardResetAfterLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, ref a, ref m, ref hp, ref hn);
        ForwardResetAfterLanes<LanesScalar, float>(j, ref a, ref m, ref hp, ref hn);
    }

    private int ForwardResetAfterLanes<TL, TV>(int j, ref float a, ref float m, ref float hp, ref float hn)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int u = Units;
        var act = Activation;
        var rec = RecurrentActivation;
        for (; j <= u - TL.Width; j += TL.Width)
        {
            var z = TL.Activate(rec, TL.Add(TL.Load(ref a, j), TL.Load(ref m, j)));
            var r = TL.Activate(rec, TL.Add(TL.Load(ref a, u + j), TL.Load(ref m, u + j)));
            var candidate = TL.Activate(act, TL.MultiplyAdd(r, TL.Load(ref m, 2 * u + j), TL.Load(ref a, 2 * u + j)));
            var previous = TL.Load(ref hp, j);
            TL.Store(z, ref a, j);
            TL.Store(r, ref a, u + j);
            TL.Store(candidate, ref a, 2 * u + j);
            TL.Store(TL.MultiplyAdd(z, TL.Subtract(previous, candidate), candidate), ref hn, j);
        }
        return j;
    }

    private void BackwardRowResetAfter(ReadOnlySpan<float> gates, ReadOnlySpan<float> recurrent, ReadOnlySpan<float> hPrev,
        Span<float> dh, Span<float> dInput, Span<float> dRecurrent)
    {
        ref float g = ref MemoryMarshal.GetReference(gates);
        ref float m = ref MemoryMarshal.GetReference(recurrent);
        ref float hp = ref MemoryMarshal.GetReference(hPrev);
        ref float d = ref MemoryMarshal.GetReference(dh);
        ref float da = ref MemoryMarshal.GetReference(dInput);
        ref float dm = ref MemoryMarshal.GetReference(dRecurrent);
        var path = KernelSelector.Current;
        int j = 0;
        if (path == KernelPath.Vector512) j = BackwardResetAfterLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, ref g, ref m, ref hp, ref d, ref da, ref dm);
        if (path != KernelPath.Scalar) j = BackwardResetAfterLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, ref g, ref m, ref hp, ref d, ref da, ref dm);
        BackwardResetAfterLanes<LanesScalar, float>(j, ref g, ref m, ref hp, ref d, ref da, ref dm);
    }

    /// <remarks>
    /// dz = dh ⊙ (h − ĥ) ⊙ σ'(z);  dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ);  dr = dĥ ⊙ m_h ⊙ σ'(r);
    /// da = [dz, dr, dĥ];  dm = [dz, dr, dĥ ⊙ r];  dh ← dh ⊙ z (the direct path to the previous state).
    /// </remarks>
    private int BackwardResetAfterLanes<TL, TV>(int j, ref float g, ref float m, ref float hp, ref float d, ref float da, ref float dm)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int u = Units;
        var act = Activation;
        var rec = RecurrentActivation;
        var one = TL.Broadcast(1f);
        for (; j <= u - TL.Width; j += TL.Width)
        {
            var z = TL.Load(ref g, j);
            var r = TL.Load(ref g, u + j);
            var candidate = TL.Load(ref g, 2 * u + j);
            var dhv = TL.Load(ref d, j);
            var dz = TL.Multiply(TL.Multiply(dhv, TL.Subtract(TL.Load(ref hp, j), candidate)), TL.Derivative(rec, z));
            var dCandidate = TL.Multiply(TL.Multiply(dhv, TL.Subtract(one, z)), TL.Derivative(act, candidate));
            var dr = TL.Multiply(TL.Multiply(dCandidate, TL.Load(ref m, 2 * u + j)), TL.Derivative(rec, r));
            TL.Store(dz, ref da, j);
            TL.Store(dr, ref da, u + j);
            TL.Store(dCandidate, ref da, 2 * u + j);
            TL.Store(dz, ref dm, j);
            TL.Store(dr, ref dm, u + j);
            TL.Store(TL.Multiply(dCandidate, r), ref dm, 2 * u + j);
            TL.Store(TL.Multiply(dhv, z), ref d, j);
        }
        return j;
    }

    private void ForwardRowGates(Span<float> projection, ReadOnlySpan<float> gateProducts, ReadOnlySpan<float> recurrentInput, Span<float> resetHidden)
    {
        ref float a = ref MemoryMarshal.GetReference(projection);
        ref float p = ref MemoryMarshal.GetReference(gateProducts);
        ref float hd = ref MemoryMarshal.GetReference(recurrentInput);
        ref float rh = ref MemoryMarshal.GetReference(resetHidden);
        var path = KernelSelector.Current;
        int j = 0;
        if (path == KernelPath.Vector512) j = ForwardGatesLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, ref a, ref p, ref hd, ref rh);
        if (path != KernelPath.Scalar) j = ForwardGatesLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, ref a, ref p, ref hd, ref rh);
        ForwardGatesLanes<LanesScalar, float>(j, ref a, ref p, ref hd, ref rh);
    }

    private int ForwardGatesLanes<TL, TV>(int j, ref float a, ref float p, ref float hd, ref float rh)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int u = Units;
        var rec = RecurrentActivation;
        for (; j <= u - TL.Width; j += TL.Width)
        {
            var z = TL.Activate(rec, TL.Add(TL.Load(ref a, j), TL.Load(ref p, j)));
            var r = TL.Activate(rec, TL.Add(TL.Load(ref a, u + j), TL.Load(ref p, u + j)));
            TL.Store(z, ref a, j);
            TL.Store(r, ref a, u + j);
            TL.Store(TL.Multiply(r, TL.Load(ref hd, j)), ref rh, j);
        }
        return j;
    }

    private void ForwardRowCandidate(Span<float> projection, ReadOnlySpan<float> candidateProduct, ReadOnlySpan<float> hPrev, Span<float> hNext)
    {
        ref float a = ref MemoryMarshal.GetReference(projection);
        ref float p = ref MemoryMarshal.GetReference(candidateProduct);
        ref float hp = ref MemoryMarshal.GetReference(hPrev);
        ref float hn = ref MemoryMarshal.GetReference(hNext);
        var path = KernelSelector.Current;
        int j = 0;
        if (path == KernelPath.Vector512) j = ForwardCandidateLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, ref a, ref p, ref hp, ref hn);
        if (path != KernelPath.Scalar) j = ForwardCandidateLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, ref a, ref p, ref hp, ref hn);
        ForwardCandidateLanes<LanesScalar, float>(j, ref a, ref p, ref hp, ref hn);
    }

    private int ForwardCandidateLanes<TL, TV>(int j, ref float a, ref float p, ref float hp, ref float hn)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int u = Units;
        var act = Activation;
        for (; j <= u - TL.Width; j += TL.Width)
        {
            var candidate = TL.Activate(act, TL.Add(TL.Load(ref a, 2 * u + j), TL.Load(ref p, j)));
            var z = TL.Load(ref a, j);
            TL.Store(candidate, ref a, 2 * u + j);
            TL.Store(TL.MultiplyAdd(z, TL.Subtract(TL.Load(ref hp, j), candidate), candidate), ref hn, j);
        }
        return j;
    }

    private void BackwardRowCandidate(ReadOnlySpan<float> gates, ReadOnlySpan<float> hPrev, Span<float> dh,
        Span<float> dInput, Span<float> dGates, Span<float> dCandidate)
    {
        ref float g = ref MemoryMarshal.GetReference(gates);
        ref float hp = ref MemoryMarshal.GetReference(hPrev);
        ref float d = ref MemoryMarshal.GetReference(dh);
        ref float da = ref MemoryMarshal.GetReference(dInput);
        ref float dzr = ref MemoryMarshal.GetReference(dGates);
        ref float dc = ref MemoryMarshal.GetReference(dCandidate);
        var path = KernelSelector.Current;
        int j = 0;
        if (path == KernelPath.Vector512) j = BackwardCandidateLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, ref g, ref hp, ref d, ref da, ref dzr, ref dc);
        if (path != KernelPath.Scalar) j = BackwardCandidateLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, ref g, ref hp, ref d, ref da, ref dzr, ref dc);
        BackwardCandidateLanes<LanesScalar, float>(j, ref g, ref hp, ref d, ref da, ref dzr, ref dc);
    }

    /// <remarks>dz = dh ⊙ (h − ĥ) ⊙ σ'(z);  dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ);  dh ← dh ⊙ z.</remarks>
    private int BackwardCandidateLanes<TL, TV>(int j, ref float g, ref float hp, ref float d, ref float da, ref float dzr, ref float dc)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int u = Units;
        var act = Activation;
        var rec = RecurrentActivation;
        var one = TL.Broadcast(1f);
        for (; j <= u - TL.Width; j += TL.Width)
        {
            var z = TL.Load(ref g, j);
            var candidate = TL.Load(ref g, 2 * u + j);
            var dhv = TL.Load(ref d, j);
            var dz = TL.Multiply(TL.Multiply(dhv, TL.Subtract(TL.Load(ref hp, j), candidate)), TL.Derivative(rec, z));
            var dCandidate = TL.Multiply(TL.Multiply(dhv, TL.Subtract(one, z)), TL.Derivative(act, candidate));
            TL.Store(dz, ref da, j);
            TL.Store(dCandidate, ref da, 2 * u + j);
            TL.Store(dz, ref dzr, j);
            TL.Store(dCandidate, ref dc, j);
            TL.Store(TL.Multiply(dhv, z), ref d, j);
        }
        return j;
    }

    private void BackwardRowReset(ReadOnlySpan<float> gates, ReadOnlySpan<float> recurrentInput, ReadOnlySpan<float> dResetHidden,
        Span<float> dInput, Span<float> dGates, Span<float> dRecurrentState)
    {
        ref float g = ref MemoryMarshal.GetReference(gates);
        ref float hd = ref MemoryMarshal.GetReference(recurrentInput);
        ref float drh = ref MemoryMarshal.GetReference(dResetHidden);
        ref float da = ref MemoryMarshal.GetReference(dInput);
        ref float dzr = ref MemoryMarshal.GetReference(dGates);
        ref float dhd = ref MemoryMarshal.GetReference(dRecurrentState);
        var path = KernelSelector.Current;
        int j = 0;
        if (path == KernelPath.Vector512) j = BackwardResetLanes<Lanes512, System.Runtime.Intrinsics.Vector512<float>>(j, ref g, ref hd, ref drh, ref da, ref dzr, ref dhd);
        if (path != KernelPath.Scalar) j = BackwardResetLanes<Lanes256, System.Runtime.Intrinsics.Vector256<float>>(j, ref g, ref hd, ref drh, ref da, ref dzr, ref dhd);
        BackwardResetLanes<LanesScalar, float>(j, ref g, ref hd, ref drh, ref da, ref dzr, ref dhd);
    }

    /// <remarks>With d(r ⊙ h̃) from the candidate GEMM: dr = d(r⊙h̃) ⊙ h̃ ⊙ σ'(r);  dh̃ = d(r⊙h̃) ⊙ r.</remarks>
    private int BackwardResetLanes<TL, TV>(int j, ref float g, ref float hd, ref float drh, ref float da, ref float dzr, ref float dhd)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int u = Units;
        var rec = RecurrentActivation;
        for (; j <= u - TL.Width; j += TL.Width)
        {
            var r = TL.Load(ref g, u + j);
            var dReset = TL.Load(ref drh, j);
            var dr = TL.Multiply(TL.Multiply(dReset, TL.Load(ref hd, j)), TL.Derivative(rec, r));
            TL.Store(dr, ref da, u + j);
            TL.Store(dr, ref dzr, u + j);
            TL.Store(TL.Multiply(dReset, r), ref dhd, j);
        }
        return j;
    }
}
