using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Neurite.Kernels;

namespace Neurite.Layers;

/// <summary>
/// A whole LSTM sequence, forward and backpropagation through time, on spans, in Keras's weight
/// layout. Owns its scratch buffers, so once they have grown to the largest (batch, steps) seen,
/// neither pass allocates.
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
/// </remarks>
internal sealed unsafe class LstmSequence
{
    private const string Op = "LSTM sequence";

    private float[] _packedInputs = [];    // (T, B, F) masked, in step order
    // (T, B, 4U) pre-activations, then activated gates; the backward pass overwrites each step's gates
    // with their gradients dz once it has read them, which keeps one (T, B, 4U) array instead of two in cache.
    private float[] _gates = [];
    private float[] _hidden = [];          // (T+1, B, U): initial state, then h after each step
    private float[] _cell = [];             // (T+1, B, U)
    private float[] _activatedCell = [];   // (T, B, U): act(c) after each step
    private float[] _droppedHidden = [];   // (T, B, U): h̃ fed to each step, kept only with a recurrent mask
    private float[] _dPackedInputs = [];   // (T, B, F)
    private float[] _dHidden = [];         // (B, U)
    private float[] _dCell = [];           // (B, U)
    private float[] _inputMask = [];       // (B, F) copy of the last forward's mask
    private float[] _recurrentMask = [];   // (B, U)
    private bool _hasInputMask, _hasRecurrentMask, _hasBias, _forwardDone;
    private int _batch, _steps;

    // Weights change after every batch (and a model copy shares them), so these are refreshed on
    // every pass, never trusted across calls: R for the forward steps, Rᵀ for the backward steps,
    // Wᵀ for the input gradient.
    private readonly PackedMatrix _recurrentPacked;
    private readonly PackedMatrix _recurrentTransposed;
    private PackedMatrix? _kernelTransposed;
    // The packs the current pass uses: this sequence's own, or the shared ones while they are ready.
    private PackedMatrix _activeRecurrent, _activeRecurrentTransposed;
    private readonly StepPass _stepPass;
    private readonly float[] _gateScale, _gateOffset;

    public LstmSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        GateActivation recurrentActivation = GateActivation.Sigmoid, bool returnSequences = false, bool goBackwards = false)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, "An LSTM needs at least one input feature.");
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, "An LSTM needs a positive number of units.");
        Features = features;
        Units = units;
        Activation = activation;
        RecurrentActivation = recurrentActivation;
        ReturnSequences = returnSequences;
        GoBackwards = goBackwards;
        _recurrentPacked = new PackedMatrix(units, 4 * units);
        // Per gate column: sigmoid(x) = 0.5·tanh(0.5·x) + 0.5 and tanh(x) = 1·tanh(1·x) + (−0) (−0 keeps
        // a −0 result), so one formula activates a whole row of i, f, g, o with no per-gate tails.
        _gateScale = new float[4 * units];
        _gateOffset = new float[4 * units];
        for (int j = 0; j < 4 * units; j++)
        {
            bool candidate = j / units == 2;
            _gateScale[j] = candidate ? 1f : 0.5f;
            _gateOffset[j] = candidate ? -0f : 0.5f;
        }
        _recurrentTransposed = new PackedMatrix(4 * units, units);
        _activeRecurrent = _recurrentPacked;
        _activeRecurrentTransposed = _recurrentTransposed;
        _stepPass = new StepPass(this);
    }

    public int Features { get; }
    public int Units { get; }
    public GateActivation Activation { get; }
    public GateActivation RecurrentActivation { get; }
    public bool ReturnSequences { get; }
    public bool GoBackwards { get; }

    /// <summary>
    /// Packed weights that a model makes once per training step for both halves of a batch
    /// (Sequential.Halves.cs); while they are <see cref="SharedLstmPacks.Ready"/>, the passes use them
    /// instead of packing their own.
    /// </summary>
    internal SharedLstmPacks? Shared { get; set; }

    /// <summary>h after the last step of the latest forward pass, (B, U).</summary>
    public ReadOnlySpan<float> FinalHidden => _hidden.AsSpan(_steps * _batch * Units, _batch * Units);

    /// <summary>c after the last step of the latest forward pass, (B, U).</summary>
    public ReadOnlySpan<float> FinalCell => _cell.AsSpan(_steps * _batch * Units, _batch * Units);

    /// <summary>Grows the scratch buffers for (batch, steps) now, so the first pass does not allocate.</summary>
    public void Reserve(int batch, int steps)
    {
        int u = Units, f = Features, rows = batch * steps;
        SequenceLayout.EnsureLength(ref _packedInputs, rows * f);
        SequenceLayout.EnsureLength(ref _gates, rows * 4 * u);
        SequenceLayout.EnsureLength(ref _hidden, (rows + batch) * u);
        SequenceLayout.EnsureLength(ref _cell, (rows + batch) * u);
        SequenceLayout.EnsureLength(ref _activatedCell, rows * u);
        SequenceLayout.EnsureLength(ref _dPackedInputs, rows * f);
        SequenceLayout.EnsureLength(ref _dHidden, batch * u);
        SequenceLayout.EnsureLength(ref _dCell, batch * u);
        SequenceLayout.EnsureLength(ref _inputMask, batch * f);
        SequenceLayout.EnsureLength(ref _recurrentMask, batch * u);
    }

    /// <summary>
    /// Runs the sequence. <paramref name="output"/> is (B, T, U) with returnSequences, else (B, U).
    /// Empty <paramref name="initialHidden"/>/<paramref name="initialCell"/> mean zeros; empty
    /// <paramref name="bias"/> means no bias; empty masks mean no dropout (inference).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Forward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask = default, ReadOnlySpan<float> recurrentMask = default)
    {
        int u = Units, f = Features, g4 = 4 * u;
        if (batch <= 0 || steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"An LSTM sequence needs a positive batch and number of steps; received batch {batch}, steps {steps}.");
        SequenceLayout.CheckLength(x, batch * steps * f, Op, "x", "(B={0}, T={1}, F={2})", batch, steps, f);
        SequenceLayout.CheckOptionalLength(initialHidden, batch * u, Op, "initial h", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckOptionalLength(initialCell, batch * u, Op, "initial c", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckLength(kernel, f * g4, Op, "kernel", "(F={0}, 4U={1})", f, g4);
        SequenceLayout.CheckLength(recurrentKernel, u * g4, Op, "recurrent kernel", "(U={0}, 4U={1})", u, g4);
        SequenceLayout.CheckOptionalLength(bias, g4, Op, "bias", "(4U={0})", g4);
        SequenceLayout.CheckLength(output, ReturnSequences ? batch * steps * u : batch * u, Op, "output",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        SequenceLayout.CheckOptionalLength(inputMask, batch * f, Op, "input dropout mask", "(B={0}, F={1})", batch, f);
        SequenceLayout.CheckOptionalLength(recurrentMask, batch * u, Op, "recurrent dropout mask", "(B={0}, U={1})", batch, u);

        Reserve(batch, steps);
        _batch = batch;
        _steps = steps;
        _hasBias = !bias.IsEmpty;
        _hasInputMask = !inputMask.IsEmpty;
        _hasRecurrentMask = !recurrentMask.IsEmpty;
        if (_hasInputMask) inputMask.CopyTo(_inputMask);
        if (_hasRecurrentMask)
        {
            recurrentMask.CopyTo(_recurrentMask);
            SequenceLayout.EnsureLength(ref _droppedHidden, batch * steps * u);
        }

        int stateSize = batch * u;
        if (Shared is { Ready: true } shared) _activeRecurrent = shared.Recurrent;
        else
        {
            Gemm.Repack(_recurrentPacked, recurrentKernel);
            _activeRecurrent = _recurrentPacked;
        }

        var hidden = _hidden.AsSpan();
        var cell = _cell.AsSpan();
        if (initialHidden.IsEmpty) hidden[..stateSize].Clear(); else initialHidden.CopyTo(hidden);
        if (initialCell.IsEmpty) cell[..stateSize].Clear(); else initialCell.CopyTo(cell);

        // Packing, the input projection and the output copy are per batch row too, so they run
        // inside the step pass on each thread's rows rather than serially around it.
        fixed (float* pinX = x, pinKernel = kernel, pinBias = bias, pinOutput = output)
        {
            _stepPass.X = new(pinX, x.Length);
            _stepPass.Kernel = new(pinKernel, kernel.Length);
            _stepPass.Bias = new(pinBias, bias.Length);
            _stepPass.Output = new(pinOutput, output.Length);
            RunSteps(backward: false);
            _stepPass.X = _stepPass.Kernel = _stepPass.Bias = _stepPass.Output = default;
        }

        _forwardDone = true;
    }

    /// <summary>
    /// Backpropagation through the whole sequence of the latest <see cref="Forward"/>, once: it overwrites
    /// that pass's gates with their gradients, so another Backward needs another Forward. Weight
    /// gradients are added to <paramref name="dKernel"/>, <paramref name="dRecurrentKernel"/> and
    /// <paramref name="dBias"/>; <paramref name="dx"/> (B, T, F) is overwritten. Empty
    /// <paramref name="dx"/>, <paramref name="dBias"/>, <paramref name="dInitialHidden"/> or
    /// <paramref name="dInitialCell"/> skip that gradient: a stateful layer asks for no gradient
    /// into its carried state, which is what stops gradients crossing batch boundaries.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden = default, Span<float> dInitialCell = default)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward needs a Forward of its own: it was called before Forward, or twice after one. Run Forward on the batch first.");
        int batch = _batch, steps = _steps, u = Units, f = Features, g4 = 4 * u;
        int rows = batch * steps, stateSize = batch * u;
        SequenceLayout.CheckOptionalLength(dOutput, ReturnSequences ? rows * u : stateSize, Op, "output gradient",
            ReturnSequences ? "(B={0}, T={1}, U={2})" : "(B={0}, U={2})", batch, steps, u);
        SequenceLayout.CheckOptionalLength(dFinalHidden, stateSize, Op, "final h gradient", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckOptionalLength(dFinalCell, stateSize, Op, "final c gradient", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckLength(kernel, f * g4, Op, "kernel", "(F={0}, 4U={1})", f, g4);
        SequenceLayout.CheckLength(recurrentKernel, u * g4, Op, "recurrent kernel", "(U={0}, 4U={1})", u, g4);
        SequenceLayout.CheckOptionalLength(dx, rows * f, Op, "input gradient", "(B={0}, T={1}, F={2})", batch, steps, f);
        SequenceLayout.CheckLength(dKernel, f * g4, Op, "kernel gradient", "(F={0}, 4U={1})", f, g4);
        SequenceLayout.CheckLength(dRecurrentKernel, u * g4, Op, "recurrent kernel gradient", "(U={0}, 4U={1})", u, g4);
        SequenceLayout.CheckOptionalLength(dBias, g4, Op, "bias gradient", "(4U={0})", g4);
        SequenceLayout.CheckOptionalLength(dInitialHidden, stateSize, Op, "initial h gradient", "(B={0}, U={1})", batch, u);
        SequenceLayout.CheckOptionalLength(dInitialCell, stateSize, Op, "initial c gradient", "(B={0}, U={1})", batch, u);
        // From here the gates are being overwritten: even a pass that fails needs a new Forward.
        _forwardDone = false;

        var dGates = _gates.AsSpan(0, rows * g4);
        var dh = _dHidden.AsSpan(0, stateSize);
        var dc = _dCell.AsSpan(0, stateSize);
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        if (dFinalCell.IsEmpty) dc.Clear(); else dFinalCell.CopyTo(dc);
        bool kernelPacked;
        PackedMatrix? kernelTransposed;
        if (Shared is { Ready: true } shared)
        {
            _activeRecurrentTransposed = shared.RecurrentTransposed;
            kernelPacked = !dx.IsEmpty && shared.KernelPacked;
            kernelTransposed = shared.KernelTransposed;
        }
        else
        {
            if (steps > 1 || !dInitialHidden.IsEmpty) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
            _activeRecurrentTransposed = _recurrentTransposed;
            kernelPacked = !dx.IsEmpty && SequenceLayout.PrepareKernelTransposed(kernel, g4, f, ref _kernelTransposed);
            kernelTransposed = _kernelTransposed;
        }
        fixed (float* pinDOutput = dOutput, pinKernel = kernel, pinDx = dx)
        {
            _stepPass.DOutput = new(pinDOutput, dOutput.Length);
            _stepPass.Kernel = new(pinKernel, kernel.Length);
            _stepPass.Dx = new(pinDx, dx.Length);
            _stepPass.KernelTransposed = kernelPacked ? kernelTransposed : null;
            RunSteps(backward: true);
            _stepPass.DOutput = _stepPass.Kernel = _stepPass.Dx = default;
            _stepPass.KernelTransposed = null;
        }

        if (!dInitialHidden.IsEmpty)
        {
            Gemm.Multiply(dGates[..(batch * g4)], _activeRecurrentTransposed, dInitialHidden, batch);
            if (_hasRecurrentMask) SequenceLayout.Multiply(dInitialHidden, _recurrentMask.AsSpan(0, stateSize), dInitialHidden);
        }
        if (!dInitialCell.IsEmpty) dc.CopyTo(dInitialCell);

        ReadOnlySpan<float> recurrentInputs = _hasRecurrentMask ? _droppedHidden.AsSpan(0, rows * u) : _hidden.AsSpan(0, rows * u);
        SequenceLayout.AddInputWeightGradients(_packedInputs.AsSpan(0, rows * f), dGates, dKernel, dBias, rows, f, g4);
        Gemm.Multiply(recurrentInputs, dGates, dRecurrentKernel, u, rows, g4, transA: true, accumulate: true);
    }

    /// <summary>
    /// Runs every step of the sequence (forward, or backward from the output gradients), split by
    /// batch rows across <see cref="Threading.MaxThreads"/> when the sequence is big enough to gain.
    /// </summary>
    /// <remarks>
    /// Row b of a step needs only row b of the previous step (its h, c, and in the backward pass its
    /// dz), so each thread runs all steps for its own rows with no join between steps: one fork per
    /// pass instead of two per step. Each row's values are computed by the same instructions in
    /// the same order whichever rows share a thread, so the split never changes a result.
    /// </remarks>
    private void RunSteps(bool backward)
    {
        var path = KernelSelector.Current;
        int threads = Threading.MaxThreads;
        double flopsPerStep = 2.0 * _batch * Units * 4 * Units;
        int parts = threads > 1 && path != KernelPath.Scalar && !WorkerPool.InsidePart
            && _steps * flopsPerStep >= Gemm.ParallelMinFlops ? Math.Min(threads, _batch) : 1;
        _stepPass.Backward = backward;
        _stepPass.Path = path;
        _stepPass.Parts = parts;
        if (parts == 1) _stepPass.Run(0);
        else WorkerPool.Run(_stepPass, parts, threads);
    }

    private void ForwardSteps(int b0, int b1, KernelPath path)
    {
        int batch = _batch, steps = _steps, u = Units, f = Features, g4 = 4 * u, rowsHere = b1 - b0, stateSize = batch * u;
        var pass = _stepPass;
        SequenceLayout.PackInputs(pass.X.ReadOnly, _packedInputs, batch, steps, f, GoBackwards,
            _hasInputMask ? _inputMask.AsSpan(0, batch * f) : default, b0, b1);
        // All rows of every step are contiguous on one thread, so that projection is one big GEMM;
        // a part of the rows projects step by step. The GEMM's result does not depend on its row count.
        bool allRows = rowsHere == batch;
        if (allRows)
            SequenceLayout.ProjectInputs(_packedInputs.AsSpan(0, steps * batch * f), pass.Kernel.ReadOnly, pass.Bias.ReadOnly,
                _gates.AsSpan(0, steps * batch * g4), steps * batch, f, g4);
        for (int s = 0; s < steps; s++)
        {
            if (!allRows)
                SequenceLayout.ProjectInputs(_packedInputs.AsSpan((s * batch + b0) * f, rowsHere * f), pass.Kernel.ReadOnly,
                    pass.Bias.ReadOnly, _gates.AsSpan((s * batch + b0) * g4, rowsHere * g4), rowsHere, f, g4);
            var hPrev = _hidden.AsSpan(s * stateSize + b0 * u, rowsHere * u);
            ReadOnlySpan<float> recurrentInput = hPrev;
            if (_hasRecurrentMask)
            {
                var dropped = _droppedHidden.AsSpan(s * stateSize + b0 * u, rowsHere * u);
                SequenceLayout.Multiply(hPrev, _recurrentMask.AsSpan(b0 * u, rowsHere * u), dropped);
                recurrentInput = dropped;
            }
            Gemm.Multiply(recurrentInput, _activeRecurrent, _gates.AsSpan((s * batch + b0) * g4, rowsHere * g4), rowsHere, accumulate: true);
            ForwardRows(s, b0, b1, path);
        }
        if (ReturnSequences)
            SequenceLayout.UnpackSequence(_hidden.AsSpan(stateSize, steps * stateSize), pass.Output.Span, batch, steps, u, b0, b1);
        else
            _hidden.AsSpan(steps * stateSize + b0 * u, rowsHere * u).CopyTo(pass.Output.Span.Slice(b0 * u, rowsHere * u));
    }

    private void BackwardSteps(int b0, int b1, KernelPath path, ReadOnlySpan<float> dOutput)
    {
        int batch = _batch, u = Units, g4 = 4 * u, rowsHere = b1 - b0;
        var dh = _dHidden.AsSpan(b0 * u, rowsHere * u);
        for (int s = _steps - 1; s >= 0; s--)
        {
            // dh_s = (dz_{s+1} Rᵀ) ⊙ mask, the recurrent path into the state this step produced;
            // the mask and the output gradient are applied row by row in the cell pass.
            if (s < _steps - 1)
                Gemm.Multiply(_gates.AsSpan(((s + 1) * batch + b0) * g4, rowsHere * g4), _activeRecurrentTransposed, dh, rowsHere);
            BackwardRows(s, b0, b1, path, dOutput);
        }
        var pass = _stepPass;
        if (pass.Dx.Length == 0) return;
        // dx rows depend only on the same rows of dz, so each thread also does its rows' input gradient.
        int f = Features, steps = _steps;
        if (rowsHere == batch)
            SequenceLayout.MultiplyByKernelTransposed(_gates.AsSpan(0, steps * batch * g4), pass.Kernel.ReadOnly,
                _dPackedInputs.AsSpan(0, steps * batch * f), steps * batch, g4, f, pass.KernelTransposed);
        else
            for (int s = 0; s < steps; s++)
                SequenceLayout.MultiplyByKernelTransposed(_gates.AsSpan((s * batch + b0) * g4, rowsHere * g4), pass.Kernel.ReadOnly,
                    _dPackedInputs.AsSpan((s * batch + b0) * f, rowsHere * f), rowsHere, g4, f, pass.KernelTransposed);
        SequenceLayout.UnpackInputGradient(_dPackedInputs, pass.Dx.Span, batch, steps, f, GoBackwards,
            _hasInputMask ? _inputMask.AsSpan(0, batch * f) : default, b0, b1);
    }

    private void ForwardRows(int s, int b0, int b1, KernelPath path)
    {
        int batch = _batch, u = Units, g4 = 4 * u, rowsHere = b1 - b0;
        int state = (s * batch + b0) * u, next = ((s + 1) * batch + b0) * u;
        ForwardCells(_gates.AsSpan((s * batch + b0) * g4, rowsHere * g4), _cell.AsSpan(state, rowsHere * u),
            _cell.AsSpan(next, rowsHere * u), _activatedCell.AsSpan(state, rowsHere * u), _hidden.AsSpan(next, rowsHere * u),
            rowsHere, path);
    }

    private void BackwardRows(int s, int b0, int b1, KernelPath path, ReadOnlySpan<float> dOutput)
    {
        int batch = _batch, steps = _steps, u = Units, g4 = 4 * u, rowsHere = b1 - b0;
        var dh = _dHidden.AsSpan(b0 * u, rowsHere * u);
        if (_hasRecurrentMask && s < steps - 1) SequenceLayout.Multiply(dh, _recurrentMask.AsSpan(b0 * u, rowsHere * u), dh);
        // A whole output sequence's gradient is added inside the cell pass (row b of step s sits at
        // (b·T + s)·U), saving a pass over dh per step; the last-output-only case adds it here.
        bool fuseOutput = ReturnSequences && !dOutput.IsEmpty;
        if (!fuseOutput) SequenceLayout.AddOutputGradient(dOutput, _dHidden, batch, steps, u, s, ReturnSequences, b0, b1);
        var outputRows = fuseOutput ? dOutput.Slice((b0 * steps + s) * u, ((rowsHere - 1) * steps + 1) * u) : default;
        int state = (s * batch + b0) * u;
        BackwardCells(_gates.AsSpan((s * batch + b0) * g4, rowsHere * g4), _cell.AsSpan(state, rowsHere * u),
            _activatedCell.AsSpan(state, rowsHere * u), dh, outputRows, steps * u, _dCell.AsSpan(b0 * u, rowsHere * u),
            _gates.AsSpan((s * batch + b0) * g4, rowsHere * g4), rowsHere, path);
    }

    /// <summary>All steps of one pass over a range of batch rows, for <see cref="WorkerPool"/>.</summary>
    private sealed unsafe class StepPass(LstmSequence owner) : IParallelWork
    {
        public int Parts;
        public bool Backward;
        public KernelPath Path;
        // The caller's spans, pinned by Forward and Backward for the duration of the pass.
        public PinnedFloats X, Kernel, Bias, Output, DOutput, Dx;
        public PackedMatrix? KernelTransposed;

        public void Run(int part)
        {
            int batch = owner._batch;
            int b0 = batch * part / Parts, b1 = batch * (part + 1) / Parts;
            if (Backward) owner.BackwardSteps(b0, b1, Path, DOutput.ReadOnly);
            else owner.ForwardSteps(b0, b1, Path);
        }
    }

    /// <summary>
    /// One step's fused cell pass over (B, 4U) gate pre-activations: activates them in place and
    /// writes c', act(c') and h'.
    /// </summary>
    private void ForwardCells(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> cNext, Span<float> activatedCell,
        Span<float> hNext, int batch, KernelPath path)
    {
        if (path == KernelPath.Vector512) ForwardCells<Lanes512, Vector512<float>>(gates, cPrev, cNext, activatedCell, hNext, batch);
        else if (path == KernelPath.Vector256) ForwardCells<Lanes256, Vector256<float>>(gates, cPrev, cNext, activatedCell, hNext, batch);
        else ForwardCells<LanesScalar, float>(gates, cPrev, cNext, activatedCell, hNext, batch);
    }

    /// <summary>
    /// One step's fused backward cell pass. Reads dh (total gradient into h') and dc (gradient into
    /// c' from later steps); writes the gate pre-activation gradients and replaces dc with dc_prev.
    /// <code>
    /// dc  = dc + dh ⊙ o ⊙ act'(c')          dz_o = dh ⊙ act(c') ⊙ σ'(o)
    /// dz_i = dc ⊙ g ⊙ σ'(i)   dz_f = dc ⊙ c ⊙ σ'(f)   dz_c = dc ⊙ i ⊙ act'(g)   dc_prev = dc ⊙ f
    /// </code>
    /// </summary>
    private void BackwardCells(ReadOnlySpan<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> activatedCell,
        ReadOnlySpan<float> dh, ReadOnlySpan<float> outputRows, int outputStride, Span<float> dc, Span<float> dGates, int batch, KernelPath path)
    {
        if (path == KernelPath.Vector512)
            BackwardCells<Lanes512, Vector512<float>>(gates, cPrev, activatedCell, dh, outputRows, outputStride, dc, dGates, batch);
        else if (path == KernelPath.Vector256)
            BackwardCells<Lanes256, Vector256<float>>(gates, cPrev, activatedCell, dh, outputRows, outputStride, dc, dGates, batch);
        else BackwardCells<LanesScalar, float>(gates, cPrev, activatedCell, dh, outputRows, outputStride, dc, dGates, batch);
    }

    // Tail columns (U not a multiple of the width, e.g. 100 = 6·16 + 4) run one more vector with
    // masked loads and stores: the scalar tanh costs about as much per element as a whole vector,
    // so a 4-column scalar tail nearly doubled the pass for U = 100. Masked accesses need the
    // memory pinned, hence the fixed blocks.
    private void ForwardCells<TL, TV>(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> cNext, Span<float> activatedCell,
        Span<float> hNext, int batch) where TL : ILanes<TV> where TV : struct
    {
        int u = Units, width = TL.Width, main = u - u % width, tail = u - main;
        var act = Activation;
        var rec = RecurrentActivation;
        var mask = TL.FirstLanes(tail);
        if (act == GateActivation.Tanh && rec == GateActivation.Sigmoid)
        {
            ForwardCellsKerasDefault<TL, TV>(gates, cPrev, cNext, activatedCell, hNext, batch);
            return;
        }
        fixed (float* pinGates = gates, pinCPrev = cPrev, pinCNext = cNext, pinActivated = activatedCell, pinHNext = hNext)
        {
            for (int b = 0; b < batch; b++)
            {
                ref float zi = ref MemoryMarshal.GetReference(gates.Slice(b * 4 * u));
                ref float cp = ref MemoryMarshal.GetReference(cPrev.Slice(b * u));
                ref float cn = ref MemoryMarshal.GetReference(cNext.Slice(b * u));
                ref float tc = ref MemoryMarshal.GetReference(activatedCell.Slice(b * u));
                ref float hn = ref MemoryMarshal.GetReference(hNext.Slice(b * u));
                for (int j = 0; j < main; j += width)
                    ForwardLanes<TL, TV>(ref zi, ref cp, ref cn, ref tc, ref hn, j, u, act, rec, masked: false, mask);
                if (tail > 0) ForwardLanes<TL, TV>(ref zi, ref cp, ref cn, ref tc, ref hn, main, u, act, rec, masked: true, mask);
            }
        }
    }

    // The Keras default (sigmoid gates, tanh candidate and output): each row's 4U gates are activated
    // in one run of whole vectors (U = 100 or 50 leave no tail in 4U), then the cell pass reads them
    // back. Same formulas as ForwardLanes, so the same bits.
    private void ForwardCellsKerasDefault<TL, TV>(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> cNext,
        Span<float> activatedCell, Span<float> hNext, int batch) where TL : ILanes<TV> where TV : struct
    {
        int u = Units, g4 = 4 * u, width = TL.Width, main = u - u % width, tail = u - main;
        int gateMain = g4 - g4 % width, gateTail = g4 - gateMain;
        var mask = TL.FirstLanes(tail);
        var gateMask = TL.FirstLanes(gateTail);
        fixed (float* pinGates = gates, pinCPrev = cPrev, pinCNext = cNext, pinActivated = activatedCell, pinHNext = hNext,
            pinScale = _gateScale, pinOffset = _gateOffset)
        {
            ref float scale = ref _gateScale[0];
            ref float offset = ref _gateOffset[0];
            for (int b = 0; b < batch; b++)
            {
                ref float zi = ref MemoryMarshal.GetReference(gates.Slice(b * g4));
                for (int j = 0; j < gateMain; j += width)
                    ActivateGateLanes<TL, TV>(ref zi, ref scale, ref offset, j, masked: false, gateMask);
                if (gateTail > 0) ActivateGateLanes<TL, TV>(ref zi, ref scale, ref offset, gateMain, masked: true, gateMask);
                ref float cp = ref MemoryMarshal.GetReference(cPrev.Slice(b * u));
                ref float cn = ref MemoryMarshal.GetReference(cNext.Slice(b * u));
                ref float tc = ref MemoryMarshal.GetReference(activatedCell.Slice(b * u));
                ref float hn = ref MemoryMarshal.GetReference(hNext.Slice(b * u));
                for (int j = 0; j < main; j += width)
                    CellLanes<TL, TV>(ref zi, ref cp, ref cn, ref tc, ref hn, j, u, masked: false, mask);
                if (tail > 0) CellLanes<TL, TV>(ref zi, ref cp, ref cn, ref tc, ref hn, main, u, masked: true, mask);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ActivateGateLanes<TL, TV>(ref float zi, ref float scale, ref float offset, int j, bool masked, TV mask)
        where TL : ILanes<TV> where TV : struct
    {
        var a = Load<TL, TV>(ref scale, j, masked, mask);
        var t = TL.Activate(GateActivation.Tanh, TL.Multiply(a, Load<TL, TV>(ref zi, j, masked, mask)));
        Store<TL, TV>(TL.MultiplyAdd(a, t, Load<TL, TV>(ref offset, j, masked, mask)), ref zi, j, masked, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CellLanes<TL, TV>(ref float zi, ref float cp, ref float cn, ref float tc, ref float hn, int j, int u,
        bool masked, TV mask) where TL : ILanes<TV> where TV : struct
    {
        var i = Load<TL, TV>(ref zi, j, masked, mask);
        var f = Load<TL, TV>(ref zi, u + j, masked, mask);
        var g = Load<TL, TV>(ref zi, 2 * u + j, masked, mask);
        var o = Load<TL, TV>(ref zi, 3 * u + j, masked, mask);
        var c = TL.MultiplyAdd(f, Load<TL, TV>(ref cp, j, masked, mask), TL.Multiply(i, g));
        Store<TL, TV>(c, ref cn, j, masked, mask);
        var t = TL.Activate(GateActivation.Tanh, c);
        Store<TL, TV>(t, ref tc, j, masked, mask);
        Store<TL, TV>(TL.Multiply(o, t), ref hn, j, masked, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardLanes<TL, TV>(ref float zi, ref float cp, ref float cn, ref float tc, ref float hn, int j, int u,
        GateActivation act, GateActivation rec, bool masked, TV mask) where TL : ILanes<TV> where TV : struct
    {
        var i = TL.Activate(rec, Load<TL, TV>(ref zi, j, masked, mask));
        var f = TL.Activate(rec, Load<TL, TV>(ref zi, u + j, masked, mask));
        var g = TL.Activate(act, Load<TL, TV>(ref zi, 2 * u + j, masked, mask));
        var o = TL.Activate(rec, Load<TL, TV>(ref zi, 3 * u + j, masked, mask));
        Store<TL, TV>(i, ref zi, j, masked, mask);
        Store<TL, TV>(f, ref zi, u + j, masked, mask);
        Store<TL, TV>(g, ref zi, 2 * u + j, masked, mask);
        Store<TL, TV>(o, ref zi, 3 * u + j, masked, mask);
        var c = TL.MultiplyAdd(f, Load<TL, TV>(ref cp, j, masked, mask), TL.Multiply(i, g));
        Store<TL, TV>(c, ref cn, j, masked, mask);
        var t = TL.Activate(act, c);
        Store<TL, TV>(t, ref tc, j, masked, mask);
        Store<TL, TV>(TL.Multiply(o, t), ref hn, j, masked, mask);
    }

    private void BackwardCells<TL, TV>(ReadOnlySpan<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> activatedCell,
        ReadOnlySpan<float> dh, ReadOnlySpan<float> outputRows, int outputStride, Span<float> dc, Span<float> dGates, int batch)
        where TL : ILanes<TV> where TV : struct
    {
        bool hasOutput = !outputRows.IsEmpty;
        int u = Units, width = TL.Width, main = u - u % width, tail = u - main;
        var act = Activation;
        var rec = RecurrentActivation;
        var mask = TL.FirstLanes(tail);
        fixed (float* pinGates = gates, pinCPrev = cPrev, pinActivated = activatedCell, pinDh = dh, pinDc = dc, pinDGates = dGates,
            pinOutput = outputRows)
        {
            for (int b = 0; b < batch; b++)
            {
                ref float gi = ref MemoryMarshal.GetReference(gates.Slice(b * 4 * u));
                ref float di = ref MemoryMarshal.GetReference(dGates.Slice(b * 4 * u));
                ref float cp = ref MemoryMarshal.GetReference(cPrev.Slice(b * u));
                ref float tc = ref MemoryMarshal.GetReference(activatedCell.Slice(b * u));
                ref float dhr = ref MemoryMarshal.GetReference(dh.Slice(b * u));
                ref float dcr = ref MemoryMarshal.GetReference(dc.Slice(b * u));
                ref float dor = ref hasOutput ? ref MemoryMarshal.GetReference(outputRows.Slice(b * outputStride)) : ref dhr;
                for (int j = 0; j < main; j += width)
                    BackwardLanes<TL, TV>(ref gi, ref di, ref cp, ref tc, ref dhr, ref dor, hasOutput, ref dcr, j, u, act, rec, masked: false, mask);
                if (tail > 0)
                    BackwardLanes<TL, TV>(ref gi, ref di, ref cp, ref tc, ref dhr, ref dor, hasOutput, ref dcr, main, u, act, rec, masked: true, mask);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardLanes<TL, TV>(ref float gi, ref float di, ref float cp, ref float tc, ref float dhr, ref float dor,
        bool hasOutput, ref float dcr, int j, int u, GateActivation act, GateActivation rec, bool masked, TV mask)
        where TL : ILanes<TV> where TV : struct
    {
        var i = Load<TL, TV>(ref gi, j, masked, mask);
        var f = Load<TL, TV>(ref gi, u + j, masked, mask);
        var g = Load<TL, TV>(ref gi, 2 * u + j, masked, mask);
        var o = Load<TL, TV>(ref gi, 3 * u + j, masked, mask);
        var t = Load<TL, TV>(ref tc, j, masked, mask);
        var dhv = Load<TL, TV>(ref dhr, j, masked, mask);
        if (hasOutput) dhv = TL.Add(dhv, Load<TL, TV>(ref dor, j, masked, mask));
        var dcv = TL.MultiplyAdd(TL.Multiply(dhv, o), TL.Derivative(act, t), Load<TL, TV>(ref dcr, j, masked, mask));
        Store<TL, TV>(TL.Multiply(TL.Multiply(dcv, g), TL.Derivative(rec, i)), ref di, j, masked, mask);
        Store<TL, TV>(TL.Multiply(TL.Multiply(dcv, Load<TL, TV>(ref cp, j, masked, mask)), TL.Derivative(rec, f)), ref di, u + j, masked, mask);
        Store<TL, TV>(TL.Multiply(TL.Multiply(dcv, i), TL.Derivative(act, g)), ref di, 2 * u + j, masked, mask);
        Store<TL, TV>(TL.Multiply(TL.Multiply(dhv, t), TL.Derivative(rec, o)), ref di, 3 * u + j, masked, mask);
        Store<TL, TV>(TL.Multiply(dcv, f), ref dcr, j, masked, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Load<TL, TV>(ref float origin, int index, bool masked, TV mask) where TL : ILanes<TV> where TV : struct =>
        masked ? TL.LoadMasked(ref origin, index, mask) : TL.Load(ref origin, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TL, TV>(TV value, ref float origin, int index, bool masked, TV mask) where TL : ILanes<TV> where TV : struct
    {
        if (masked) TL.StoreMasked(value, ref origin, index, mask);
        else TL.Store(value, ref origin, index);
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
