
namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// A whole GRU sequence, forward and backpropagation through time, on spans, in Keras's weight
/// layout; the GRU cell of the <see cref="RecurrentSequence"/> driver, in both of Keras's
/// conventions (reset gate after or before the recurrent product).
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
internal sealed unsafe partial class GruSequence : HiddenStateSequence
{
    private float[] _recurrentProjection = [];// (T, B, 3U) h̃R + b_rec (resetAfter)
    private float[] _resetHidden = [];        // (T, B, U) r ⊙ h̃ (reset before)
    private float[] _stepTemp = [];           // (B, 2U)
    private float[] _stepTemp2 = [];          // (B, U)
    private float[] _splitGatesKernel = [];   // (U, 2U) R's z and r columns (reset before)
    private float[] _splitCandidateKernel = [];// (U, U) R's h columns (reset before)
    private float[] _dInputProjection = [];   // (T, B, 3U)
    private float[] _dRecurrentProjection = [];// (T, B, 3U) resetAfter
    private float[] _dGatesZR = [];           // (T, B, 2U) reset before
    private float[] _dCandidate = [];         // (T, B, U) reset before
    private float[] _dSplitGates = [];        // (U, 2U)
    private float[] _dSplitCandidate = [];    // (U, U)

    // Refreshed on every pass (weights change between batches). resetAfter: R (U, 3U) and Rᵀ;
    // reset before: the split gate (U, 2U) and candidate (U, U) kernels and their transposes.
    private readonly PackedMatrix _recurrentPacked, _recurrentTransposed;
    private readonly PackedMatrix? _candidatePacked, _candidateTransposed;

    public GruSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        GateActivation recurrentActivation = GateActivation.Sigmoid, bool resetAfter = true,
        bool returnSequences = false, bool goBackwards = false)
        : base("A GRU", features, units, 3, activation, recurrentActivation, returnSequences, goBackwards)
    {
        ResetAfter = resetAfter;
        int gateColumns = resetAfter ? 3 * units : 2 * units;
        _recurrentPacked = new PackedMatrix(units, gateColumns);
        _recurrentTransposed = new PackedMatrix(gateColumns, units);
        if (!resetAfter)
        {
            _candidatePacked = new PackedMatrix(units, units);
            _candidateTransposed = new PackedMatrix(units, units);
        }
    }

    public bool ResetAfter { get; }

    /// <summary>Number of bias values: 6U with resetAfter (shape (2, 3U)), else 3U.</summary>
    public override int BiasLength => ResetAfter ? 6 * Units : 3 * Units;

    private protected override string BiasShape => ResetAfter ? "(2, 3U={0}) with resetAfter" : "(3U={0}) without resetAfter";

    private protected override void ReserveCell(int batch, int steps)
    {
        int u = Units, rows = batch * steps;
        EnsureLength(ref _stepTemp, batch * 2 * u);
        EnsureLength(ref _stepTemp2, batch * u);
        EnsureLength(ref _dInputProjection, rows * 3 * u);
        if (ResetAfter)
        {
            EnsureLength(ref _recurrentProjection, rows * 3 * u);
            EnsureLength(ref _dRecurrentProjection, rows * 3 * u);
        }
        else
        {
            EnsureLength(ref _resetHidden, rows * u);
            EnsureLength(ref _dGatesZR, rows * 2 * u);
            EnsureLength(ref _dCandidate, rows * u);
            EnsureLength(ref _splitGatesKernel, u * 2 * u);
            EnsureLength(ref _splitCandidateKernel, u * u);
            EnsureLength(ref _dSplitGates, u * 2 * u);
            EnsureLength(ref _dSplitCandidate, u * u);
        }
    }

    private protected override bool RecurrentGradientsUseInputGates => false;

    private protected override Span<float> InputGateGradients => _dInputProjection.AsSpan(0, Batch * Steps * GateWidth);

    private protected override void PrepareForward(ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias)
    {
        int u = Units;
        if (ResetAfter)
        {
            Gemm.Repack(_recurrentPacked, recurrentKernel);
            return;
        }
        SplitRecurrentKernel(recurrentKernel);
        Gemm.Repack(_recurrentPacked, _splitGatesKernel.AsSpan(0, u * 2 * u));
        Gemm.Repack(_candidatePacked!, _splitCandidateKernel.AsSpan(0, u * u));
    }

    private protected override void PrepareBackward(ReadOnlySpan<float> recurrentKernel)
    {
        int u = Units;
        if (ResetAfter)
        {
            if (Steps > 1 || WantsInitialGradient) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
            return;
        }
        SplitRecurrentKernel(recurrentKernel);
        TransposedPacking.Repack(_recurrentTransposed, _splitGatesKernel.AsSpan(0, u * 2 * u));
        TransposedPacking.Repack(_candidateTransposed!, _splitCandidateKernel.AsSpan(0, u * u));
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

    private protected override void ForwardStep(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput)
    {
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        var projection = Pointer(Gates.AsSpan((step * batch + b0) * g3));
        var hPrev = Pointer(Hidden.AsSpan(step * stateSize + b0 * u));
        var hNext = Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u));
        if (ResetAfter)
        {
            var stepRecurrent = _recurrentProjection.AsSpan((step * batch + b0) * g3, rowsHere * g3);
            SequenceLayout.FillRowsWithBias(stepRecurrent, Bias.Length == 0 ? default : Bias.ReadOnly[g3..], g3);
            Gemm.Multiply(recurrentInput, _recurrentPacked, stepRecurrent, rowsHere, accumulate: true);
            ColumnLoop.Run(Path, new ResetAfterForward
            {
                Projection = projection, Recurrent = Pointer(stepRecurrent), HPrev = hPrev, HNext = hNext,
                Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            return;
        }
        var gateProducts = _stepTemp.AsSpan(b0 * 2 * u, rowsHere * 2 * u);
        var resetHidden = _resetHidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        var candidateProduct = _stepTemp2.AsSpan(b0 * u, rowsHere * u);
        Gemm.Multiply(recurrentInput, _recurrentPacked, gateProducts, rowsHere);
        ColumnLoop.Run(Path, new GatesForward
        {
            Projection = projection, GateProducts = Pointer(gateProducts), RecurrentInput = Pointer(recurrentInput),
            ResetHidden = Pointer(resetHidden), Units = u, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
        Gemm.Multiply(resetHidden, _candidatePacked!, candidateProduct, rowsHere);
        ColumnLoop.Run(Path, new CandidateForward
        {
            Projection = projection, CandidateProduct = Pointer(candidateProduct), HPrev = hPrev, HNext = hNext,
            Units = u, Activation = Activation,
        }, u, rowsHere);
    }

    private protected override void BackwardStep(int step, int b0, int b1, bool needPrevious)
    {
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        AddOutputGradient(step, b0, b1);
        var dh = DHidden.AsSpan(b0 * u, rowsHere * u);
        var gates = Pointer(Gates.AsSpan((step * batch + b0) * g3));
        var hPrev = Hidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        var dInput = Pointer(_dInputProjection.AsSpan((step * batch + b0) * g3));
        // The recurrent-path gradient lands in `dRecurrentState` (w.r.t. h̃), then goes through the mask into dh.
        var dRecurrentState = _stepTemp2.AsSpan(b0 * u, rowsHere * u);
        if (ResetAfter)
        {
            var stepDRecurrent = _dRecurrentProjection.AsSpan((step * batch + b0) * g3, rowsHere * g3);
            ColumnLoop.Run(Path, new ResetAfterBackward
            {
                Gates = gates, Recurrent = Pointer(_recurrentProjection.AsSpan((step * batch + b0) * g3)), HPrev = Pointer(hPrev),
                DHidden = Pointer(dh), DInput = dInput, DRecurrent = Pointer(stepDRecurrent),
                Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            if (!needPrevious) return;
            Gemm.Multiply(stepDRecurrent, _recurrentTransposed, dRecurrentState, rowsHere);
        }
        else
        {
            var stepDGates = _dGatesZR.AsSpan((step * batch + b0) * 2 * u, rowsHere * 2 * u);
            var stepDCandidate = _dCandidate.AsSpan(step * stateSize + b0 * u, rowsHere * u);
            ColumnLoop.Run(Path, new CandidateBackward
            {
                Gates = gates, HPrev = Pointer(hPrev), DHidden = Pointer(dh), DInput = dInput, DGates = Pointer(stepDGates),
                DCandidate = Pointer(stepDCandidate), Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            var dResetHidden = _stepTemp.AsSpan(b0 * u, rowsHere * u);
            Gemm.Multiply(stepDCandidate, _candidateTransposed!, dResetHidden, rowsHere);
            ReadOnlySpan<float> recurrentInput = HasRecurrentMask ? DroppedHidden.AsSpan(step * stateSize + b0 * u, rowsHere * u) : hPrev;
            ColumnLoop.Run(Path, new ResetBackward
            {
                Gates = gates, RecurrentInput = Pointer(recurrentInput), DResetHidden = Pointer(dResetHidden), DInput = dInput,
                DGates = Pointer(stepDGates), DRecurrentState = Pointer(dRecurrentState), Units = u, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            if (!needPrevious) return;
            Gemm.Multiply(stepDGates, _recurrentTransposed, dRecurrentState, rowsHere, accumulate: true);
        }
        if (HasRecurrentMask) SequenceLayout.Multiply(dRecurrentState, RecurrentMask.AsSpan(b0 * u, rowsHere * u), dRecurrentState);
        SequenceLayout.Add(dRecurrentState, dh);
    }

    private protected override void AddRecurrentWeightGradients(ReadOnlySpan<float> recurrentInputs, Span<float> dRecurrentKernel, Span<float> dBias)
    {
        int u = Units, g3 = 3 * u, rows = Batch * Steps;
        if (ResetAfter && SharesWeightGradientPasses(rows, g3))
        {
            AddTransposedProducts(_dRecurrentProjection.AsSpan(0, rows * g3), default, recurrentInputs, dRecurrentKernel,
                dBias.IsEmpty ? default : dBias[g3..]);
            return;
        }
        if (ResetAfter)
        {
            var dRecurrent = _dRecurrentProjection.AsSpan(0, rows * g3);
            Gemm.Multiply(recurrentInputs, dRecurrent, dRecurrentKernel, u, rows, g3, transA: true, accumulate: true);
            if (!dBias.IsEmpty) SequenceLayout.AddColumnSums(dRecurrent, rows, g3, dBias[g3..]);
            return;
        }
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
}
