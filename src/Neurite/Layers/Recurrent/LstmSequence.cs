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
internal sealed class LstmSequence
{
    private const string Op = "LSTM sequence";

    private float[] _packedInputs = [];    // (T, B, F) masked, in step order
    private float[] _gates = [];           // (T, B, 4U) pre-activations, then activated gates
    private float[] _hidden = [];          // (T+1, B, U): initial state, then h after each step
    private float[] _cell = [];             // (T+1, B, U)
    private float[] _activatedCell = [];   // (T, B, U): act(c) after each step
    private float[] _droppedHidden = [];   // (T, B, U): h̃ fed to each step, kept only with a recurrent mask
    private float[] _dGates = [];          // (T, B, 4U)
    private float[] _dPackedInputs = [];   // (T, B, F)
    private float[] _dHidden = [];         // (B, U)
    private float[] _dCell = [];           // (B, U)
    private float[] _inputMask = [];       // (B, F) copy of the last forward's mask
    private float[] _recurrentMask = [];   // (B, U)
    private bool _hasInputMask, _hasRecurrentMask, _hasBias, _forwardDone;
    private int _batch, _steps;

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
    }

    public int Features { get; }
    public int Units { get; }
    public GateActivation Activation { get; }
    public GateActivation RecurrentActivation { get; }
    public bool ReturnSequences { get; }
    public bool GoBackwards { get; }

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
        SequenceLayout.EnsureLength(ref _dGates, rows * 4 * u);
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

        int rows = batch * steps, stateSize = batch * u;
        var packed = _packedInputs.AsSpan(0, rows * f);
        var gates = _gates.AsSpan(0, rows * g4);
        SequenceLayout.PackInputs(x, packed, batch, steps, f, GoBackwards, inputMask);
        SequenceLayout.FillRowsWithBias(gates, bias, g4);
        Gemm.Multiply(packed, kernel, gates, rows, f, g4, accumulate: true);

        var hidden = _hidden.AsSpan();
        var cell = _cell.AsSpan();
        if (initialHidden.IsEmpty) hidden[..stateSize].Clear(); else initialHidden.CopyTo(hidden);
        if (initialCell.IsEmpty) cell[..stateSize].Clear(); else initialCell.CopyTo(cell);

        for (int s = 0; s < steps; s++)
        {
            var hPrev = hidden.Slice(s * stateSize, stateSize);
            ReadOnlySpan<float> recurrentInput = hPrev;
            if (_hasRecurrentMask)
            {
                var dropped = _droppedHidden.AsSpan(s * stateSize, stateSize);
                SequenceLayout.Multiply(hPrev, recurrentMask, dropped);
                recurrentInput = dropped;
            }
            var stepGates = gates.Slice(s * batch * g4, batch * g4);
            Gemm.Multiply(recurrentInput, recurrentKernel, stepGates, batch, u, g4, accumulate: true);
            ForwardCells(stepGates, cell.Slice(s * stateSize, stateSize), cell.Slice((s + 1) * stateSize, stateSize),
                _activatedCell.AsSpan(s * stateSize, stateSize), hidden.Slice((s + 1) * stateSize, stateSize), batch);
        }

        if (ReturnSequences) SequenceLayout.UnpackSequence(hidden.Slice(stateSize, rows * u), output, batch, steps, u);
        else FinalHidden.CopyTo(output);
        _forwardDone = true;
    }

    /// <summary>
    /// Backpropagation through the whole sequence of the latest <see cref="Forward"/>. Weight
    /// gradients are added to <paramref name="dKernel"/>, <paramref name="dRecurrentKernel"/> and
    /// <paramref name="dBias"/>; <paramref name="dx"/> (B, T, F) is overwritten. Empty
    /// <paramref name="dx"/>, <paramref name="dBias"/>, <paramref name="dInitialHidden"/> or
    /// <paramref name="dInitialCell"/> skip that gradient: a stateful layer asks for no gradient
    /// into its carried state, which is what stops gradients crossing batch boundaries.
    /// </summary>
    public void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden = default, Span<float> dInitialCell = default)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward was called before Forward. Run Forward on the batch first.");
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

        var dGates = _dGates.AsSpan(0, rows * g4);
        var dh = _dHidden.AsSpan(0, stateSize);
        var dc = _dCell.AsSpan(0, stateSize);
        var recurrentMask = _hasRecurrentMask ? _recurrentMask.AsSpan(0, stateSize) : default;
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        if (dFinalCell.IsEmpty) dc.Clear(); else dFinalCell.CopyTo(dc);

        for (int s = steps - 1; s >= 0; s--)
        {
            if (s < steps - 1)
            {
                // dh_s = (dz_{s+1} Rᵀ) ⊙ mask: the recurrent path into the state this step produced.
                Gemm.Multiply(dGates.Slice((s + 1) * batch * g4, batch * g4), recurrentKernel, dh, batch, g4, u, transB: true);
                if (_hasRecurrentMask) SequenceLayout.Multiply(dh, recurrentMask, dh);
            }
            SequenceLayout.AddOutputGradient(dOutput, dh, batch, steps, u, s, ReturnSequences);
            BackwardCells(_gates.AsSpan(s * batch * g4, batch * g4), _cell.AsSpan(s * stateSize, stateSize),
                _activatedCell.AsSpan(s * stateSize, stateSize), dh, dc, dGates.Slice(s * batch * g4, batch * g4), batch);
        }

        if (!dInitialHidden.IsEmpty)
        {
            Gemm.Multiply(dGates[..(batch * g4)], recurrentKernel, dInitialHidden, batch, g4, u, transB: true);
            if (_hasRecurrentMask) SequenceLayout.Multiply(dInitialHidden, recurrentMask, dInitialHidden);
        }
        if (!dInitialCell.IsEmpty) dc.CopyTo(dInitialCell);

        ReadOnlySpan<float> recurrentInputs = _hasRecurrentMask ? _droppedHidden.AsSpan(0, rows * u) : _hidden.AsSpan(0, rows * u);
        Gemm.Multiply(_packedInputs.AsSpan(0, rows * f), dGates, dKernel, f, rows, g4, transA: true, accumulate: true);
        Gemm.Multiply(recurrentInputs, dGates, dRecurrentKernel, u, rows, g4, transA: true, accumulate: true);
        if (!dBias.IsEmpty) SequenceLayout.AddColumnSums(dGates, rows, g4, dBias);
        if (!dx.IsEmpty)
        {
            var dPacked = _dPackedInputs.AsSpan(0, rows * f);
            Gemm.Multiply(dGates, kernel, dPacked, rows, g4, f, transB: true);
            SequenceLayout.UnpackInputGradient(dPacked, dx, batch, steps, f, GoBackwards,
                _hasInputMask ? _inputMask.AsSpan(0, batch * f) : default);
        }
    }

    /// <summary>
    /// One step's fused cell pass over (B, 4U) gate pre-activations: activates them in place and
    /// writes c', act(c') and h'.
    /// </summary>
    private void ForwardCells(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> cNext, Span<float> activatedCell,
        Span<float> hNext, int batch)
    {
        int u = Units;
        var act = Activation;
        var rec = RecurrentActivation;
        var path = KernelSelector.Current;
        for (int b = 0; b < batch; b++)
        {
            ref float zi = ref MemoryMarshal.GetReference(gates.Slice(b * 4 * u));
            ref float zf = ref Unsafe.Add(ref zi, u);
            ref float zg = ref Unsafe.Add(ref zi, 2 * u);
            ref float zo = ref Unsafe.Add(ref zi, 3 * u);
            ref float cp = ref MemoryMarshal.GetReference(cPrev.Slice(b * u));
            ref float cn = ref MemoryMarshal.GetReference(cNext.Slice(b * u));
            ref float tc = ref MemoryMarshal.GetReference(activatedCell.Slice(b * u));
            ref float hn = ref MemoryMarshal.GetReference(hNext.Slice(b * u));
            int j = 0;
            if (path == KernelPath.Vector512)
            {
                for (; j <= u - 16; j += 16)
                {
                    nuint k = (nuint)j;
                    var i = GateMath.Apply(rec, Vector512.LoadUnsafe(ref zi, k));
                    var f = GateMath.Apply(rec, Vector512.LoadUnsafe(ref zf, k));
                    var g = GateMath.Apply(act, Vector512.LoadUnsafe(ref zg, k));
                    var o = GateMath.Apply(rec, Vector512.LoadUnsafe(ref zo, k));
                    i.StoreUnsafe(ref zi, k); f.StoreUnsafe(ref zf, k); g.StoreUnsafe(ref zg, k); o.StoreUnsafe(ref zo, k);
                    var c = Vector512.FusedMultiplyAdd(f, Vector512.LoadUnsafe(ref cp, k), i * g);
                    c.StoreUnsafe(ref cn, k);
                    var t = GateMath.Apply(act, c);
                    t.StoreUnsafe(ref tc, k);
                    (o * t).StoreUnsafe(ref hn, k);
                }
            }
            if (path != KernelPath.Scalar)
            {
                for (; j <= u - 8; j += 8)
                {
                    nuint k = (nuint)j;
                    var i = GateMath.Apply(rec, Vector256.LoadUnsafe(ref zi, k));
                    var f = GateMath.Apply(rec, Vector256.LoadUnsafe(ref zf, k));
                    var g = GateMath.Apply(act, Vector256.LoadUnsafe(ref zg, k));
                    var o = GateMath.Apply(rec, Vector256.LoadUnsafe(ref zo, k));
                    i.StoreUnsafe(ref zi, k); f.StoreUnsafe(ref zf, k); g.StoreUnsafe(ref zg, k); o.StoreUnsafe(ref zo, k);
                    var c = Vector256.FusedMultiplyAdd(f, Vector256.LoadUnsafe(ref cp, k), i * g);
                    c.StoreUnsafe(ref cn, k);
                    var t = GateMath.Apply(act, c);
                    t.StoreUnsafe(ref tc, k);
                    (o * t).StoreUnsafe(ref hn, k);
                }
            }
            for (; j < u; j++)
            {
                float i = GateMath.Apply(rec, Unsafe.Add(ref zi, j));
                float f = GateMath.Apply(rec, Unsafe.Add(ref zf, j));
                float g = GateMath.Apply(act, Unsafe.Add(ref zg, j));
                float o = GateMath.Apply(rec, Unsafe.Add(ref zo, j));
                Unsafe.Add(ref zi, j) = i; Unsafe.Add(ref zf, j) = f; Unsafe.Add(ref zg, j) = g; Unsafe.Add(ref zo, j) = o;
                float c = MathF.FusedMultiplyAdd(f, Unsafe.Add(ref cp, j), i * g);
                Unsafe.Add(ref cn, j) = c;
                float t = GateMath.Apply(act, c);
                Unsafe.Add(ref tc, j) = t;
                Unsafe.Add(ref hn, j) = o * t;
            }
        }
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
        ReadOnlySpan<float> dh, Span<float> dc, Span<float> dGates, int batch)
    {
        int u = Units;
        var act = Activation;
        var rec = RecurrentActivation;
        var path = KernelSelector.Current;
        for (int b = 0; b < batch; b++)
        {
            ref float gi = ref MemoryMarshal.GetReference(gates.Slice(b * 4 * u));
            ref float gf = ref Unsafe.Add(ref gi, u);
            ref float gg = ref Unsafe.Add(ref gi, 2 * u);
            ref float go = ref Unsafe.Add(ref gi, 3 * u);
            ref float di = ref MemoryMarshal.GetReference(dGates.Slice(b * 4 * u));
            ref float df = ref Unsafe.Add(ref di, u);
            ref float dg = ref Unsafe.Add(ref di, 2 * u);
            ref float dout = ref Unsafe.Add(ref di, 3 * u);
            ref float cp = ref MemoryMarshal.GetReference(cPrev.Slice(b * u));
            ref float tc = ref MemoryMarshal.GetReference(activatedCell.Slice(b * u));
            ref float dhr = ref MemoryMarshal.GetReference(dh.Slice(b * u));
            ref float dcr = ref MemoryMarshal.GetReference(dc.Slice(b * u));
            int j = 0;
            if (path == KernelPath.Vector512)
            {
                for (; j <= u - 16; j += 16)
                {
                    nuint k = (nuint)j;
                    var i = Vector512.LoadUnsafe(ref gi, k);
                    var f = Vector512.LoadUnsafe(ref gf, k);
                    var g = Vector512.LoadUnsafe(ref gg, k);
                    var o = Vector512.LoadUnsafe(ref go, k);
                    var t = Vector512.LoadUnsafe(ref tc, k);
                    var dhv = Vector512.LoadUnsafe(ref dhr, k);
                    var dcv = Vector512.FusedMultiplyAdd(dhv * o, GateMath.DerivativeFromOutput(act, t), Vector512.LoadUnsafe(ref dcr, k));
                    (dcv * g * GateMath.DerivativeFromOutput(rec, i)).StoreUnsafe(ref di, k);
                    (dcv * Vector512.LoadUnsafe(ref cp, k) * GateMath.DerivativeFromOutput(rec, f)).StoreUnsafe(ref df, k);
                    (dcv * i * GateMath.DerivativeFromOutput(act, g)).StoreUnsafe(ref dg, k);
                    (dhv * t * GateMath.DerivativeFromOutput(rec, o)).StoreUnsafe(ref dout, k);
                    (dcv * f).StoreUnsafe(ref dcr, k);
                }
            }
            if (path != KernelPath.Scalar)
            {
                for (; j <= u - 8; j += 8)
                {
                    nuint k = (nuint)j;
                    var i = Vector256.LoadUnsafe(ref gi, k);
                    var f = Vector256.LoadUnsafe(ref gf, k);
                    var g = Vector256.LoadUnsafe(ref gg, k);
                    var o = Vector256.LoadUnsafe(ref go, k);
                    var t = Vector256.LoadUnsafe(ref tc, k);
                    var dhv = Vector256.LoadUnsafe(ref dhr, k);
                    var dcv = Vector256.FusedMultiplyAdd(dhv * o, GateMath.DerivativeFromOutput(act, t), Vector256.LoadUnsafe(ref dcr, k));
                    (dcv * g * GateMath.DerivativeFromOutput(rec, i)).StoreUnsafe(ref di, k);
                    (dcv * Vector256.LoadUnsafe(ref cp, k) * GateMath.DerivativeFromOutput(rec, f)).StoreUnsafe(ref df, k);
                    (dcv * i * GateMath.DerivativeFromOutput(act, g)).StoreUnsafe(ref dg, k);
                    (dhv * t * GateMath.DerivativeFromOutput(rec, o)).StoreUnsafe(ref dout, k);
                    (dcv * f).StoreUnsafe(ref dcr, k);
                }
            }
            for (; j < u; j++)
            {
                float i = Unsafe.Add(ref gi, j), f = Unsafe.Add(ref gf, j), g = Unsafe.Add(ref gg, j), o = Unsafe.Add(ref go, j);
                float t = Unsafe.Add(ref tc, j), dhv = Unsafe.Add(ref dhr, j);
                float dcv = MathF.FusedMultiplyAdd(dhv * o, GateMath.DerivativeFromOutput(act, t), Unsafe.Add(ref dcr, j));
                Unsafe.Add(ref di, j) = dcv * g * GateMath.DerivativeFromOutput(rec, i);
                Unsafe.Add(ref df, j) = dcv * Unsafe.Add(ref cp, j) * GateMath.DerivativeFromOutput(rec, f);
                Unsafe.Add(ref dg, j) = dcv * i * GateMath.DerivativeFromOutput(act, g);
                Unsafe.Add(ref dout, j) = dhv * t * GateMath.DerivativeFromOutput(rec, o);
                Unsafe.Add(ref dcr, j) = dcv * f;
            }
        }
    }
}
