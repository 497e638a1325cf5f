using GateActivation = Neurite.Backends.GateActivation;
using ILGPU;
using ILGPU.Runtime;

namespace Neurite.Cuda;

/// <summary>
/// A GRU sequence on the device in both of Keras's conventions (see the CPU's <c>GruSequence</c> for the formulas).
/// Reset after: per step one product m = h̃R + b_rec and one fused kernel. Reset before: per step h̃R_zr, a kernel
/// for z, r and r ⊙ h̃, the candidate's product (r ⊙ h̃)R_h, and a kernel for ĥ and h'.
/// </summary>
internal sealed class DeviceGruCore : DeviceSequenceCore
{
    private readonly bool _resetAfter;
    private ArrayView<float> _recurrentKernel, _gatesKernel, _candidateKernel, _recurrentBias;
    private bool _hasBias;

    // The cell's scratch slots.
    private const int RecurrentProjection = CellSlots, DRecurrentProjection = CellSlots + 1, DProjection = CellSlots + 2,
        Temp = CellSlots + 4, GatesKernel = CellSlots + 5, CandidateKernel = CellSlots + 6, GateProducts = CellSlots + 7, ResetHidden = CellSlots + 8,
        CandidateProduct = CellSlots + 9, DGates = CellSlots + 10, DCandidate = CellSlots + 11, DResetHidden = CellSlots + 12, DSplit = CellSlots + 13;

    public DeviceGruCore(DeviceOps ops, int features, int units, GateActivation activation, GateActivation recurrentActivation,
        bool resetAfter, bool returnSequences, bool goBackwards)
        : base("A GRU", ops, features, units, 3, activation, recurrentActivation, returnSequences, goBackwards) => _resetAfter = resetAfter;

    private protected override int BiasLength => _resetAfter ? 6 * Units : 3 * Units;

    private protected override ArrayView<float> InputGateGradients => Buffers.Floats(DProjection, (long)Steps * Batch * GateWidth);

    private long Rows => (long)Steps * Batch;

    private ArrayView<float> StepOf(int slot, int width, int step) =>
        Buffers.Floats(slot, Rows * width).SubView((long)step * Batch * width, Batch * width);

    private protected override void UseRecurrentKernel(ArrayView<float> recurrentKernel, ArrayView<float> bias)
    {
        int u = Units, g3 = 3 * u;
        _hasBias = bias.Length > 0;
        if (_resetAfter)
        {
            _recurrentKernel = recurrentKernel;
            if (_hasBias) _recurrentBias = bias.SubView(g3, g3);
            return;
        }
        // R's z|r columns and h columns as two contiguous matrices, each one plain product operand.
        _gatesKernel = Buffers.Floats(GatesKernel, 2L * u * u);
        _candidateKernel = Buffers.Floats(CandidateKernel, (long)u * u);
        Ops.CopyColumns(recurrentKernel, _gatesKernel, u, g3, 0, 2 * u, 0, 2 * u, accumulate: false);
        Ops.CopyColumns(recurrentKernel, _candidateKernel, u, g3, 2 * u, u, 0, u, accumulate: false);
    }

    private protected override void ForwardStep(int step)
    {
        int batch = Batch, u = Units, g3 = 3 * u;
        var projection = Projection(step);
        if (_resetAfter)
        {
            var recurrent = StepOf(RecurrentProjection, g3, step);
            Ops.MatMul(RecurrentInput(step), _recurrentKernel, recurrent, batch, u, g3, false, false, accumulate: false);
            if (_hasBias) Ops.AddBias(recurrent, _recurrentBias, batch, g3);
            Ops.GruResetAfterForwardStep(projection, recurrent, Hidden(step), Hidden(step + 1), batch, u, Activation, RecurrentActivation);
            return;
        }
        var gateProducts = Buffers.Floats(GateProducts, (long)batch * 2 * u);
        var resetHidden = StepOf(ResetHidden, u, step);
        var candidateProduct = Buffers.Floats(CandidateProduct, StateSize);
        Ops.MatMul(RecurrentInput(step), _gatesKernel, gateProducts, batch, u, 2 * u, false, false, accumulate: false);
        Ops.GruGatesForwardStep(projection, gateProducts, RecurrentInput(step), resetHidden, batch, u, RecurrentActivation);
        Ops.MatMul(resetHidden, _candidateKernel, candidateProduct, batch, u, u, false, false, accumulate: false);
        Ops.GruCandidateForwardStep(projection, candidateProduct, Hidden(step), Hidden(step + 1), batch, u, Activation);
    }

    private protected override void BackwardStep(int step, bool needPrevious)
    {
        int batch = Batch, u = Units, g3 = 3 * u;
        var gates = Projection(step);
        var dProjection = StepOf(DProjection, g3, step);
        // The recurrent path's gradient (w.r.t. h̃) lands here, then goes through the mask into dh.
        var dRecurrentState = Buffers.Floats(Temp, StateSize);
        if (_resetAfter)
        {
            var dRecurrent = StepOf(DRecurrentProjection, g3, step);
            Ops.GruResetAfterBackwardStep(gates, StepOf(RecurrentProjection, g3, step), Hidden(step), DHidden, dProjection, dRecurrent,
                batch, u, Activation, RecurrentActivation);
            if (!needPrevious) return;
            Ops.MatMul(dRecurrent, _recurrentKernel, dRecurrentState, batch, g3, u, false, transB: true, accumulate: false);
        }
        else
        {
            var dGates = StepOf(DGates, 2 * u, step);
            var dCandidate = StepOf(DCandidate, u, step);
            Ops.GruCandidateBackwardStep(gates, Hidden(step), DHidden, dProjection, dGates, dCandidate, batch, u, Activation, RecurrentActivation);
            var dResetHidden = Buffers.Floats(DResetHidden, StateSize);
            Ops.MatMul(dCandidate, _candidateKernel, dResetHidden, batch, u, u, false, transB: true, accumulate: false);
            Ops.GruResetBackwardStep(gates, RecurrentInput(step), dResetHidden, dProjection, dGates, dRecurrentState, batch, u, RecurrentActivation);
            if (!needPrevious) return;
            Ops.MatMul(dGates, _gatesKernel, dRecurrentState, batch, 2 * u, u, false, transB: true, accumulate: true);
        }
        if (HasRecurrentMask) Ops.Multiply(dRecurrentState, RecurrentMask, dRecurrentState, StateSize);
        Ops.AddInPlace(DHidden, dRecurrentState, StateSize);
    }

    private protected override void RecurrentWeightGradients(ArrayView<float> dRecurrentKernel, ArrayView<float> dBias, bool accumulate)
    {
        int u = Units, g3 = 3 * u, rows = (int)Rows;
        if (_resetAfter)
        {
            var dRecurrent = Buffers.Floats(DRecurrentProjection, Rows * g3);
            Ops.MatMul(RecurrentInputs, dRecurrent, dRecurrentKernel, u, rows, g3, transA: true, false, accumulate);
            if (_hasBias && dBias.Length >= 2 * g3) Ops.SumRows(dRecurrent, dBias.SubView(g3, g3), rows, g3, accumulate);
            return;
        }
        // The split kernels' gradients, added into R's z|r and h columns.
        var dSplit = Buffers.Floats(DSplit, 3L * u * u);
        var dGatesKernel = dSplit.SubView(0, 2L * u * u);
        var dCandidateKernel = dSplit.SubView(2L * u * u, (long)u * u);
        Ops.MatMul(RecurrentInputs, Buffers.Floats(DGates, Rows * 2 * u), dGatesKernel, u, rows, 2 * u, transA: true, false, accumulate: false);
        Ops.MatMul(Buffers.Floats(ResetHidden, Rows * u), Buffers.Floats(DCandidate, Rows * u), dCandidateKernel, u, rows, u, transA: true, false, accumulate: false);
        Ops.CopyColumns(dGatesKernel, dRecurrentKernel, u, 2 * u, 0, g3, 0, 2 * u, accumulate);
        Ops.CopyColumns(dCandidateKernel, dRecurrentKernel, u, u, 0, g3, 2 * u, u, accumulate);
    }
}
