using System.Runtime.CompilerServices;
using static Neurite.Backends.Cpu.Kernels.Recurrent.ColumnLoop;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// A whole LSTM sequence, forward and backpropagation through time, on spans, in Keras's weight
/// layout; the LSTM cell of the <see cref="RecurrentSequence"/> driver.
/// </summary>
/// <remarks>
/// Shapes (row-major): x (B, T, F); kernel W (F, 4U); recurrent kernel R (U, 4U); bias (4U); gate
/// order i, f, c, o. Per step, with x̃ = x ⊙ inputMask and h̃ = h ⊙ recurrentMask (Keras's dropout
/// masks, one per sample for the whole sequence):
/// <code>
/// z = x̃ W + h̃ R + bias;  i = σ(z_i)  f = σ(z_f)  g = act(z_c)  o = σ(z_o)
/// c' = f ⊙ c + i ⊙ g;     h' = o ⊙ act(c')
/// </code>
/// The input projections of all steps are one GEMM (T·B, F)×(F, 4U) up front; each step then
/// adds one GEMM (B, U)×(U, 4U) and runs one fused pass over its gates. Backward mirrors it: one
/// GEMM per step for the recurrent gradient, then one GEMM each for dW, dR and dx over all steps.
/// The backward pass overwrites each step's gates with their gradients dz once it has read them,
/// which keeps one (T, B, 4U) array instead of two in cache.
/// </remarks>
internal sealed unsafe class LstmSequence : RecurrentSequence
{
    private float[] _cell = [];            // (T+1, B, U)
    private float[] _activatedCell = [];   // (T, B, U): act(c) after each step
    private float[] _dCell = [];           // (B, U)

    // Weights change after every batch (and a model copy shares them), so these are refreshed on
    // every pass, never trusted across calls: R for the forward steps, Rᵀ for the backward steps.
    private readonly PackedMatrix _recurrentPacked, _recurrentTransposed;
    // The packs the current pass uses: this sequence's own, or the shared ones while they are ready.
    private PackedMatrix _activeRecurrent, _activeRecurrentTransposed;
    private readonly float[] _gateScale = [], _gateOffset = [];

    public LstmSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        GateActivation recurrentActivation = GateActivation.Sigmoid, bool returnSequences = false, bool goBackwards = false)
        : base("An LSTM", features, units, 4, activation, recurrentActivation, returnSequences, goBackwards)
    {
        _recurrentPacked = new PackedMatrix(units, 4 * units);
        _recurrentTransposed = new PackedMatrix(4 * units, units);
        _activeRecurrent = _recurrentPacked;
        _activeRecurrentTransposed = _recurrentTransposed;
        SetStepRowBlocks(BlockKernelFloats(units, 4 * units), BlockRowFloats(units, 4 * units));
        // Per gate column: sigmoid(x) = 0.5·tanh(0.5·x) + 0.5 and tanh(x) = 1·tanh(1·x) + (−0) (−0 keeps
        // a −0 result), so one formula activates a whole row of i, f, g, o with no per-gate tails.
        EnsureLength(ref _gateScale, 4 * units);
        EnsureLength(ref _gateOffset, 4 * units);
        for (int j = 0; j < 4 * units; j++)
        {
            bool candidate = j / units == 2;
            _gateScale[j] = candidate ? 1f : 0.5f;
            _gateOffset[j] = candidate ? -0f : 0.5f;
        }
    }

    /// <summary>
    /// Packed weights that a model makes once per training step for both halves of a batch
    /// (Sequential.Halves.cs); while they are <see cref="SharedLstmPacks.Ready"/>, the passes use them
    /// instead of packing their own.
    /// </summary>
    internal SharedLstmPacks? Shared { get; set; }

    /// <summary>c after the last step of the latest forward pass, (B, U).</summary>
    public override ReadOnlySpan<float> FinalCell => _cell.AsSpan(Steps * Batch * Units, Batch * Units);

    /// <summary>
    /// Runs the sequence. <paramref name="output"/> is (B, T, U) with returnSequences, else (B, U).
    /// Empty <paramref name="initialHidden"/>/<paramref name="initialCell"/> mean zeros; empty
    /// <paramref name="bias"/> means no bias; empty masks mean no dropout (inference).
    /// </summary>
    public void Forward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask = default, ReadOnlySpan<float> recurrentMask = default) =>
        RunForward(batch, steps, x, initialHidden, initialCell, kernel, recurrentKernel, bias, output, inputMask, recurrentMask);

    /// <summary>
    /// Backpropagation through the whole sequence of the latest <see cref="Forward"/>, once (see
    /// <see cref="RecurrentSequence.RunBackward"/>); empty <paramref name="dInitialCell"/> skips that gradient.
    /// </summary>
    public void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden = default, Span<float> dInitialCell = default) =>
        RunBackward(dOutput, dFinalHidden, dFinalCell, kernel, recurrentKernel, dx, dKernel, dRecurrentKernel, dBias,
            dInitialHidden, dInitialCell);

    private protected override bool FusesInputProjection => true;

    private protected override void ReserveCell(int batch, int steps)
    {
        int u = Units, rows = batch * steps;
        EnsureLength(ref _cell, (rows + batch) * u);
        EnsureLength(ref _activatedCell, rows * u);
        EnsureLength(ref _dCell, batch * u);
    }

    private protected override void StartCell(ReadOnlySpan<float> initialCell)
    {
        if (initialCell.IsEmpty) _cell.AsSpan(0, Batch * Units).Clear(); else initialCell.CopyTo(_cell);
    }

    private protected override void StartCellGradient(ReadOnlySpan<float> dFinalCell)
    {
        if (dFinalCell.IsEmpty) _dCell.AsSpan(0, Batch * Units).Clear(); else dFinalCell.CopyTo(_dCell);
    }

    private protected override void FinishCellGradient(Span<float> dInitialCell) => _dCell.AsSpan(0, Batch * Units).CopyTo(dInitialCell);

    private protected override void PrepareForward(ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias)
    {
        if (Shared is { Ready: true } shared) _activeRecurrent = shared.Recurrent;
        else
        {
            Gemm.Repack(_recurrentPacked, recurrentKernel);
            _activeRecurrent = _recurrentPacked;
        }
    }

    private protected override void PrepareBackward(ReadOnlySpan<float> recurrentKernel)
    {
        if (Shared is { Ready: true } shared) _activeRecurrentTransposed = shared.RecurrentTransposed;
        else
        {
            if (Steps > 1 || WantsInitialGradient) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
            _activeRecurrentTransposed = _recurrentTransposed;
        }
    }

    private protected override PackedMatrix? PrepareInputGradient(ReadOnlySpan<float> kernel) =>
        Shared is { Ready: true } shared ? (shared.KernelPacked ? shared.KernelTransposed : null) : base.PrepareInputGradient(kernel);

    private protected override void ForwardStep(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput)
    {
        int u = Units, blocks = RowBlocks(b1 - b0);
        for (int k = 0; k < blocks; k++)
        {
            int r0 = BlockStart(b0, b1, blocks, k), r1 = BlockStart(b0, b1, blocks, k + 1);
            (int nextStep, int n0, int n1) = NextBlock(step, b0, b1, blocks, k, step + 1);
            ForwardBlock(step, r0, r1, recurrentInput.Slice((r0 - b0) * u, (r1 - r0) * u), nextStep, n0, n1);
        }
    }

    private void ForwardBlock(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput, int nextStep, int n0, int n1)
    {
        int batch = Batch, u = Units, g4 = 4 * u, rowsHere = b1 - b0;
        var gates = Gates.AsSpan((step * batch + b0) * g4, rowsHere * g4);
        int state = (step * batch + b0) * u, next = ((step + 1) * batch + b0) * u;
        // What the next block writes: its gates (the product's C) and the cell pass's c', act(c') and h'.
        var side = new SidePrefetch();
        if (nextStep < Steps && PrefetchesNextStep((long)(n1 - n0) * (g4 + 3 * u), (long)Steps * batch * (g4 + 3 * u), CacheSizes.L2Bytes))
        {
            int rows = n1 - n0, current = (nextStep * batch + n0) * u, after = ((nextStep + 1) * batch + n0) * u;
            side.Add(Pointer(Gates.AsSpan((current / u) * g4)), rows * g4);
            side.Add(Pointer(_cell.AsSpan(after)), rows * u);
            side.Add(Pointer(_activatedCell.AsSpan(current)), rows * u);
            side.Add(Pointer(Hidden.AsSpan(after)), rows * u);
        }
        AddRecurrentProduct(step, b0, b1, recurrentInput, _activeRecurrent, gates, side);
        var cell = new ForwardCell
        {
            Gates = Pointer(gates), CPrev = Pointer(_cell.AsSpan(state)), CNext = Pointer(_cell.AsSpan(next)),
            ActivatedCell = Pointer(_activatedCell.AsSpan(state)), HNext = Pointer(Hidden.AsSpan(next)),
            Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
        };
        // The Keras default (sigmoid gates, tanh candidate and output): each row's 4U gates are
        // activated in one run of whole vectors (U = 100 or 50 leave no tail in 4U), then the cell
        // pass reads them back. Same formulas as the general pass, so the same bits.
        if (Activation == GateActivation.Tanh && RecurrentActivation == GateActivation.Sigmoid)
            Run(Path, new KerasGateActivation { Gates = cell.Gates, Scale = Pointer(_gateScale), Offset = Pointer(_gateOffset), Width = g4 }, g4,
                new ActivatedGatesCell { Cell = cell }, u, rowsHere);
        else
            Run(Path, cell, u, rowsHere);
    }

    private protected override void BackwardStep(int step, int b0, int b1, bool needPrevious)
    {
        int blocks = RowBlocks(b1 - b0);
        for (int k = 0; k < blocks; k++)
        {
            int r0 = BlockStart(b0, b1, blocks, k), r1 = BlockStart(b0, b1, blocks, k + 1);
            (int nextStep, int n0, int n1) = NextBlock(step, b0, b1, blocks, k, step - 1);
            BackwardBlock(step, r0, r1, needPrevious, nextStep, n0, n1);
        }
    }

    private void BackwardBlock(int step, int b0, int b1, bool needPrevious, int nextStep, int n0, int n1)
    {
        int batch = Batch, steps = Steps, u = Units, g4 = 4 * u, rowsHere = b1 - b0;
        // A whole output sequence's gradient is added inside the cell pass (row b of step s sits at
        // (b·T + s)·U), saving a pass over dh per step; the last-output-only case adds it here.
        bool fuseOutput = ReturnSequences && DOutput.Length > 0;
        if (!fuseOutput) AddOutputGradient(step, b0, b1);
        var gates = Gates.AsSpan((step * batch + b0) * g4, rowsHere * g4);
        int state = (step * batch + b0) * u;
        Run(Path, new BackwardCell
        {
            Gates = Pointer(gates), CPrev = Pointer(_cell.AsSpan(state)), ActivatedCell = Pointer(_activatedCell.AsSpan(state)),
            DHidden = Pointer(DHidden.AsSpan(b0 * u)), DCell = Pointer(_dCell.AsSpan(b0 * u)),
            DOutput = fuseOutput ? Pointer(DOutput.ReadOnly.Slice((b0 * steps + step) * u)) : null, OutputStride = steps * u,
            Units = u, Activation = Activation, RecurrentActivation = RecurrentActivation,
        }, u, rowsHere);
        // The cell pass overwrote the gates with dz, whose product with Rᵀ is the gradient into the previous h. That product
        // also fetches what the next block's cell pass reads (this step's next rows, or the previous step's first):
        // its gates, c and act(c), otherwise read from memory.
        var side = new SidePrefetch();
        if (needPrevious && nextStep >= 0 && PrefetchesNextStep((long)(n1 - n0) * (g4 + 2 * u), (long)Steps * batch * (g4 + 2 * u), CacheSizes.L2Bytes))
        {
            int rows = n1 - n0, current = (nextStep * batch + n0) * u;
            side.Add(Pointer(Gates.AsSpan((current / u) * g4)), rows * g4);
            side.Add(Pointer(_cell.AsSpan(current)), rows * u);
            side.Add(Pointer(_activatedCell.AsSpan(current)), rows * u);
        }
        if (needPrevious) PropagateThroughRecurrentKernel(gates, _activeRecurrentTransposed, b0, b1, side);
    }

    /// <summary><see cref="RecurrentSequence.StepRowBlocks(int, long, long, int)"/> for an LSTM of <paramref name="gateWidth"/> gate columns.</summary>
    internal static int StepRowBlocks(int rows, int units, int gateWidth, int l2Bytes) =>
        StepRowBlocks(rows, BlockKernelFloats(units, gateWidth), BlockRowFloats(units, gateWidth), l2Bytes);

    // A step's row blocks: its kernel R (U × G), and its arrays a row: the gates and c', act(c'), h' (G + 3U).
    private static long BlockKernelFloats(int units, int gateWidth) => (long)units * gateWidth;
    private static long BlockRowFloats(int units, int gateWidth) => gateWidth + 3L * units;

    /// <summary>All 4U gates of a row through one formula, 0.5·tanh(0.5·z) + 0.5 or tanh(z) per column.</summary>
    private struct KerasGateActivation : IColumnPass
    {
        public float* Gates, Scale, Offset;
        public int Width;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            float* z = Gates + row * Width + j;
            var a = Load<TV, TOps>(Scale + j, masked, mask);
            var t = GateMath.Tanh<TV, TOps>(TOps.Multiply(a, Load<TV, TOps>(z, masked, mask)));
            Store<TV, TOps>(TOps.MultiplyAdd(a, t, Load<TV, TOps>(Offset + j, masked, mask)), z, masked, mask);
        }
    }

    /// <summary>The cell update after <see cref="KerasGateActivation"/>: the gates are read already activated.</summary>
    private struct ActivatedGatesCell : IColumnPass
    {
        public ForwardCell Cell;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV> =>
            Cell.Update<TV, TOps>(row, j, masked, mask, activateGates: false, GateActivation.Tanh);
    }

    /// <summary>
    /// One step's forward cell: activates the gate pre-activations in place and writes c', act(c') and h'.
    /// </summary>
    private struct ForwardCell : IColumnPass
    {
        public float* Gates, CPrev, CNext, ActivatedCell, HNext;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV> =>
            Update<TV, TOps>(row, j, masked, mask, activateGates: true, Activation);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update<TV, TOps>(int row, int j, bool masked, TV mask, bool activateGates, GateActivation activation)
            where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* z = Gates + 4 * row * u + j;
            var i = Load<TV, TOps>(z, masked, mask);
            var f = Load<TV, TOps>(z + u, masked, mask);
            var g = Load<TV, TOps>(z + 2 * u, masked, mask);
            var o = Load<TV, TOps>(z + 3 * u, masked, mask);
            if (activateGates)
            {
                i = GateMath.Apply<TV, TOps>(RecurrentActivation, i);
                f = GateMath.Apply<TV, TOps>(RecurrentActivation, f);
                g = GateMath.Apply<TV, TOps>(activation, g);
                o = GateMath.Apply<TV, TOps>(RecurrentActivation, o);
                Store<TV, TOps>(i, z, masked, mask);
                Store<TV, TOps>(f, z + u, masked, mask);
                Store<TV, TOps>(g, z + 2 * u, masked, mask);
                Store<TV, TOps>(o, z + 3 * u, masked, mask);
            }
            var c = TOps.MultiplyAdd(f, Load<TV, TOps>(CPrev + at, masked, mask), TOps.Multiply(i, g));
            Store<TV, TOps>(c, CNext + at, masked, mask);
            var t = GateMath.Apply<TV, TOps>(activation, c);
            Store<TV, TOps>(t, ActivatedCell + at, masked, mask);
            Store<TV, TOps>(TOps.Multiply(o, t), HNext + at, masked, mask);
        }
    }

    /// <summary>
    /// One step's backward cell. Reads dh (gradient into h' from later steps, plus the output's when
    /// <see cref="DOutput"/> is set) and dc (gradient into c' from later steps); overwrites the gates
    /// with their pre-activation gradients and dc with dc_prev.
    /// <code>
    /// dc  = dc + dh ⊙ o ⊙ act'(c')          dz_o = dh ⊙ act(c') ⊙ σ'(o)
    /// dz_i = dc ⊙ g ⊙ σ'(i)   dz_f = dc ⊙ c ⊙ σ'(f)   dz_c = dc ⊙ i ⊙ act'(g)   dc_prev = dc ⊙ f
    /// </code>
    /// </summary>
    private struct BackwardCell : IColumnPass
    {
        public float* Gates, CPrev, ActivatedCell, DHidden, DCell, DOutput;
        public int Units, OutputStride;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            var act = Activation;
            var rec = RecurrentActivation;
            float* z = Gates + 4 * row * u + j;
            var i = Load<TV, TOps>(z, masked, mask);
            var f = Load<TV, TOps>(z + u, masked, mask);
            var g = Load<TV, TOps>(z + 2 * u, masked, mask);
            var o = Load<TV, TOps>(z + 3 * u, masked, mask);
            var t = Load<TV, TOps>(ActivatedCell + at, masked, mask);
            var dh = Load<TV, TOps>(DHidden + at, masked, mask);
            if (DOutput != null) dh = TOps.Add(dh, Load<TV, TOps>(DOutput + row * OutputStride + j, masked, mask));
            var dc = TOps.MultiplyAdd(TOps.Multiply(dh, o), GateMath.DerivativeFromOutput<TV, TOps>(act, t), Load<TV, TOps>(DCell + at, masked, mask));
            Store<TV, TOps>(TOps.Multiply(TOps.Multiply(dc, g), GateMath.DerivativeFromOutput<TV, TOps>(rec, i)), z, masked, mask);
            Store<TV, TOps>(TOps.Multiply(TOps.Multiply(dc, Load<TV, TOps>(CPrev + at, masked, mask)), GateMath.DerivativeFromOutput<TV, TOps>(rec, f)),
                z + u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(TOps.Multiply(dc, i), GateMath.DerivativeFromOutput<TV, TOps>(act, g)), z + 2 * u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(TOps.Multiply(dh, t), GateMath.DerivativeFromOutput<TV, TOps>(rec, o)), z + 3 * u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(dc, f), DCell + at, masked, mask);
        }
    }
}

/// <summary>
/// An LSTM's packed weights for one training step, made once by the model and read by both halves of
/// the batch (each would otherwise pack the same weights itself).
/// </summary>
internal sealed class SharedLstmPacks(int features, int units)
{
    private PackedMatrix? _kernelTransposed;

    /// <summary>R packed for the forward steps.</summary>
    public PackedMatrix Recurrent { get; } = new(units, 4 * units);

    /// <summary>Rᵀ packed for the backward steps.</summary>
    public PackedMatrix RecurrentTransposed { get; } = new(4 * units, units);

    /// <summary>Wᵀ packed for the input gradient, when <see cref="KernelPacked"/>.</summary>
    public PackedMatrix? KernelTransposed => _kernelTransposed;

    public bool KernelPacked { get; private set; }

    /// <summary>Set by the model while the packs hold the current weights (during one step's halves).</summary>
    public bool Ready { get; set; }

    /// <summary>Piece 0 packs R; piece 1 packs Rᵀ and, when the layer passes a gradient to its input, Wᵀ.</summary>
    public void Pack(int piece, ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, bool needsInputGradient)
    {
        if (piece == 0)
        {
            Gemm.Repack(Recurrent, recurrentKernel);
            return;
        }
        TransposedPacking.Repack(RecurrentTransposed, recurrentKernel);
        KernelPacked = needsInputGradient && SequenceLayout.PrepareKernelTransposed(kernel, 4 * units, features, ref _kernelTransposed);
    }
}
