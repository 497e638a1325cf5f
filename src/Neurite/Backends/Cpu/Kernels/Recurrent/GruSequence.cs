
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
    private float[] _candidate = [];          // (T, B, U) ĥ, then dĥ (resetAfter)
    private float[] _resetHidden = [];        // (T, B, U) r ⊙ h̃ (reset before)
    private float[] _candidateSums = [];      // (B, U) a_h of a step (resetAfter)
    private float[] _dResetHidden = [];       // (B, U) d(r ⊙ h̃) (reset before)
    private float[] _dRecurrentState = [];    // (B, U) the gradient into h̃
    private float[] _splitInputKernel = [];   // W's columns for the steps' products: (F, 3U or 2U) gates, then (F, U) W_h
    private float[] _leadBias = [];           // (3U) [b_in_z, b_in_r, b_rec_h]: what starts a step's product (resetAfter)
    private float[] _recurrentBias = [];      // (3U) b_rec, or zeros (resetAfter)
    private float[] _dKernelGates = [];       // (F, 3U or 2U) x̃ᵀ · the gate columns' gradients
    private float[] _dKernelCandidate = [];   // (F, U) x̃ᵀ · dĥ
    private float[] _dBiasGates = [];         // (3U or 2U) their column sums
    private float[] _dBiasCandidate = [];     // (U)
    // Reset before: each step's z and r sums, then z and r, then dz and dr, in place; and ĥ's sum, then ĥ, then dĥ. Each row
    // stays where the step wrote it, so the backward passes overwrite lines they read instead of filling new buffers
    // (the driver's gates hold only the projections of a sequence projected first).
    private float[] _resetGates = [];         // (T, B, 2U)
    private float[] _candidateValues = [];    // (T, B, U)
    private float[] _dSplitGates = [];        // (U, 2U)
    private float[] _dSplitCandidate = [];    // (U, U)

    // Refreshed on every pass (weights change between batches). resetAfter: R (U, 3U) and Rᵀ;
    // reset before: the split gate (U, 2U) and candidate (U, U) kernels and their transposes.
    private readonly PackedMatrix _recurrentPacked, _recurrentTransposed;
    private readonly PackedMatrix? _candidatePacked, _candidateTransposed;
    // For steps that make their input projection: W's gate columns (resetAfter: W with its h columns zero, whose
    // products start m_h; reset before: W_zr) and W_h. Made on the first such pass.
    private PackedMatrix? _inputGatesPacked, _inputCandidatePacked;
    // The same parts transposed for the input gradient (null: multiplied from the split kernel directly).
    private PackedMatrix? _inputGatesTransposed, _inputCandidateTransposed;
    private bool _gatesTransposedReady, _candidateTransposedReady;

    public GruSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        GateActivation recurrentActivation = GateActivation.Sigmoid, bool resetAfter = true,
        bool returnSequences = false, bool goBackwards = false)
        : base("A GRU", features, units, 3, activation, recurrentActivation, returnSequences, goBackwards)
    {
        ResetAfter = resetAfter;
        int gateColumns = resetAfter ? 3 * units : 2 * units;
        _recurrentPacked = new PackedMatrix(units, gateColumns);
        _recurrentTransposed = new PackedMatrix(gateColumns, units);
        if (resetAfter) SetStepRowBlocks(BlockKernelFloats(units), BlockRowFloats(units));
        else
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
        EnsureLength(ref _dRecurrentState, batch * u);
        int f = Features, gates = GateColumns;
        EnsureLength(ref _splitInputKernel, f * (gates + u));
        EnsureLength(ref _dKernelGates, f * gates);
        EnsureLength(ref _dKernelCandidate, f * u);
        EnsureLength(ref _dBiasGates, gates);
        EnsureLength(ref _dBiasCandidate, u);
        if (ResetAfter)
        {
            EnsureLength(ref _candidate, rows * u);
            EnsureLength(ref _candidateSums, batch * u);
            EnsureLength(ref _leadBias, 3 * u);
            EnsureLength(ref _recurrentBias, 3 * u);
        }
        else
        {
            EnsureLength(ref _resetHidden, rows * u);
            EnsureLength(ref _dResetHidden, batch * u);
            EnsureLength(ref _resetGates, rows * 2 * u);
            EnsureLength(ref _candidateValues, rows * u);
            EnsureLength(ref _dSplitGates, u * 2 * u);
            EnsureLength(ref _dSplitCandidate, u * u);
        }
    }

    /// <summary>The columns of the gates' product: z, r and m_h with resetAfter (3U), z and r otherwise (2U).</summary>
    private int GateColumns => ResetAfter ? 3 * Units : 2 * Units;

    /// <summary>(T·B, 3U or 2U): the gradients of the gates' product's outputs, as the backward steps leave them.</summary>
    private Span<float> GateGradients => ResetAfter ? Gates.AsSpan(0, Batch * Steps * 3 * Units) : _resetGates.AsSpan(0, Batch * Steps * 2 * Units);

    /// <summary>(T·B, U): dĥ, the gradient of ĥ's input sum, as the backward steps leave it.</summary>
    private Span<float> CandidateGradients => (ResetAfter ? _candidate : _candidateValues).AsSpan(0, Batch * Steps * Units);

    private protected override void PrepareForward(ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias)
    {
        int u = Units;
        FetchedAhead = false;
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
        // R's z|r columns and its h columns, each packed where it lies in R.
        Gemm.RepackColumns(_recurrentPacked, recurrentKernel, 3 * u, 0);
        Gemm.RepackColumns(_candidatePacked!, recurrentKernel, 3 * u, 2 * u);
    }

    private protected override void PrepareFusedProjection(ReadOnlySpan<float> kernel)
    {
        int u = Units, f = Features;
        _inputGatesPacked ??= new PackedMatrix(f, GateColumns);
        _inputCandidatePacked ??= new PackedMatrix(f, u);
        SplitInputKernel(kernel);
        Gemm.Repack(_inputGatesPacked, InputGatesKernel);
        Gemm.Repack(_inputCandidatePacked, InputCandidateKernel);
    }

    /// <summary>W's gate columns, (F, 3U) = [W_z, W_r, 0] with resetAfter or (F, 2U) = [W_z, W_r], as <see cref="SplitInputKernel"/> left them.</summary>
    private Span<float> InputGatesKernel => _splitInputKernel.AsSpan(0, Features * GateColumns);

    /// <summary>W_h, (F, U), as <see cref="SplitInputKernel"/> left it.</summary>
    private Span<float> InputCandidateKernel => _splitInputKernel.AsSpan(Features * GateColumns, Features * Units);

    /// <summary>
    /// Copies W into <see cref="InputGatesKernel"/> and <see cref="InputCandidateKernel"/>. With resetAfter the gates' part has
    /// zeros in the h columns: there the gates' product makes m_h = b_rec_h + h̃R_h, which x̃ does not feed.
    /// </summary>
    private void SplitInputKernel(ReadOnlySpan<float> kernel)
    {
        int u = Units, f = Features, g3 = 3 * u, gates = GateColumns;
        var gatePart = InputGatesKernel;
        var candidatePart = InputCandidateKernel;
        for (int k = 0; k < f; k++)
        {
            var row = kernel.Slice(k * g3, g3);
            row[..(2 * u)].CopyTo(gatePart.Slice(k * gates, 2 * u));
            if (ResetAfter) gatePart.Slice(k * gates + 2 * u, u).Clear();
            row.Slice(2 * u, u).CopyTo(candidatePart.Slice(k * u, u));
        }
    }

    private protected override PackedMatrix? PrepareInputGradient(ReadOnlySpan<float> kernel)
    {
        SplitInputKernel(kernel);
        _gatesTransposedReady = SequenceLayout.PrepareKernelTransposed(InputGatesKernel, GateColumns, Features, ref _inputGatesTransposed);
        _candidateTransposedReady = SequenceLayout.PrepareKernelTransposed(InputCandidateKernel, Units, Features, ref _inputCandidateTransposed);
        return null;
    }

    /// <summary>dx̃ = dGates · [W_z, W_r, (0)]ᵀ + dĥ · W_hᵀ: the gradient of x̃W from the two gradients the steps left.</summary>
    private protected override void MultiplyInputGradient(int firstRow, int rows)
    {
        int u = Units, f = Features, gates = GateColumns;
        var target = DPackedInputs.Slice(firstRow * f, rows * f);
        var dGates = GateGradients.Slice(firstRow * gates, rows * gates);
        if (_gatesTransposedReady) Gemm.Multiply(dGates, _inputGatesTransposed!, target, rows);
        else Gemm.Multiply(dGates, InputGatesKernel, target, rows, gates, f, transB: true);
        var dCandidate = CandidateGradients.Slice(firstRow * u, rows * u);
        if (_candidateTransposedReady) Gemm.Multiply(dCandidate, _inputCandidateTransposed!, target, rows, accumulate: true);
        else Gemm.Multiply(dCandidate, InputCandidateKernel, target, rows, u, f, transB: true, accumulate: true);
    }

    private protected override void PrepareBackward(ReadOnlySpan<float> recurrentKernel)
    {
        int u = Units;
        FetchedAhead = false;
        if (ResetAfter)
        {
            if (Steps > 1 || WantsInitialGradient) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
            return;
        }
        TransposedPacking.RepackRows(_recurrentTransposed, recurrentKernel, 3 * u, 0);
        TransposedPacking.RepackRows(_candidateTransposed!, recurrentKernel, 3 * u, 2 * u);
    }

    private protected override void ForwardStep(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput)
    {
        if (!ResetAfter)
        {
            ResetBeforeForwardStep(step, b0, b1, recurrentInput);
            return;
        }
        int u = Units, blocks = RowBlocks(b1 - b0);
        for (int k = 0; k < blocks; k++)
        {
            int r0 = BlockStart(b0, b1, blocks, k), r1 = BlockStart(b0, b1, blocks, k + 1);
            ResetAfterForwardBlock(step, r0, r1, recurrentInput.Slice((r0 - b0) * u, (r1 - r0) * u), NextBlock(step, b0, b1, blocks, k, step + 1));
        }
    }

    /// <summary>
    /// Reset after, rows [b0, b1) of a step; its product fetches the lines of the block that runs <paramref name="next"/> (this step's
    /// next rows, or the next step's first) where <see cref="FetchesNextBlock(int)"/>.
    /// </summary>
    private void ResetAfterForwardBlock(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput, (int Step, int Start, int End) next)
    {
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        var gates = Gates.AsSpan((step * batch + b0) * g3, rowsHere * g3);
        var hPrev = Pointer(Hidden.AsSpan(step * stateSize + b0 * u));
        var hNext = Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u));
        bool hasBias = Bias.Length > 0;
        var candidateSums = _candidateSums.AsSpan(b0 * u, rowsHere * u);
        // What the next block writes: its gates' rows (the product's C), ĥ and h'.
        var side = new SidePrefetch();
        if (next.Step < Steps && FetchesNextBlock(next.End - next.Start))
        {
            int rows = next.End - next.Start, current = next.Step * stateSize + next.Start * u;
            side.Add(Pointer(Gates.AsSpan((current / u) * g3)), rows * g3);
            side.Add(Pointer(_candidate.AsSpan(current)), rows * u);
            side.Add(Pointer(Hidden.AsSpan(current + stateSize)), rows * u);
        }
        // The gates' rows become [b_in + x̃W + h̃R for z and r, m_h = b_rec_h + h̃R_h]; a_h = b_in_h + x̃W_h beside them.
        if (FusedProjection)
        {
            var x = StepInputs(step, b0, b1);
            Gemm.MultiplyWithLead(x, _inputGatesPacked!, recurrentInput, _recurrentPacked, hasBias ? _leadBias.AsSpan(0, g3) : default,
                gates, rowsHere, side);
            SequenceLayout.FillRowsWithBias(candidateSums, hasBias ? Bias.ReadOnly.Slice(2 * u, u) : default, u);
            Gemm.Multiply(x, _inputCandidatePacked!, candidateSums, rowsHere, accumulate: true);
        }
        else
        {
            ColumnLoop.Run(Path, new TakeInputCandidate
            {
                Gates = Pointer(gates), InputCandidate = Pointer(candidateSums), RecurrentBias = Pointer(_recurrentBias.AsSpan(2 * u)), Units = u,
            }, u, rowsHere);
            Gemm.Multiply(recurrentInput, _recurrentPacked, gates, rowsHere, accumulate: true, side: side);
        }
        ColumnLoop.Run(Path, new ResetAfterForward
        {
            Gates = Pointer(gates), InputCandidate = Pointer(candidateSums), RecurrentBias = Pointer(_recurrentBias),
            Candidate = Pointer(_candidate.AsSpan(step * stateSize + b0 * u)), HPrev = hPrev, HNext = hNext,
            Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
    }

    /// <summary>
    /// Whether a reset-after block's product fetches the next block's lines (5U a row: forward its gates' rows, ĥ and h'; backward
    /// the same rows of the step before, ĥ and h): the LSTM's rule (<see cref="RecurrentSequence.PrefetchesNextStep"/>) beside all
    /// steps' arrays: GRU(128) at 32-row halves fetches the next step's lines, GRU(256) at 128-row halves, cut in blocks of 64, the next
    /// block's; GRU(512) halves (1.25 MiB) fetch nothing.
    /// </summary>
    private bool FetchesNextBlock(int rows) => FetchesNextBlock(rows, Batch, Steps, Units, CacheSizes.L2Bytes);

    /// <summary>The rule of <see cref="FetchesNextBlock(int)"/> for a sequence of <paramref name="batch"/> rows over
    /// <paramref name="steps"/> steps (the kernel prewarm asks the same).</summary>
    internal static bool FetchesNextBlock(int rows, int batch, int steps, int units, int l2Bytes) =>
        PrefetchesNextStep(5L * rows * units, 5L * steps * batch * units, l2Bytes);

    /// <summary><see cref="RecurrentSequence.StepRowBlocks(int, long, long, int)"/> for a reset-after GRU.</summary>
    internal static int StepRowBlocks(int rows, int units, int l2Bytes) => StepRowBlocks(rows, BlockKernelFloats(units), BlockRowFloats(units), l2Bytes);

    // A reset-after step's row blocks: its kernel R (U × 3U), and its arrays a row: the gates' rows, a_h, ĥ and h' forward; the
    // gradients in their place and h backward.
    private static long BlockKernelFloats(int units) => 3L * units * units;
    private static long BlockRowFloats(int units) => 6L * units;

    private void ResetBeforeForwardStep(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput)
    {
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        var gates = Gates.AsSpan((step * batch + b0) * g3, rowsHere * g3);
        var hPrev = Pointer(Hidden.AsSpan(step * stateSize + b0 * u));
        var hNext = Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u));
        bool hasBias = Bias.Length > 0;
        var resetGates = _resetGates.AsSpan((step * batch + b0) * 2 * u, rowsHere * 2 * u);
        var candidateValues = _candidateValues.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        var resetHidden = _resetHidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        // The gates' product fetches what this step's two passes write (r ⊙ h̃, h'), the candidate's product what the next
        // step's products write (its z and r sums, its ĥ sum): lines otherwise first read from memory by a store.
        SidePrefetch gatesSide = default, candidateSide = default;
        if (FetchesAhead(forward: true, gatesProduct: true, rowsHere))
        {
            gatesSide.Add(Pointer(resetHidden), rowsHere * u);
            gatesSide.Add(Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u)), rowsHere * u);
        }
        if (step + 1 < Steps && FetchesAhead(forward: true, gatesProduct: false, rowsHere))
        {
            candidateSide.Add(Pointer(_resetGates.AsSpan(((step + 1) * batch + b0) * 2 * u)), rowsHere * 2 * u);
            candidateSide.Add(Pointer(_candidateValues.AsSpan((step + 1) * stateSize + b0 * u)), rowsHere * u);
        }
        if (FusedProjection)
            Gemm.MultiplyWithLead(StepInputs(step, b0, b1), _inputGatesPacked!, recurrentInput, _recurrentPacked,
                hasBias ? Bias.ReadOnly[..(2 * u)] : default, resetGates, rowsHere, gatesSide);
        else
        {
            for (int row = 0; row < rowsHere; row++) gates.Slice(row * g3, 2 * u).CopyTo(resetGates.Slice(row * 2 * u, 2 * u));
            Gemm.Multiply(recurrentInput, _recurrentPacked, resetGates, rowsHere, accumulate: true, side: gatesSide);
        }
        ColumnLoop.Run(Path, new GatesForward
        {
            ResetGates = Pointer(resetGates), RecurrentInput = Pointer(recurrentInput), ResetHidden = Pointer(resetHidden),
            Units = u, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
        if (FusedProjection)
            Gemm.MultiplyWithLead(StepInputs(step, b0, b1), _inputCandidatePacked!, resetHidden, _candidatePacked!,
                hasBias ? Bias.ReadOnly.Slice(2 * u, u) : default, candidateValues, rowsHere, candidateSide);
        else
        {
            for (int row = 0; row < rowsHere; row++) gates.Slice(row * g3 + 2 * u, u).CopyTo(candidateValues.Slice(row * u, u));
            Gemm.Multiply(resetHidden, _candidatePacked!, candidateValues, rowsHere, accumulate: true, side: candidateSide);
        }
        ColumnLoop.Run(Path, new CandidateForward
        {
            ResetGates = Pointer(resetGates), Candidate = Pointer(candidateValues), HPrev = hPrev, HNext = hNext,
            Units = u, Activation = Activation,
        }, u, rowsHere);
    }

    private protected override void BackwardStep(int step, int b0, int b1, bool needPrevious)
    {
        if (ResetAfter)
        {
            int blocks = RowBlocks(b1 - b0);
            for (int k = 0; k < blocks; k++)
            {
                ResetAfterBackwardBlock(step, BlockStart(b0, b1, blocks, k), BlockStart(b0, b1, blocks, k + 1), needPrevious,
                    NextBlock(step, b0, b1, blocks, k, step - 1));
            }
            return;
        }
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        AddOutputGradient(step, b0, b1);
        var dh = DHidden.AsSpan(b0 * u, rowsHere * u);
        var gates = Gates.AsSpan((step * batch + b0) * g3, rowsHere * g3);
        var hPrev = Hidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        // The recurrent-path gradient (w.r.t. h̃) adds to dh, which the update pass leaves at dh ⊙ z; through a recurrent
        // mask it lands in `dRecurrentState` first.
        var dRecurrentState = HasRecurrentMask ? _dRecurrentState.AsSpan(b0 * u, rowsHere * u) : dh;
        var resetGates = _resetGates.AsSpan((step * batch + b0) * 2 * u, rowsHere * 2 * u);
        var candidateValues = _candidateValues.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        // [z, r] become [dz, dr] and ĥ becomes dĥ where they lie.
        ColumnLoop.Run(Path, new CandidateBackward
        {
            ResetGates = Pointer(resetGates), Candidate = Pointer(candidateValues), HPrev = Pointer(hPrev), DHidden = Pointer(dh),
            Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
        var dResetHidden = _dResetHidden.AsSpan(b0 * u, rowsHere * u);
        // The products fetch what the previous step's passes read from memory: its ĥ and h, then its z and r.
        SidePrefetch candidateSide = default, gatesSide = default;
        if (step > 0 && FetchesAhead(forward: false, gatesProduct: false, rowsHere))
        {
            candidateSide.Add(Pointer(_candidateValues.AsSpan((step - 1) * stateSize + b0 * u)), rowsHere * u);
            candidateSide.Add(Pointer(Hidden.AsSpan((step - 1) * stateSize + b0 * u)), rowsHere * u);
        }
        if (step > 0 && FetchesAhead(forward: false, gatesProduct: true, rowsHere))
            gatesSide.Add(Pointer(_resetGates.AsSpan(((step - 1) * batch + b0) * 2 * u)), rowsHere * 2 * u);
        Gemm.Multiply(candidateValues, _candidateTransposed!, dResetHidden, rowsHere, side: candidateSide);
        ReadOnlySpan<float> recurrentInput = HasRecurrentMask ? DroppedHidden.AsSpan(step * stateSize + b0 * u, rowsHere * u) : hPrev;
        ColumnLoop.Run(Path, new ResetBackward
        {
            ResetGates = Pointer(resetGates), RecurrentInput = Pointer(recurrentInput), DResetHidden = Pointer(dResetHidden),
            DRecurrentState = Pointer(dRecurrentState), Units = u, RecurrentActivation = RecurrentActivation,
            AddToHidden = !HasRecurrentMask,
        }, u, rowsHere);
        if (!needPrevious) return;
        Gemm.Multiply(resetGates, _recurrentTransposed, dRecurrentState, rowsHere, accumulate: true, side: gatesSide);
        DropRecurrentGradient(dRecurrentState, dh, b0, rowsHere);
    }

    /// <summary>Reset after, backward through rows [b0, b1) of a step (see <see cref="ResetAfterForwardBlock"/>).</summary>
    private void ResetAfterBackwardBlock(int step, int b0, int b1, bool needPrevious, (int Step, int Start, int End) next)
    {
        int batch = Batch, u = Units, g3 = 3 * u, rowsHere = b1 - b0, stateSize = batch * u;
        AddOutputGradient(step, b0, b1);
        var dh = DHidden.AsSpan(b0 * u, rowsHere * u);
        var gates = Gates.AsSpan((step * batch + b0) * g3, rowsHere * g3);
        var hPrev = Hidden.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        var dRecurrentState = HasRecurrentMask ? _dRecurrentState.AsSpan(b0 * u, rowsHere * u) : dh;
        // The gates' rows [z, r, m_h] become the gradients of the recurrent product's outputs, [dz, dr, dĥ ⊙ r].
        ColumnLoop.Run(Path, new ResetAfterBackward
        {
            Gates = Pointer(gates), Candidate = Pointer(_candidate.AsSpan(step * stateSize + b0 * u)), HPrev = Pointer(hPrev),
            DHidden = Pointer(dh), Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
        if (!needPrevious) return;
        // The product fetches what the next block's pass reads: its gates' rows, ĥ and h.
        var side = new SidePrefetch();
        if (next.Step >= 0 && FetchesNextBlock(next.End - next.Start))
        {
            int rows = next.End - next.Start, current = next.Step * stateSize + next.Start * u;
            side.Add(Pointer(Gates.AsSpan((current / u) * g3)), rows * g3);
            side.Add(Pointer(_candidate.AsSpan(current)), rows * u);
            side.Add(Pointer(Hidden.AsSpan(current)), rows * u);
        }
        Gemm.Multiply(gates, _recurrentTransposed, dRecurrentState, rowsHere, accumulate: !HasRecurrentMask, side: side);
        DropRecurrentGradient(dRecurrentState, dh, b0, rowsHere);
    }

    /// <summary>Through a recurrent mask, dh += the gradient into h̃ (rows from <paramref name="b0"/>) ⊙ the mask.</summary>
    private void DropRecurrentGradient(Span<float> dRecurrentState, Span<float> dh, int b0, int rowsHere)
    {
        if (!HasRecurrentMask) return;
        int u = Units;
        SequenceLayout.Multiply(dRecurrentState, RecurrentMask.AsSpan(b0 * u, rowsHere * u), dRecurrentState);
        SequenceLayout.Add(dRecurrentState, dh);
    }

    /// <summary>Lets the reset-before steps' products fetch lines for the steps' passes (on by default; tests turn it off to compare the bits).</summary>
    internal bool AllowFetchAhead { get; set; } = true;

    /// <summary>Whether a product of the latest pass's steps fetched lines for the passes (<see cref="FetchesAhead(bool, bool, int)"/>).</summary>
    internal bool FetchedAhead { get; private set; }

    /// <summary>
    /// Whether a reset-before step's product of <paramref name="rowsHere"/> rows fetches lines for the passes around it: forward,
    /// the gates' product 2U a row (r ⊙ h̃ and h' of this step), the candidate's 3U (the next step's z and r sums and ĥ sum);
    /// backward 2U each (the previous step's ĥ and h, then its z and r). The LSTM's rule (<see cref="RecurrentSequence.PrefetchesNextStep"/>)
    /// for those lines beside the arrays of all steps (5U a row forward, 4U backward): at U = 256 the 128-row halves fetch,
    /// and the backward's cell passes then read L2 instead of memory; U = 512 halves (768 KiB the candidate's) too.
    /// </summary>
    private bool FetchesAhead(bool forward, bool gatesProduct, int rowsHere)
    {
        if (ResetAfter || !AllowFetchAhead || Path == KernelPath.Scalar || !FetchesAhead(rowsHere, Batch, Steps, Units, forward, gatesProduct, CacheSizes.L2Bytes)) return false;
        FetchedAhead = true;
        return true;
    }

    /// <summary>The rule of <see cref="FetchesAhead(bool, bool, int)"/> for a reset-before sequence of <paramref name="batch"/> rows
    /// over <paramref name="steps"/> steps on an L2 of <paramref name="l2Bytes"/> (the kernel prewarm asks the same).</summary>
    internal static bool FetchesAhead(int rowsHere, int batch, int steps, int units, bool forward, bool gatesProduct, int l2Bytes)
    {
        long floats = (long)rowsHere * units * (forward && !gatesProduct ? 3 : 2);
        long sequence = (long)steps * batch * units * (forward ? 5 : 4);
        return PrefetchesNextStep(floats, sequence, l2Bytes);
    }

    /// <summary>
    /// The weight gradients from the two gradients the steps left: the gates' (dR's gate columns with h̃, W's z and r columns,
    /// b_rec with resetAfter, the input bias's z and r) and dĥ's (W_h, the input bias's h, and without resetAfter R_h with r ⊙ h̃);
    /// each in one pass over its gradients where <see cref="RecurrentSequence.SharesWeightGradientPasses"/>. Products go to
    /// buffers from zero and are then added to the caller's gradients, whose columns they do not match one to one.
    /// </summary>
    private protected override void AddWeightGradients(ReadOnlySpan<float> recurrentInputs, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias)
    {
        int u = Units, f = Features, g3 = 3 * u, rows = Batch * Steps, gates = GateColumns;
        var dGates = GateGradients;
        var dCandidate = CandidateGradients;
        var dKernelGates = _dKernelGates.AsSpan(0, f * gates);
        var dKernelCandidate = _dKernelCandidate.AsSpan(0, f * u);
        bool hasBias = !dBias.IsEmpty;
        var dBiasGates = hasBias ? _dBiasGates.AsSpan(0, gates) : default;
        var dBiasCandidate = hasBias ? _dBiasCandidate.AsSpan(0, u) : default;
        // With resetAfter h̃ᵀ·dGates is dR itself (columns z, r, h); otherwise R's z|r and h columns come from two products.
        var dRecurrentGates = ResetAfter ? dRecurrentKernel : _dSplitGates.AsSpan(0, u * 2 * u);
        var dRecurrentCandidate = ResetAfter ? default : _dSplitCandidate.AsSpan(0, u * u);
        ReadOnlySpan<float> candidateInputs = ResetAfter ? default : _resetHidden.AsSpan(0, rows * u);
        dKernelGates.Clear();
        dKernelCandidate.Clear();
        dBiasGates.Clear();
        dBiasCandidate.Clear();
        if (!ResetAfter) { dRecurrentGates.Clear(); dRecurrentCandidate.Clear(); }

        // Both passes together read as many gradients as one pass over 3U columns.
        WeightGradientsShareAPass = SharesWeightGradientPasses(rows, g3) && Gemm.CanAddTransposedProducts(gates) && Gemm.CanAddTransposedProducts(u);
        if (WeightGradientsShareAPass)
        {
            fixed (float* x = PackedInputs, wGates = dKernelGates, wCandidate = dKernelCandidate)
            {
                AddTransposedProducts(dGates, new() { A = x, Rows = f, C = wGates }, recurrentInputs, dRecurrentGates, dBiasGates);
                AddTransposedProducts(dCandidate, new() { A = x, Rows = f, C = wCandidate }, candidateInputs, dRecurrentCandidate, dBiasCandidate);
            }
        }
        else
        {
            Gemm.Multiply(recurrentInputs, dGates, dRecurrentGates, u, rows, gates, transA: true, accumulate: true);
            SequenceLayout.AddInputWeightGradients(PackedInputs, dGates, dKernelGates, dBiasGates, rows, f, gates);
            if (!ResetAfter) Gemm.Multiply(candidateInputs, dCandidate, dRecurrentCandidate, u, rows, u, transA: true, accumulate: true);
            SequenceLayout.AddInputWeightGradients(PackedInputs, dCandidate, dKernelCandidate, dBiasCandidate, rows, f, u);
        }

        for (int k = 0; k < f; k++)
        {
            SequenceLayout.Add(dKernelGates.Slice(k * gates, 2 * u), dKernel.Slice(k * g3, 2 * u));
            SequenceLayout.Add(dKernelCandidate.Slice(k * u, u), dKernel.Slice(k * g3 + 2 * u, u));
        }
        if (hasBias)
        {
            // The z and r columns' gradient is the same for the input bias and (resetAfter) the recurrent bias.
            SequenceLayout.Add(dBiasGates[..(2 * u)], dBias[..(2 * u)]);
            SequenceLayout.Add(dBiasCandidate, dBias.Slice(2 * u, u));
            if (ResetAfter) SequenceLayout.Add(dBiasGates, dBias.Slice(g3, g3));
        }
        if (ResetAfter) return;
        for (int k = 0; k < u; k++)
        {
            SequenceLayout.Add(dRecurrentGates.Slice(k * 2 * u, 2 * u), dRecurrentKernel.Slice(k * g3, 2 * u));
            SequenceLayout.Add(dRecurrentCandidate.Slice(k * u, u), dRecurrentKernel.Slice(k * g3 + 2 * u, u));
        }
    }
}
