using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// The one sequence driver behind <see cref="LstmSequence"/>, <see cref="GruSequence"/> and
/// <see cref="SimpleRnnSequence"/>: argument checks, dropout masks, packing the caller's
/// batch-major input into step-major rows, the input projection of all steps, the split of the
/// batch rows across threads, the output, and the end of backpropagation through time (input
/// weight gradients, recurrent weight gradients, the input gradient). A cell supplies only its
/// step: the recurrent product and the fused gate pass, forward and backward.
/// </summary>
/// <remarks>
/// Shapes: x (B, T, F); kernel W (F, G); recurrent kernel R (U, G), G = gates × U. The scratch
/// buffers are pinned, grown to the largest (batch, steps) seen and then reused, so no pass
/// allocates. Row b of a step needs only row b of the previous step, so each thread runs every
/// step for its own rows with no join between steps; each row is computed by the same
/// instructions in the same order whichever rows share a thread, so the split never changes a
/// result.
/// </remarks>
internal abstract unsafe class RecurrentSequence : IParallelWork, Backends.IRecurrentCore
{
    private readonly string _noun, _operation, _kernelShape, _recurrentShape, _biasShape;
    private float[] _packedInputs = [];      // (T, B, F) masked, in step order
    private float[] _dPackedInputs = [];     // (T, B, F)
    private float[] _inputMask = [];         // (B, F) copy of the last forward's mask
    private PackedMatrix? _kernelTransposed; // Wᵀ for the input gradient, refreshed on every Backward
    private bool _forwardDone, _backward;
    private int _parts;
    private KernelPath _path;

    /// <summary>(T, B, G) input projections then gate values; cells that can, overwrite them with their gradients.</summary>
    private protected float[] Gates = [];
    /// <summary>(T+1, B, U): the initial state, then h after each step.</summary>
    private protected float[] Hidden = [];
    /// <summary>(T, B, U): h̃ = h ⊙ recurrentMask fed to each step, kept only with a recurrent mask.</summary>
    private protected float[] DroppedHidden = [];
    /// <summary>(B, U): the gradient into the current step's h.</summary>
    private protected float[] DHidden = [];
    /// <summary>(B, U) copy of the last forward's recurrent mask.</summary>
    private protected float[] RecurrentMask = [];
    private protected bool HasRecurrentMask, WantsInitialGradient;
    private protected int Batch, Steps;
    // The caller's spans, pinned by Forward and Backward for the duration of the pass.
    private protected PinnedFloats X, Kernel, Bias, Output, DOutput, Dx;
    private PackedMatrix? _passKernelTransposed;
    private PackedMatrix? _kernelPacked;     // W for the steps' fused input projection, refreshed on every Forward
    private bool _fusedProjection;

    private protected RecurrentSequence(string noun, int features, int units, int gates,
        GateActivation activation, GateActivation recurrentActivation, bool returnSequences, bool goBackwards)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, $"{noun} needs at least one input feature.");
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, $"{noun} needs a positive number of units.");
        _noun = noun;
        _operation = noun[(noun.IndexOf(' ') + 1)..] + " sequence";
        string gateLabel = gates == 1 ? "U" : $"{gates}U";
        _kernelShape = $"(F={{0}}, {gateLabel}={{1}})";
        _recurrentShape = $"(U={{0}}, {gateLabel}={{1}})";
        _biasShape = $"({gateLabel}={{0}})";
        Features = features;
        Units = units;
        GateWidth = gates * units;
        Activation = activation;
        RecurrentActivation = recurrentActivation;
        ReturnSequences = returnSequences;
        GoBackwards = goBackwards;
    }

    public int Features { get; }
    public int Units { get; }
    /// <summary>G: the columns of the kernel and the recurrent kernel.</summary>
    public int GateWidth { get; }
    public GateActivation Activation { get; }
    public GateActivation RecurrentActivation { get; }
    public bool ReturnSequences { get; }
    public bool GoBackwards { get; }

    /// <summary>Number of bias values.</summary>
    public virtual int BiasLength => GateWidth;

    /// <summary>The bias's shape for error messages; <c>{0}</c> is G.</summary>
    private protected virtual string BiasShape => _biasShape;

    /// <summary>h after the last step of the latest forward pass, (B, U).</summary>
    public ReadOnlySpan<float> FinalHidden => Hidden.AsSpan(Steps * Batch * Units, Batch * Units);

    /// <summary>c after the last step of the latest forward pass, (B, U), for a cell that carries one.</summary>
    public virtual ReadOnlySpan<float> FinalCell => throw new InvalidOperationException($"{_noun} carries no cell state c.");

    /// <summary>Grows the scratch buffers for (batch, steps) now, so the first pass does not allocate.</summary>
    public void Reserve(int batch, int steps)
    {
        int u = Units, f = Features, rows = batch * steps;
        EnsureLength(ref _packedInputs, rows * f);
        EnsureLength(ref Gates, rows * GateWidth);
        EnsureLength(ref Hidden, (rows + batch) * u);
        EnsureLength(ref _dPackedInputs, rows * f);
        EnsureLength(ref DHidden, batch * u);
        EnsureLength(ref _inputMask, batch * f);
        EnsureLength(ref RecurrentMask, batch * u);
        ReserveCell(batch, steps);
    }

    /// <summary>Grows <paramref name="buffer"/> to at least <paramref name="length"/> values, pinned so the cells may use pointers into it.</summary>
    private protected static void EnsureLength(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = GC.AllocateArray<float>(length, pinned: true);
    }

    /// <summary>The first value of a span of a pinned buffer (or of a caller's span pinned for the pass).</summary>
    private protected static float* Pointer(ReadOnlySpan<float> span) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));

    /// <summary>Grows the cell's own buffers for (batch, steps).</summary>
    private protected abstract void ReserveCell(int batch, int steps);

    /// <summary>
    /// Whether the cell's steps add the input projection inside their recurrent product (<see cref="AddRecurrentProduct"/>)
    /// with the gates as that product's whole output, so no pass of all steps' projections comes first.
    /// </summary>
    private protected virtual bool FusesInputProjection => false;

    /// <summary>
    /// Lets large passes fuse work where the cell can: the steps take the input projection, and the weight gradients
    /// share one pass over the gate gradients (on by default; tests turn it off to compare the bits).
    /// </summary>
    internal bool AllowFusion { get; set; } = true;

    /// <summary>Whether the latest backward pass made dR, dW and dBias in one pass over the gate gradients.</summary>
    internal bool WeightGradientsShareAPass { get; private protected set; }

    /// <summary>Whether the latest forward pass's steps took the input projection.</summary>
    internal bool FusedProjection => _fusedProjection;

    /// <summary>Packs the kernel W (F, G) for the steps' products when they take the input projection (<see cref="AddRecurrentProduct"/>).</summary>
    private protected virtual void PrepareFusedProjection(ReadOnlySpan<float> kernel)
    {
        _kernelPacked ??= new PackedMatrix(Features, GateWidth);
        Gemm.Repack(_kernelPacked, kernel);
    }

    /// <summary>x̃ of rows [b0, b1) of step <paramref name="step"/>, (b1 − b0, F), in the steps' order.</summary>
    private protected ReadOnlySpan<float> StepInputs(int step, int b0, int b1) =>
        _packedInputs.AsSpan((step * Batch + b0) * Features, (b1 - b0) * Features);

    /// <summary>Packs the recurrent weights the forward steps read (and anything else the steps need from <paramref name="bias"/>).</summary>
    private protected abstract void PrepareForward(ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias);

    /// <summary>
    /// Step <paramref name="step"/> for batch rows [b0, b1): Gates already hold the step's input
    /// projection unless <see cref="FusedProjection"/> (then the step makes it, from <see cref="StepInputs"/>);
    /// writes h after the step into Hidden (and any other state of the cell).
    /// </summary>
    private protected abstract void ForwardStep(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput);

    /// <summary>Packs the transposed recurrent weights the backward steps read.</summary>
    private protected abstract void PrepareBackward(ReadOnlySpan<float> recurrentKernel);

    /// <summary>
    /// Backward through step <paramref name="step"/> for rows [b0, b1): DHidden holds the gradient
    /// into h from later steps; adds the output's gradient, writes the step's gate gradients and,
    /// when <paramref name="needPrevious"/>, replaces DHidden with the gradient into the previous h.
    /// </summary>
    private protected abstract void BackwardStep(int step, int b0, int b1, bool needPrevious);

    /// <summary>(T, B, G) gradients of the input projections, as the backward steps left them.</summary>
    private protected virtual Span<float> InputGateGradients => Gates.AsSpan(0, Batch * Steps * GateWidth);

    /// <summary>Wᵀ packed for the input gradient, or null to multiply by the kernel directly.</summary>
    private protected virtual PackedMatrix? PrepareInputGradient(ReadOnlySpan<float> kernel) =>
        SequenceLayout.PrepareKernelTransposed(kernel, GateWidth, Features, ref _kernelTransposed) ? _kernelTransposed : null;

    /// <summary>x̃ of all steps, (T·B, F), in the steps' order.</summary>
    private protected ReadOnlySpan<float> PackedInputs => _packedInputs.AsSpan(0, Batch * Steps * Features);

    /// <summary>
    /// The input gradient dx̃ of packed rows [<paramref name="firstRow"/>, + <paramref name="rows"/>) (T·B rows in the steps'
    /// order) into <see cref="DPackedInputs"/>: <c>dGates · Wᵀ</c>.
    /// </summary>
    private protected virtual void MultiplyInputGradient(int firstRow, int rows)
    {
        int f = Features, g = GateWidth;
        SequenceLayout.MultiplyByKernelTransposed(InputGateGradients.Slice(firstRow * g, rows * g), Kernel.ReadOnly,
            _dPackedInputs.AsSpan(firstRow * f, rows * f), rows, g, f, _passKernelTransposed);
    }

    /// <summary>dx̃ of all steps, (T·B, F), in the steps' order.</summary>
    private protected Span<float> DPackedInputs => _dPackedInputs.AsSpan(0, Batch * Steps * Features);

    /// <summary>
    /// Runs the sequence. <paramref name="output"/> is (B, T, U) with returnSequences, else (B, U).
    /// Empty <paramref name="initialHidden"/> means zeros, empty <paramref name="bias"/> no bias,
    /// empty masks no dropout (inference).
    /// </summary>
    public void RunForward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden,
        ReadOnlySpan<float> initialCell, ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask)
    {
        int u = Units, f = Features, g = GateWidth;
        if (batch <= 0 || steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"{_noun} sequence needs a positive batch and number of steps; received batch {batch}, steps {steps}.");
        Check(x, batch * steps * f, "x", "(B={0}, T={1}, F={2})", batch, steps, f);
        CheckOptional(initialHidden, batch * u, "initial h", "(B={0}, U={1})", batch, u);
        CheckOptional(initialCell, batch * u, "initial c", "(B={0}, U={1})", batch, u);
        Check(kernel, f * g, "kernel", _kernelShape, f, g);
        Check(recurrentKernel, u * g, "recurrent kernel", _recurrentShape, u, g);
        CheckOptional(bias, BiasLength, "bias", BiasShape, g);
        Check(output, ReturnSequences ? batch * steps * u : batch * u, "output",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        CheckOptional(inputMask, batch * f, "input dropout mask", "(B={0}, F={1})", batch, f);
        CheckOptional(recurrentMask, batch * u, "recurrent dropout mask", "(B={0}, U={1})", batch, u);

        Reserve(batch, steps);
        Batch = batch;
        Steps = steps;
        if (!inputMask.IsEmpty) inputMask.CopyTo(_inputMask);
        _hasInputMask = !inputMask.IsEmpty;
        HasRecurrentMask = !recurrentMask.IsEmpty;
        if (HasRecurrentMask)
        {
            recurrentMask.CopyTo(RecurrentMask);
            EnsureLength(ref DroppedHidden, batch * steps * u);
        }
        PrepareForward(recurrentKernel, bias);
        // A step's gates are its input projection plus its recurrent product. Projecting all steps first writes every
        // step's gates (T·B·G floats, often more than the caches hold) and reads them back from memory at the step;
        // the steps' products instead start each tile from the bias and x̃W while it is in L1: the same chains. Small
        // sequences gain too, though their gates stay in L2: the products' x̃W costs less than the up-front pass's own loop
        // (see TakesInputProjection).
        _fusedProjection = FusesInputProjection && AllowFusion && KernelSelector.Current != KernelPath.Scalar && TakesInputProjection(f, (long)steps * batch * g);
        if (_fusedProjection) PrepareFusedProjection(kernel);
        if (initialHidden.IsEmpty) Hidden.AsSpan(0, batch * u).Clear(); else initialHidden.CopyTo(Hidden);
        StartCell(initialCell);

        fixed (float* pinX = x, pinKernel = kernel, pinBias = bias, pinOutput = output)
        {
            X = new(pinX, x.Length);
            Kernel = new(pinKernel, kernel.Length);
            Bias = new(pinBias, bias.Length);
            Output = new(pinOutput, output.Length);
            RunRows(backward: false);
            X = Kernel = Bias = Output = default;
        }
        _forwardDone = true;
    }

    private bool _hasInputMask;

    /// <summary>Takes the initial cell state c (empty: zeros), for a cell that carries one.</summary>
    private protected virtual void StartCell(ReadOnlySpan<float> initialCell) { }

    private ReadOnlySpan<float> InputMask => _hasInputMask ? _inputMask.AsSpan(0, Batch * Features) : default;

    /// <summary>
    /// Backpropagation through the whole sequence of the latest forward pass, once: cells may
    /// overwrite that pass's gates with their gradients, so another backward pass needs another
    /// forward pass. Weight gradients are added to <paramref name="dKernel"/>,
    /// <paramref name="dRecurrentKernel"/> and <paramref name="dBias"/>; <paramref name="dx"/>
    /// (B, T, F) is overwritten. Empty <paramref name="dx"/>, <paramref name="dBias"/> or initial-state
    /// gradients skip that gradient: a stateful layer asks for no gradient into its carried state,
    /// which is what stops gradients crossing batch boundaries.
    /// </summary>
    public void RunBackward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden, Span<float> dInitialCell)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward needs a Forward of its own: it was called before Forward, or twice after one. Run Forward on the batch first.");
        int batch = Batch, steps = Steps, u = Units, f = Features, g = GateWidth;
        int rows = batch * steps, stateSize = batch * u;
        CheckOptional(dOutput, ReturnSequences ? rows * u : stateSize, "output gradient",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        CheckOptional(dFinalHidden, stateSize, "final h gradient", "(B={0}, U={1})", batch, u);
        CheckOptional(dFinalCell, stateSize, "final c gradient", "(B={0}, U={1})", batch, u);
        Check(kernel, f * g, "kernel", _kernelShape, f, g);
        Check(recurrentKernel, u * g, "recurrent kernel", _recurrentShape, u, g);
        CheckOptional(dx, rows * f, "input gradient", "(B={0}, T={1}, F={2})", batch, steps, f);
        Check(dKernel, f * g, "kernel gradient", _kernelShape, f, g);
        Check(dRecurrentKernel, u * g, "recurrent kernel gradient", _recurrentShape, u, g);
        CheckOptional(dBias, BiasLength, "bias gradient", BiasShape, g);
        CheckOptional(dInitialHidden, stateSize, "initial h gradient", "(B={0}, U={1})", batch, u);
        CheckOptional(dInitialCell, stateSize, "initial c gradient", "(B={0}, U={1})", batch, u);
        // From here the gates may be overwritten: even a pass that fails needs a new Forward.
        _forwardDone = false;

        var dh = DHidden.AsSpan(0, stateSize);
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        StartCellGradient(dFinalCell);
        WantsInitialGradient = !dInitialHidden.IsEmpty;
        PrepareBackward(recurrentKernel);
        _passKernelTransposed = dx.IsEmpty ? null : PrepareInputGradient(kernel);
        fixed (float* pinDOutput = dOutput, pinKernel = kernel, pinDx = dx)
        {
            DOutput = new(pinDOutput, dOutput.Length);
            Kernel = new(pinKernel, kernel.Length);
            Dx = new(pinDx, dx.Length);
            RunRows(backward: true);
            DOutput = Kernel = Dx = default;
            _passKernelTransposed = null;
        }
        if (WantsInitialGradient) dh.CopyTo(dInitialHidden);
        if (!dInitialCell.IsEmpty) FinishCellGradient(dInitialCell);

        ReadOnlySpan<float> recurrentInputs = HasRecurrentMask ? DroppedHidden.AsSpan(0, rows * u) : Hidden.AsSpan(0, rows * u);
        AddWeightGradients(recurrentInputs, dKernel, dRecurrentKernel, dBias);
    }

    /// <summary>
    /// dW += x̃ᵀ·dGates, dR += h̃ᵀ·dGates and dBias += Σ_r dGates over all steps, from the gate gradients the backward
    /// steps left (<see cref="InputGateGradients"/>); in one pass over them where <see cref="SharesWeightGradientPasses"/>.
    /// </summary>
    private protected virtual void AddWeightGradients(ReadOnlySpan<float> recurrentInputs, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias)
    {
        int rows = Batch * Steps, f = Features, g = GateWidth;
        WeightGradientsShareAPass = SharesWeightGradientPasses(rows, g);
        if (WeightGradientsShareAPass)
        {
            AddWeightGradientsTogether(recurrentInputs, dKernel, dRecurrentKernel, dBias.IsEmpty ? default : dBias[..g]);
            return;
        }
        SequenceLayout.AddInputWeightGradients(_packedInputs.AsSpan(0, rows * f), InputGateGradients, dKernel,
            dBias.IsEmpty ? default : dBias[..g], rows, f, g);
        Gemm.Multiply(recurrentInputs, InputGateGradients, dRecurrentKernel, Units, rows, g, transA: true, accumulate: true);
    }

    /// <summary>
    /// dR += h̃ᵀ·dZ, dW += x̃ᵀ·dZ and dBias += Σ_r dZ as one pass over the gate gradients dZ (T·B rows), which are read from
    /// memory once per K block for all three instead of once per product plus once for the bias sums. Same chains, same bits.
    /// </summary>
    private unsafe void AddWeightGradientsTogether(ReadOnlySpan<float> recurrentInputs, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias)
    {
        fixed (float* x = _packedInputs, dW = dKernel)
            AddTransposedProducts(InputGateGradients, new() { A = x, Rows = Features, C = dW }, recurrentInputs, dRecurrentKernel, dBias);
    }

    /// <summary>Whether the weight gradients of a pass over <paramref name="rows"/> rows of <paramref name="width"/> gate gradients share their passes.</summary>
    private protected bool SharesWeightGradientPasses(int rows, int width) =>
        AllowFusion && Gemm.CanAddTransposedProducts(width) && SharesWeightGradients((long)rows * width);

    /// <summary>Whether a fusing cell's step products take the input projection, for <paramref name="features"/> inputs
    /// and <paramref name="gateValues"/> (T·B·G) gate values a pass (the kernel prewarm asks the same).</summary>
    internal static bool TakesInputProjection(int features, long gateValues) =>
        features <= MaxFusedFeatures && (SmallPassesFuse || gateValues >= MinFusedGateFloats);

    /// <summary>Whether a pass over <paramref name="gateValues"/> gate gradients makes its weight gradients in one pass (the kernel prewarm asks the same).</summary>
    internal static bool SharesWeightGradients(long gateValues) => gateValues >= (SmallPassesFuse ? MinSharedGateFloats : MinFusedGateFloats);

    /// <summary>
    /// Lets passes under <see cref="MinFusedGateFloats"/> fuse (the steps take the input projection; from
    /// <see cref="MinSharedGateFloats"/> the weight gradients share a pass), as measured on a Zen 4 (bench/results/sweep-s13.md,
    /// s13-small); off restores the earlier rule of large passes only, on this thread, for the benchmarks' alternating comparison.
    /// The bits are the same.
    /// </summary>
    internal static bool SmallPassesFuse
    {
        get => !t_largePassesOnly;
        set => t_largePassesOnly = !value;
    }

    [ThreadStatic] private static bool t_largePassesOnly;

    /// <summary>
    /// <paramref name="part"/> (when it has rows), h̃ᵀ·<paramref name="dGates"/> into <paramref name="dRecurrentKernel"/> (when not
    /// empty) and the column sums into <paramref name="dBias"/> (when not empty), in one pass over <paramref name="dGates"/>.
    /// </summary>
    private protected unsafe void AddTransposedProducts(ReadOnlySpan<float> dGates, TransposedProductPart part,
        ReadOnlySpan<float> recurrentInputs, Span<float> dRecurrentKernel, Span<float> dBias)
    {
        int rows = Batch * Steps, width = dGates.Length / rows, count = 0;
        Span<TransposedProductPart> parts = stackalloc TransposedProductPart[3];
        fixed (float* h = recurrentInputs, dR = dRecurrentKernel, db = dBias)
        {
            if (!dRecurrentKernel.IsEmpty) parts[count++] = new() { A = h, Rows = Units, C = dR };
            if (part.Rows > 0) parts[count++] = part;
            if (!dBias.IsEmpty) parts[count++] = new() { A = null, Rows = 1, C = db };
            Gemm.AddTransposedProducts(dGates, rows, width, parts[..count]);
        }
    }

    /// <summary>Takes the gradient into the final cell state c (empty: zero), for a cell that carries one.</summary>
    private protected virtual void StartCellGradient(ReadOnlySpan<float> dFinalCell) { }

    /// <summary>Writes the gradient into the initial cell state c, for a cell that carries one.</summary>
    private protected virtual void FinishCellGradient(Span<float> dInitialCell) { }

    /// <summary>Runs every step of one pass, split by batch rows across threads when the sequence is big enough to gain.</summary>
    private void RunRows(bool backward)
    {
        _path = KernelSelector.Current;
        int threads = Threading.MaxThreads;
        double flopsPerStep = 2.0 * Batch * Units * GateWidth;
        _parts = threads > 1 && _path != KernelPath.Scalar && !WorkerPool.InsidePart
            && Steps * flopsPerStep >= Gemm.ParallelMinFlops ? Math.Min(threads, Batch) : 1;
        _backward = backward;
        if (_parts == 1) Run(0);
        else WorkerPool.Run(this, _parts, threads);
    }

    /// <summary>The SIMD path of the current pass, chosen on the calling thread.</summary>
    private protected KernelPath Path => _path;

    void IParallelWork.Run(int part) => Run(part);

    private void Run(int part)
    {
        int b0 = Batch * part / _parts, b1 = Batch * (part + 1) / _parts;
        if (_backward) BackwardRows(b0, b1);
        else ForwardRows(b0, b1);
    }

    private void ForwardRows(int b0, int b1)
    {
        int batch = Batch, steps = Steps, u = Units, f = Features, g = GateWidth, rowsHere = b1 - b0, stateSize = batch * u;
        // Packing, the input projection and the output copy are per batch row too, so each thread
        // does its own rows' share rather than one thread doing them around the steps.
        SequenceLayout.PackInputs(X.ReadOnly, _packedInputs, batch, steps, f, GoBackwards, InputMask, b0, b1);
        var inputBias = Bias.Length == 0 ? default : Bias.ReadOnly[..g];
        // All rows of every step are contiguous on one thread, so that projection is one big GEMM;
        // a part of the rows projects step by step. The GEMM's result does not depend on its row count.
        bool allRows = rowsHere == batch, projectFirst = !_fusedProjection;
        if (allRows && projectFirst)
            SequenceLayout.ProjectInputs(_packedInputs.AsSpan(0, steps * batch * f), Kernel.ReadOnly, inputBias,
                Gates.AsSpan(0, steps * batch * g), steps * batch, f, g);
        for (int s = 0; s < steps; s++)
        {
            if (!allRows && projectFirst)
                SequenceLayout.ProjectInputs(_packedInputs.AsSpan((s * batch + b0) * f, rowsHere * f), Kernel.ReadOnly,
                    inputBias, Gates.AsSpan((s * batch + b0) * g, rowsHere * g), rowsHere, f, g);
            ReadOnlySpan<float> recurrentInput = Hidden.AsSpan(s * stateSize + b0 * u, rowsHere * u);
            if (HasRecurrentMask)
            {
                var dropped = DroppedHidden.AsSpan(s * stateSize + b0 * u, rowsHere * u);
                SequenceLayout.Multiply(recurrentInput, RecurrentMask.AsSpan(b0 * u, rowsHere * u), dropped);
                recurrentInput = dropped;
            }
            ForwardStep(s, b0, b1, recurrentInput);
        }
        if (ReturnSequences)
            SequenceLayout.UnpackSequence(Hidden.AsSpan(stateSize, steps * stateSize), Output.Span, batch, steps, u, b0, b1);
        else
            Hidden.AsSpan(steps * stateSize + b0 * u, rowsHere * u).CopyTo(Output.Span.Slice(b0 * u, rowsHere * u));
    }

    private void BackwardRows(int b0, int b1)
    {
        int batch = Batch, steps = Steps, f = Features, rowsHere = b1 - b0;
        for (int s = steps - 1; s >= 0; s--) BackwardStep(s, b0, b1, needPrevious: s > 0 || WantsInitialGradient);
        if (Dx.Length == 0) return;
        // dx rows depend only on the same rows of the gate gradients, so each thread also does its rows' input gradient.
        if (rowsHere == batch) MultiplyInputGradient(0, steps * batch);
        else
            for (int s = 0; s < steps; s++) MultiplyInputGradient(s * batch + b0, rowsHere);
        SequenceLayout.UnpackInputGradient(_dPackedInputs, Dx.Span, batch, steps, f, GoBackwards, InputMask, b0, b1);
    }

    /// <summary>Up to this many input features the steps' products take the input projection (a B panel of W stays near L1).</summary>
    private const int MaxFusedFeatures = 256;

    /// <summary>The earlier rule's threshold (512 KiB of gate values, an L2 of the Xeon it was set on), kept for <see cref="SmallPassesFuse"/> off.</summary>
    private const int MinFusedGateFloats = 128 * 1024;

    /// <summary>
    /// From this many gate values in a pass (64 KiB) the weight gradients share one pass over the gate gradients: LSTM(64) at
    /// 16 rows × 10 steps (20 Ki values) gains 2.4 %, LSTM(32) at 8 rows × 10 steps (10 Ki values) loses 1.5 % (the pass's
    /// per-block packing costs more than the separate products' calls it saves).
    /// </summary>
    private const int MinSharedGateFloats = 16 * 1024;

    /// <summary>
    /// <paramref name="gates"/> (rows [b0, b1) of step <paramref name="step"/>) += h̃·R, or, for a cell that
    /// <see cref="FusesInputProjection"/>, = bias + x̃W + h̃·R in one product (the same chains in the same order).
    /// </summary>
    private protected void AddRecurrentProduct(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput, PackedMatrix recurrent, Span<float> gates,
        SidePrefetch side = default)
    {
        int rowsHere = b1 - b0;
        if (!_fusedProjection)
        {
            Gemm.Multiply(recurrentInput, recurrent, gates, rowsHere, accumulate: true, side: side);
            return;
        }
        Gemm.MultiplyWithLead(StepInputs(step, b0, b1), _kernelPacked!, recurrentInput, recurrent,
            Bias.Length == 0 ? default : Bias.ReadOnly[..GateWidth], gates, rowsHere, side);
    }

    /// <summary>
    /// Whether a step's products fetch <paramref name="stepFloats"/> values of the next step's arrays into L2 as they run
    /// (<see cref="SidePrefetch"/>): when they fit an L2 of at least <see cref="Gemm.MinL2ForResidentPanels"/>
    /// (<paramref name="l2Bytes"/>) and the arrays of all steps (<paramref name="sequenceFloats"/>) take more than half of it: a
    /// shorter sequence's stay in L2 from one pass to the next, and fetching them costs only the asking (4 % of an LSTM(32) step
    /// at B = 16, T = 10). The fetches are spread over the product's tiles, so most lines arrive shortly before the passes
    /// after the product write or read them, even where the step's weights and gates leave no room to keep them all: on the
    /// EPYC (1 MiB L2) fetching steps of up to the whole L2 instead of a quarter of it made the LSTM(256) training step at
    /// B = 128, T = 50 (448 KiB a step) 2.4 % faster, at B = 256 (896 KiB) 1.8 %, the GRU(256) at B = 256 3.5 %; steps over the
    /// L2 (LSTM(512) and (1024), GRU(512): 1.25–1.8 MiB) gained nothing (bench/results/sweep-s13.md, s13-lstm).
    /// A small or unknown L2 fetches nothing, as before.
    /// </summary>
    internal static bool PrefetchesNextStep(long stepFloats, long sequenceFloats, int l2Bytes) =>
        l2Bytes >= Gemm.MinL2ForResidentPanels && stepFloats * sizeof(float) <= NextStepMaxBytes(l2Bytes) && sequenceFloats * sizeof(float) > l2Bytes / 2;

    [ThreadStatic] private static bool t_quarterL2NextStep;

    /// <summary>Whether steps on this thread fetch only next steps of at most a quarter of the L2, the rule before
    /// <see cref="PrefetchesNextStep"/> took the whole L2; for the benchmark's comparison.</summary>
    internal static bool QuarterL2NextStepForced
    {
        get => t_quarterL2NextStep;
        set => t_quarterL2NextStep = value;
    }

    private static long NextStepMaxBytes(int l2Bytes) => QuarterL2NextStepForced ? l2Bytes / 4 : l2Bytes;

    /// <summary>Row blocks per step instead of <see cref="StepRowBlocks"/>'s (at most one a row), for the tests' comparison of the bits.</summary>
    internal int? ForcedRowBlocks { get; set; }

    // The cell's kernel and a step's arrays per row (floats), and the most bytes of arrays that run as one block
    // (SetStepRowBlocks); without it steps run whole.
    private long _blockKernelFloats, _blockRowFloats, _blockBytes = long.MaxValue;

    /// <summary>
    /// Lets the cell's steps run in row blocks (<see cref="StepRowBlocks"/>): its recurrent kernel has
    /// <paramref name="kernelFloats"/> values, and a step writes or reads <paramref name="rowFloats"/> values of its arrays a row.
    /// </summary>
    private protected void SetStepRowBlocks(long kernelFloats, long rowFloats)
    {
        _blockKernelFloats = kernelFloats;
        _blockRowFloats = rowFloats;
        _blockBytes = BlockBytes(kernelFloats, CacheSizes.L2Bytes);
    }

    /// <summary>Into how many blocks a step of <paramref name="rows"/> rows of this cell is cut (<see cref="StepRowBlocks"/>).</summary>
    private protected int RowBlocks(int rows)
    {
        if (ForcedRowBlocks is int forced) return Math.Clamp(forced, 1, rows);
        // Most steps fit whole: one multiplication decides.
        return rows * _blockRowFloats * sizeof(float) <= _blockBytes ? 1 : StepRowBlocks(rows, _blockKernelFloats, _blockRowFloats, CacheSizes.L2Bytes);
    }

    /// <summary>
    /// Into how many row blocks a step of <paramref name="rows"/> rows is cut, each block's products and cell passes run before the
    /// next's. The packed recurrent kernel (<paramref name="kernelFloats"/>) is read by every block; a step's arrays
    /// (<paramref name="rowFloats"/> a row) beside it can overflow the L2 although the kernel alone stays there: LSTM(256) at 128 rows
    /// a half has 896 KiB of arrays beside 1 MiB of kernel in a 2 MiB L2, so part of the kernel came back from L3 at every step and
    /// the arrays waited on memory. Blocks are made small enough that the kernel, one block's arrays and the next block's (fetched
    /// ahead by the products, <see cref="PrefetchesNextStep"/>) take at most three quarters of the L2. A kernel that does not stay in
    /// L2 anyway (<see cref="Gemm.StaysInL2"/>: over half of it; it would then be read from L3 once per block), a small or unknown
    /// L2, or blocks under <see cref="MinBlockRows"/> rows keep the step whole. Each row's chains are the same whichever rows share
    /// a product, so the blocks change no value.
    /// </summary>
    internal static int StepRowBlocks(int rows, long kernelFloats, long rowFloats, int l2Bytes)
    {
        long stepBytes = rows * rowFloats * sizeof(float), perBlock = BlockBytes(kernelFloats, l2Bytes);
        if (stepBytes <= perBlock) return 1;
        int blocks = (int)((stepBytes + perBlock - 1) / perBlock);
        return Math.Max(1, Math.Min(blocks, rows / MinBlockRows));
    }

    /// <summary>The most bytes of arrays a step block may have (<see cref="StepRowBlocks"/>); no limit where the kernel does not stay in L2.</summary>
    private static long BlockBytes(long kernelFloats, int l2Bytes)
    {
        long kernelBytes = kernelFloats * sizeof(float);
        return Gemm.StaysInL2(kernelBytes, l2Bytes) ? (3L * l2Bytes / 4 - kernelBytes) / 2 : long.MaxValue;
    }

    /// <summary>The fewest rows of a step block (<see cref="StepRowBlocks"/>): three register tiles of the 512-bit path.</summary>
    private const int MinBlockRows = 32;

    /// <summary>Row <paramref name="k"/> of <paramref name="blocks"/> near-equal blocks of [b0, b1) starts here (k = blocks: b1).</summary>
    private protected static int BlockStart(int b0, int b1, int blocks, int k) => b0 + (b1 - b0) * Math.Min(k, blocks) / blocks;

    /// <summary>
    /// The block that runs after block <paramref name="k"/> of step <paramref name="step"/>'s rows [b0, b1): this step's next rows,
    /// or the first block of <paramref name="stepAfter"/> (the next step forward, the previous one backward).
    /// </summary>
    private protected static (int Step, int Start, int End) NextBlock(int step, int b0, int b1, int blocks, int k, int stepAfter) =>
        k + 1 < blocks ? (step, BlockStart(b0, b1, blocks, k + 1), BlockStart(b0, b1, blocks, k + 2)) : (stepAfter, b0, BlockStart(b0, b1, blocks, 1));

    /// <summary>
    /// The gradient reaching step <paramref name="step"/>'s h from the output, added to DHidden's rows [b0, b1).
    /// </summary>
    private protected void AddOutputGradient(int step, int b0, int b1) =>
        SequenceLayout.AddOutputGradient(DOutput.ReadOnly, DHidden, Batch, Steps, Units, step, ReturnSequences, b0, b1);

    /// <summary>
    /// DHidden rows [b0, b1) = (<paramref name="dGates"/> · Rᵀ) ⊙ recurrentMask: the gradient into the
    /// previous h through the recurrent product of a cell whose only path to it is that product.
    /// </summary>
    private protected void PropagateThroughRecurrentKernel(ReadOnlySpan<float> dGates, PackedMatrix recurrentTransposed, int b0, int b1,
        SidePrefetch side = default)
    {
        int u = Units, rowsHere = b1 - b0;
        var dh = DHidden.AsSpan(b0 * u, rowsHere * u);
        Gemm.Multiply(dGates, recurrentTransposed, dh, rowsHere, side: side);
        if (HasRecurrentMask) SequenceLayout.Multiply(dh, RecurrentMask.AsSpan(b0 * u, rowsHere * u), dh);
    }

    private protected void Check(ReadOnlySpan<float> span, int expected, string name, string shapeFormat, int arg0 = 0, int arg1 = 0, int arg2 = 0) =>
        SequenceLayout.CheckLength(span, expected, _operation, name, shapeFormat, arg0, arg1, arg2);

    private protected void CheckOptional(ReadOnlySpan<float> span, int expected, string name, string shapeFormat, int arg0 = 0, int arg1 = 0, int arg2 = 0) =>
        SequenceLayout.CheckOptionalLength(span, expected, _operation, name, shapeFormat, arg0, arg1, arg2);
}

/// <summary>The driver's calls for a cell whose only state is h (GRU, SimpleRNN).</summary>
internal abstract class HiddenStateSequence(string noun, int features, int units, int gates,
    GateActivation activation, GateActivation recurrentActivation, bool returnSequences, bool goBackwards)
    : RecurrentSequence(noun, features, units, gates, activation, recurrentActivation, returnSequences, goBackwards)
{
    /// <summary>
    /// Runs the sequence. <paramref name="output"/> is (B, T, U) with returnSequences, else (B, U).
    /// Empty <paramref name="initialHidden"/> means zeros, empty <paramref name="bias"/> no bias,
    /// empty masks no dropout.
    /// </summary>
    public void Forward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask = default, ReadOnlySpan<float> recurrentMask = default) =>
        RunForward(batch, steps, x, initialHidden, default, kernel, recurrentKernel, bias, output, inputMask, recurrentMask);

    /// <summary>Backpropagation through the whole sequence of the latest <see cref="Forward"/>, once (see <see cref="RecurrentSequence.RunBackward"/>).</summary>
    public void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias, Span<float> dInitialHidden = default) =>
        RunBackward(dOutput, dFinalHidden, default, kernel, recurrentKernel, dx, dKernel, dRecurrentKernel, dBias, dInitialHidden, default);
}
