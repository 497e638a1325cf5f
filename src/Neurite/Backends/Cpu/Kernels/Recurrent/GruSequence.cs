
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
/// <para>Each sum that feeds a gate is one chain, bias first, then x̃W over the features, then the recurrent
/// product over the units: the z and r sums (b_in + x̃W + h̃R, then + b_rec with resetAfter), ĥ's sum without
/// resetAfter (b + x̃W_h + (r ⊙ h̃)R_h), and with resetAfter a_h = b_in + x̃W_h and m_h = b_rec + h̃R_h. So a large
/// sequence's steps make their input projection inside their recurrent products (<see cref="Gemm.MultiplyWithLead"/>,
/// no pass over all steps' projections first) with the bits of projecting all steps first.</para>
/// </remarks>
internal sealed unsafe partial class GruSequence : HiddenStateSequence
{
    private float[] _candidate = [];          // (T, B, U) ĥ (resetAfter; otherwise ĥ sits in the gates' h columns)
    private float[] _resetHidden = [];        // (T, B, U) r ⊙ h̃ (reset before)
    private float[] _gateSums = [];           // (B, 2U) the z and r sums of a step (reset before)
    private float[] _candidateSums = [];      // (B, U) a_h of a step (resetAfter), ĥ's sum (reset before)
    private float[] _dResetHidden = [];       // (B, U) d(r ⊙ h̃) (reset before)
    private float[] _dRecurrentState = [];    // (B, U) the gradient into h̃
    private float[] _splitGatesKernel = [];   // (U, 2U) R's z and r columns (reset before)
    private float[] _splitCandidateKernel = [];// (U, U) R's h columns (reset before)
    private float[] _splitInputKernel = [];   // W's columns for the steps' products: (F, 3U or 2U) gates, then (F, U) W_h
    private float[] _leadBias = [];           // (3U) [b_in_z, b_in_r, b_rec_h]: what starts a step's product (resetAfter)
    private float[] _recurrentBias = [];      // (3U) b_rec, or zeros (resetAfter)
    private float[] _dInputProjection = [];   // (T, B, 3U)
    private float[] _dGatesZR = [];           // (T, B, 2U) reset before
    private float[] _dCandidate = [];         // (T, B, U) reset before
    private float[] _dSplitGates = [];        // (U, 2U)
    private float[] _dSplitCandidate = [];    // (U, U)

    // Refreshed on every pass (weights change between batches). resetAfter: R (U, 3U) and Rᵀ;
    // reset before: the split gate (U, 2U) and candidate (U, U) kernels and their transposes.
    private readonly PackedMatrix _recurrentPacked, _recurrentTransposed;
    private readonly PackedMatrix? _candidatePacked, _candidateTransposed;
    // For steps that make their input projection: W's gate columns (resetAfter: W with its h columns zero, whose
    // products start m_h; reset before: W_zr) and W_h. Made on the first such pass.
    private PackedMatrix? _inputGatesPacked, _inputCandidatePacked;

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

    private protected override bool FusesInputProjection => true;

    private protected override void ReserveCell(int batch, int steps)
    {
        int u = Units, rows = batch * steps;
        EnsureLength(ref _candidateSums, batch * u);
        EnsureLength(ref _dRecurrentState, batch * u);
        EnsureLength(ref _dInputProjection, rows * 3 * u);
        EnsureLength(ref _splitInputKernel, Features * (ResetAfter ? 4 : 3) * u);
        if (ResetAfter)
        {
            EnsureLength(ref _candidate, rows * u);
            EnsureLength(ref _leadBias, 3 * u);
            EnsureLength(ref _recurrentBias, 3 * u);
        }
        else
        {
            EnsureLength(ref _resetHidden, rows * u);
            EnsureLength(ref _gateSums, batch * 2 * u);
            EnsureLength(ref _dResetHidden, batch * u);
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
            if (bias.IsEmpty) _recurrentBias.AsSpan(0, 3 * u).Clear();
            else
            {
                bias.Slice(3 * u, 3 * u).CopyTo(_recurrentBias);
                bias[..(2 * u)].CopyTo(_leadBias);
                bias.Slice(5 * u, u).CopyTo(_leadBias.AsSpan(2 * u));
            }
            return;
        }
        SplitRecurrentKernel(recurrentKernel);
        Gemm.Repack(_recurrentPacked, _splitGatesKernel.AsSpan(0, u * 2 * u));
        Gemm.Repack(_candidatePacked!, _splitCandidateKernel.AsSpan(0, u * u));
    }

    private protected override void PrepareFusedProjection(ReadOnlySpan<float> kernel)
    {
        int u = Units, f = Features, g3 = 3 * u, gates = ResetAfter ? g3 : 2 * u;
        _inputGatesPacked ??= new PackedMatrix(f, gates);
        _inputCandidatePacked ??= new PackedMatrix(f, u);
        var split = _splitInputKernel.AsSpan(0, f * (gates + u));
        // Gate columns first ((F, gates): with resetAfter W_z, W_r and zeros), then W_h (F, U) behind them.
        var gatePart = split[..(f * gates)];
        var candidatePart = split.Slice(f * gates, f * u);
        for (int k = 0; k < f; k++)
        {
            var row = kernel.Slice(k * g3, g3);
            row[..(2 * u)].CopyTo(gatePart.Slice(k * gates, 2 * u));
            if (ResetAfter) gatePart.Slice(k * gates + 2 * u, u).Clear();
            row.Slice(2 * u, u).CopyTo(candidatePart.Slice(k * u, u));
        }
        Gemm.Repack(_inputGatesPacked, gatePart);
        Gemm.Repack(_inputCandidatePacked, candidatePart);
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
        var gates = Gates.AsSpan((step * batch + b0) * g3, rowsHere * g3);
        var hPrev = Pointer(Hidden.AsSpan(step * stateSize + b0 * u));
        var hNext = Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u));
        var candidateSums = _candidateSums.AsSpan(b0 * u, rowsHere * u);
        bool hasBias = Bias.Length > 0;
        if (ResetAfter)
        {
            // The gates' rows become [b_in + x̃W + h̃R for z and r, m_h = b_rec_h + h̃R_h]; a_h = b_in_h + x̃W_h beside them.
            if (FusedProjection)
            {
                var x = StepInputs(step, b0, b1);
                Gemm.MultiplyWithLead(x, _inputGatesPacked!, recurrentInput, _recurrentPacked, hasBias ? _leadBias.AsSpan(0, g3) : default,
                    gates, rowsHere);
                SequenceLayout.FillRowsWithBias(candidateSums, hasBias ? Bias.ReadOnly.Slice(2 * u, u) : default, u);
                Gemm.Multiply(x, _inputCandidatePacked!, candidateSums, rowsHere, accumulate: true);
            }
            else
            {
                ColumnLoop.Run(Path, new TakeInputCandidate
                {
                    Gates = Pointer(gates), InputCandidate = Pointer(candidateSums), RecurrentBias = Pointer(_recurrentBias.AsSpan(2 * u)), Units = u,
                }, u, rowsHere);
                Gemm.Multiply(recurrentInput, _recurrentPacked, gates, rowsHere, accumulate: true);
            }
            ColumnLoop.Run(Path, new ResetAfterForward
            {
                Gates = Pointer(gates), InputCandidate = Pointer(candidateSums), RecurrentBias = Pointer(_recurrentBias),
                Candidate = Pointer(_candidate.AsSpan(step * stateSize + b0 * u)), HPrev = hPrev, HNext = hNext,
                Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            return;
        }
        var gateSums = _gateSums.AsSpan(b0 * 2 * u, rowsHere * 2 * u);
        var resetHidden = _resetHidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        if (FusedProjection)
            Gemm.MultiplyWithLead(StepInputs(step, b0, b1), _inputGatesPacked!, recurrentInput, _recurrentPacked,
                hasBias ? Bias.ReadOnly[..(2 * u)] : default, gateSums, rowsHere);
        else
        {
            for (int row = 0; row < rowsHere; row++) gates.Slice(row * g3, 2 * u).CopyTo(gateSums.Slice(row * 2 * u, 2 * u));
            Gemm.Multiply(recurrentInput, _recurrentPacked, gateSums, rowsHere, accumulate: true);
        }
        ColumnLoop.Run(Path, new GatesForward
        {
            Gates = Pointer(gates), GateSums = Pointer(gateSums), RecurrentInput = Pointer(recurrentInput),
            ResetHidden = Pointer(resetHidden), Units = u, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
        if (FusedProjection)
            Gemm.MultiplyWithLead(StepInputs(step, b0, b1), _inputCandidatePacked!, resetHidden, _candidatePacked!,
                hasBias ? Bias.ReadOnly.Slice(2 * u, u) : default, candidateSums, rowsHere);
        else
        {
            for (int row = 0; row < rowsHere; row++) gates.Slice(row * g3 + 2 * u, u).CopyTo(candidateSums.Slice(row * u, u));
            Gemm.Multiply(resetHidden, _candidatePacked!, candidateSums, rowsHere, accumulate: true);
        }
        ColumnLoop.Run(Path, new CandidateForward
        {
            Gates = Pointer(gates), CandidateSums = Pointer(candidateSums), HPrev = hPrev, HNext = hNext,
            Units = u, Activation = Activation,
        }, u, rowsHere);
    }

    private protected override void BackwardStep(int step, int b0, int b1, bool needPrevious)
    {
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        AddOutputGradient(step, b0, b1);
        var dh = DHidden.AsSpan(b0 * u, rowsHere * u);
        var gates = Gates.AsSpan((step * batch + b0) * g3, rowsHere * g3);
        var hPrev = Hidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        var dInput = Pointer(_dInputProjection.AsSpan((step * batch + b0) * g3));
        // The recurrent-path gradient (w.r.t. h̃) adds to dh, which the update pass leaves at dh ⊙ z; through a recurrent
        // mask it lands in `dRecurrentState` first.
        var dRecurrentState = HasRecurrentMask ? _dRecurrentState.AsSpan(b0 * u, rowsHere * u) : dh;
        if (ResetAfter)
        {
            // The gates' rows [z, r, m_h] become the gradients of the recurrent product's outputs, [dz, dr, dĥ ⊙ r].
            ColumnLoop.Run(Path, new ResetAfterBackward
            {
                Gates = Pointer(gates), Candidate = Pointer(_candidate.AsSpan(step * stateSize + b0 * u)), HPrev = Pointer(hPrev),
                DHidden = Pointer(dh), DInput = dInput, Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            if (!needPrevious) return;
            Gemm.Multiply(gates, _recurrentTransposed, dRecurrentState, rowsHere, accumulate: !HasRecurrentMask);
        }
        else
        {
            var stepDGates = _dGatesZR.AsSpan((step * batch + b0) * 2 * u, rowsHere * 2 * u);
            var stepDCandidate = _dCandidate.AsSpan(step * stateSize + b0 * u, rowsHere * u);
            ColumnLoop.Run(Path, new CandidateBackward
            {
                Gates = Pointer(gates), HPrev = Pointer(hPrev), DHidden = Pointer(dh), DInput = dInput, DGates = Pointer(stepDGates),
                DCandidate = Pointer(stepDCandidate), Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
            }, u, rowsHere);
            var dResetHidden = _dResetHidden.AsSpan(b0 * u, rowsHere * u);
            Gemm.Multiply(stepDCandidate, _candidateTransposed!, dResetHidden, rowsHere);
            ReadOnlySpan<float> recurrentInput = HasRecurrentMask ? DroppedHidden.AsSpan(step * stateSize + b0 * u, rowsHere * u) : hPrev;
            ColumnLoop.Run(Path, new ResetBackward
            {
                Gates = Pointer(gates), RecurrentInput = Pointer(recurrentInput), DResetHidden = Pointer(dResetHidden), DInput = dInput,
                DGates = Pointer(stepDGates), DRecurrentState = Pointer(dRecurrentState), Units = u, RecurrentActivation = RecurrentActivation,
                AddToHidden = !HasRecurrentMask,
            }, u, rowsHere);
            if (!needPrevious) return;
            Gemm.Multiply(stepDGates, _recurrentTransposed, dRecurrentState, rowsHere, accumulate: true);
        }
        if (!HasRecurrentMask) return;
        SequenceLayout.Multiply(dRecurrentState, RecurrentMask.AsSpan(b0 * u, rowsHere * u), dRecurrentState);
        SequenceLayout.Add(dRecurrentState, dh);
    }

    private protected override void AddRecurrentWeightGradients(ReadOnlySpan<float> recurrentInputs, Span<float> dRecurrentKernel, Span<float> dBias)
    {
        int u = Units, g3 = 3 * u, rows = Batch * Steps;
        if (ResetAfter)
        {
            // The backward steps left the gradients of h̃R + b_rec in the gates.
            var dRecurrent = Gates.AsSpan(0, rows * g3);
            if (SharesWeightGradientPasses(rows, g3))
                AddTransposedProducts(dRecurrent, default, recurrentInputs, dRecurrentKernel, dBias.IsEmpty ? default : dBias[g3..]);
            else
            {
                Gemm.Multiply(recurrentInputs, dRecurrent, dRecurrentKernel, u, rows, g3, transA: true, accumulate: true);
                if (!dBias.IsEmpty) SequenceLayout.AddColumnSums(dRecurrent, rows, g3, dBias[g3..]);
            }
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
