using System.Runtime.CompilerServices;
using static Neurite.Backends.Cpu.Kernels.Recurrent.ColumnLoop;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

// The GRU's fused column passes. Row strides: gates 3U (resetAfter), z and r 2U (reset before), states and ĥ U.
internal sealed unsafe partial class GruSequence
{
    /// <summary>
    /// Back through h' = z ⊙ h + (1 − z) ⊙ ĥ for the columns of z at <paramref name="gates"/> and of ĥ at <paramref name="candidateColumns"/>:
    /// returns dz = dh ⊙ (h − ĥ) ⊙ σ'(z) and dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ); dh ← dh ⊙ z (the direct path to the previous state).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TV Dz, TV DCandidate) BackThroughUpdate<TV, TOps>(float* gates, float* candidateColumns, float* hPrev, float* dHidden,
        bool masked, TV mask, GateActivation activation, GateActivation recurrentActivation) where TV : struct where TOps : IVectorOps<TV>
    {
        var z = Load<TV, TOps>(gates, masked, mask);
        var candidate = Load<TV, TOps>(candidateColumns, masked, mask);
        var dh = Load<TV, TOps>(dHidden, masked, mask);
        var dz = TOps.Multiply(TOps.Multiply(dh, TOps.Subtract(Load<TV, TOps>(hPrev, masked, mask), candidate)),
            GateMath.DerivativeFromOutput<TV, TOps>(recurrentActivation, z));
        var dCandidate = TOps.Multiply(TOps.Multiply(dh, TOps.Subtract(TOps.Broadcast(1f), z)),
            GateMath.DerivativeFromOutput<TV, TOps>(activation, candidate));
        Store<TV, TOps>(TOps.Multiply(dh, z), dHidden, masked, mask);
        return (dz, dCandidate);
    }

    /// <summary>
    /// Reset after, projected first: moves a_h out of the gates' h columns (to <see cref="InputCandidate"/>, stride U) and puts
    /// b_rec_h there, so that the step's product h̃R adds to [a_z, a_r, b_rec_h] as the fused product does.
    /// </summary>
    private struct TakeInputCandidate : IColumnPass
    {
        public float* Gates, InputCandidate, RecurrentBias;
        public int Units;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units;
            float* h = Gates + 3 * row * u + 2 * u + j;
            Store<TV, TOps>(Load<TV, TOps>(h, masked, mask), InputCandidate + row * u + j, masked, mask);
            Store<TV, TOps>(Load<TV, TOps>(RecurrentBias + j, masked, mask), h, masked, mask);
        }
    }

    /// <summary>
    /// Reset after: from the gates' rows s = [b_in + x̃W + h̃R for z and r, m_h] and a_h, z = σ(s_z + b_rec_z), r = σ(s_r + b_rec_r)
    /// and ĥ = act(a_h + r ⊙ m_h); z and r are stored over s_z and s_r (m_h stays for the backward pass), ĥ to
    /// <see cref="Candidate"/>; writes h'.
    /// </summary>
    private struct ResetAfterForward : IColumnPass
    {
        public float* Gates, InputCandidate, RecurrentBias, Candidate, HPrev, HNext;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* s = Gates + 3 * row * u + j;
            var z = GateMath.Apply<TV, TOps>(RecurrentActivation, TOps.Add(Load<TV, TOps>(s, masked, mask), Load<TV, TOps>(RecurrentBias + j, masked, mask)));
            var r = GateMath.Apply<TV, TOps>(RecurrentActivation,
                TOps.Add(Load<TV, TOps>(s + u, masked, mask), Load<TV, TOps>(RecurrentBias + u + j, masked, mask)));
            var candidate = GateMath.Apply<TV, TOps>(Activation,
                TOps.MultiplyAdd(r, Load<TV, TOps>(s + 2 * u, masked, mask), Load<TV, TOps>(InputCandidate + at, masked, mask)));
            var previous = Load<TV, TOps>(HPrev + at, masked, mask);
            Store<TV, TOps>(z, s, masked, mask);
            Store<TV, TOps>(r, s + u, masked, mask);
            Store<TV, TOps>(candidate, Candidate + at, masked, mask);
            Store<TV, TOps>(TOps.MultiplyAdd(z, TOps.Subtract(previous, candidate), candidate), HNext + at, masked, mask);
        }
    }

    /// <summary>
    /// Reset after, backward, over the gates' rows [z, r, m_h] and ĥ:
    /// dz = dh ⊙ (h − ĥ) ⊙ σ'(z);  dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ);  dr = dĥ ⊙ m_h ⊙ σ'(r);
    /// dm = [dz, dr, dĥ ⊙ r] over the gates, dĥ over ĥ (the input projection's gradient is [dz, dr, dĥ]);
    /// dh ← dh ⊙ z (the direct path to the previous state).
    /// </summary>
    private struct ResetAfterBackward : IColumnPass
    {
        public float* Gates, Candidate, HPrev, DHidden;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* g = Gates + 3 * row * u + j;
            var r = Load<TV, TOps>(g + u, masked, mask);
            var recurrentCandidate = Load<TV, TOps>(g + 2 * u, masked, mask);
            var (dz, dCandidate) = BackThroughUpdate<TV, TOps>(g, Candidate + at, HPrev + at, DHidden + at, masked, mask,
                Activation, RecurrentActivation);
            var dr = TOps.Multiply(TOps.Multiply(dCandidate, recurrentCandidate), GateMath.DerivativeFromOutput<TV, TOps>(RecurrentActivation, r));
            Store<TV, TOps>(dCandidate, Candidate + at, masked, mask);
            Store<TV, TOps>(dz, g, masked, mask);
            Store<TV, TOps>(dr, g + u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(dCandidate, r), g + 2 * u, masked, mask);
        }
    }

    /// <summary>Reset before, first half: z and r from their sums, in place (rows of 2U); writes r ⊙ h̃ for the candidate product.</summary>
    private struct GatesForward : IColumnPass
    {
        public float* ResetGates, RecurrentInput, ResetHidden;
        public int Units;
        public GateActivation RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* g = ResetGates + 2 * row * u + j;
            var z = GateMath.Apply<TV, TOps>(RecurrentActivation, Load<TV, TOps>(g, masked, mask));
            var r = GateMath.Apply<TV, TOps>(RecurrentActivation, Load<TV, TOps>(g + u, masked, mask));
            Store<TV, TOps>(z, g, masked, mask);
            Store<TV, TOps>(r, g + u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(r, Load<TV, TOps>(RecurrentInput + at, masked, mask)), ResetHidden + at, masked, mask);
        }
    }

    /// <summary>Reset before, second half: ĥ = act(b + x̃W_h + (r ⊙ h̃)R_h) over its sum, in place; writes h'.</summary>
    private struct CandidateForward : IColumnPass
    {
        public float* ResetGates, Candidate, HPrev, HNext;
        public int Units;
        public GateActivation Activation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int at = row * Units + j;
            var candidate = GateMath.Apply<TV, TOps>(Activation, Load<TV, TOps>(Candidate + at, masked, mask));
            var z = Load<TV, TOps>(ResetGates + 2 * row * Units + j, masked, mask);
            Store<TV, TOps>(candidate, Candidate + at, masked, mask);
            Store<TV, TOps>(TOps.MultiplyAdd(z, TOps.Subtract(Load<TV, TOps>(HPrev + at, masked, mask), candidate), candidate),
                HNext + at, masked, mask);
        }
    }

    /// <summary>
    /// Reset before, backward through h': dz = dh ⊙ (h − ĥ) ⊙ σ'(z) over z and dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ) over ĥ, in place;
    /// dh ← dh ⊙ z.
    /// </summary>
    private struct CandidateBackward : IColumnPass
    {
        public float* ResetGates, Candidate, HPrev, DHidden;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int at = row * Units + j;
            float* z = ResetGates + 2 * row * Units + j;
            var (dz, dCandidate) = BackThroughUpdate<TV, TOps>(z, Candidate + at, HPrev + at, DHidden + at, masked, mask, Activation, RecurrentActivation);
            Store<TV, TOps>(dz, z, masked, mask);
            Store<TV, TOps>(dCandidate, Candidate + at, masked, mask);
        }
    }

    /// <summary>
    /// Reset before, backward through r ⊙ h̃, given d(r ⊙ h̃) from the candidate product: dr = d(r⊙h̃) ⊙ h̃ ⊙ σ'(r) over r, in
    /// place, and dh̃ = d(r⊙h̃) ⊙ r, written to <see cref="DRecurrentState"/>, or, when <see cref="AddToHidden"/> (no recurrent
    /// mask between h̃ and h), added to dh, which the backward update pass left at dh ⊙ z.
    /// </summary>
    private struct ResetBackward : IColumnPass
    {
        public float* ResetGates, RecurrentInput, DResetHidden, DRecurrentState;
        public int Units;
        public GateActivation RecurrentActivation;
        public bool AddToHidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* rAt = ResetGates + 2 * row * u + u + j;
            var r = Load<TV, TOps>(rAt, masked, mask);
            var dReset = Load<TV, TOps>(DResetHidden + at, masked, mask);
            var dr = TOps.Multiply(TOps.Multiply(dReset, Load<TV, TOps>(RecurrentInput + at, masked, mask)),
                GateMath.DerivativeFromOutput<TV, TOps>(RecurrentActivation, r));
            Store<TV, TOps>(dr, rAt, masked, mask);
            Store<TV, TOps>(AddToHidden ? TOps.MultiplyAdd(dReset, r, Load<TV, TOps>(DRecurrentState + at, masked, mask)) : TOps.Multiply(dReset, r),
                DRecurrentState + at, masked, mask);
        }
    }
}
