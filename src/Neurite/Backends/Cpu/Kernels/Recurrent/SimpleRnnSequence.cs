using System.Runtime.CompilerServices;
using static Neurite.Backends.Cpu.Kernels.Recurrent.ColumnLoop;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// A whole simple (Elman) RNN sequence, forward and backpropagation through time, on spans, in
/// Keras's weight layout; the SimpleRNN cell of the <see cref="RecurrentSequence"/> driver.
/// </summary>
/// <remarks>
/// Shapes: x (B, T, F); kernel W (F, U); recurrent kernel R (U, U); bias (U).
/// <c>h' = act(x̃W + h̃R + b)</c> with x̃ = x ⊙ inputMask, h̃ = h ⊙ recurrentMask. The backward pass
/// overwrites each step's pre-activations with their gradients (act' is read from h').
/// </remarks>
internal sealed unsafe class SimpleRnnSequence : HiddenStateSequence
{
    // Refreshed on every pass (weights change between batches): R for the forward steps, Rᵀ for the backward steps.
    private readonly PackedMatrix _recurrentPacked, _recurrentTransposed;

    public SimpleRnnSequence(int features, int units, GateActivation activation = GateActivation.Tanh,
        bool returnSequences = false, bool goBackwards = false)
        : base("A SimpleRNN", features, units, 1, activation, GateActivation.Linear, returnSequences, goBackwards)
    {
        _recurrentPacked = new PackedMatrix(units, units);
        _recurrentTransposed = new PackedMatrix(units, units);
    }

    private protected override bool FusesInputProjection => true;

    private protected override void ReserveCell(int batch, int steps) { }

    private protected override void PrepareForward(ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias) =>
        Gemm.Repack(_recurrentPacked, recurrentKernel);

    private protected override void PrepareBackward(ReadOnlySpan<float> recurrentKernel)
    {
        if (Steps > 1 || WantsInitialGradient) TransposedPacking.Repack(_recurrentTransposed, recurrentKernel);
    }

    private protected override void ForwardStep(int step, int b0, int b1, ReadOnlySpan<float> recurrentInput)
    {
        int u = Units, stateSize = Batch * u, rowsHere = b1 - b0;
        var pre = Gates.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        AddRecurrentProduct(step, b0, b1, recurrentInput, _recurrentPacked, pre);
        Run(Path, new ForwardCell { PreActivation = Pointer(pre), HNext = Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u)), Units = u, Activation = Activation },
            u, rowsHere);
    }

    private protected override void BackwardStep(int step, int b0, int b1, bool needPrevious)
    {
        int u = Units, stateSize = Batch * u, rowsHere = b1 - b0;
        AddOutputGradient(step, b0, b1);
        var dPre = Gates.AsSpan(step * stateSize + b0 * u, rowsHere * u);
        Run(Path, new BackwardCell
        {
            HNext = Pointer(Hidden.AsSpan((step + 1) * stateSize + b0 * u)), DHidden = Pointer(DHidden.AsSpan(b0 * u)),
            DPreActivation = Pointer(dPre), Units = u, Activation = Activation,
        }, u, rowsHere);
        if (needPrevious) PropagateThroughRecurrentKernel(dPre, _recurrentTransposed, b0, b1);
    }

    /// <summary><c>h' = act(pre)</c>.</summary>
    private struct ForwardCell : IColumnPass
    {
        public float* PreActivation, HNext;
        public int Units;
        public GateActivation Activation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int at = row * Units + j;
            Store<TV, TOps>(GateMath.Apply<TV, TOps>(Activation, Load<TV, TOps>(PreActivation + at, masked, mask)), HNext + at, masked, mask);
        }
    }

    /// <summary><c>dPre = dh ⊙ act'(h')</c>.</summary>
    private struct BackwardCell : IColumnPass
    {
        public float* HNext, DHidden, DPreActivation;
        public int Units;
        public GateActivation Activation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int at = row * Units + j;
            Store<TV, TOps>(TOps.Multiply(Load<TV, TOps>(DHidden + at, masked, mask),
                GateMath.DerivativeFromOutput<TV, TOps>(Activation, Load<TV, TOps>(HNext + at, masked, mask))), DPreActivation + at, masked, mask);
        }
    }
}
