using System.Runtime.CompilerServices;
using static Neurite.Backends.Cpu.Kernels.Recurrent.ColumnLoop;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

// The GRU's fused column passes. Row strides: projections and gates 3U, gate products 2U, states U.
internal sealed unsafe partial class GruSequence
{
    /// <summary>
    /// Back through h' = z ⊙ h + (1 − z) ⊙ ĥ for columns at <paramref name="gates"/> (stride U between z, r, ĥ):
    /// dz = dh ⊙ (h − ĥ) ⊙ σ'(z) and dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ) are written to dInput's z and ĥ columns and
    /// returned; dh ← dh ⊙ z (the direct path to the previous state).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TV Dz, TV DCandidate) BackThroughUpdate<TV, TOps>(float* gates, float* hPrev, float* dHidden, float* dInput, int u,
        bool masked, TV mask, GateActivation activation, GateActivation recurrentActivation) where TV : struct where TOps : IVectorOps<TV>
    {
        var z = Load<TV, TOps>(gates, masked, mask);
        var candidate = Load<TV, TOps>(gates + 2 * u, masked, mask);
        var dh = Load<TV, TOps>(dHidden, masked, mask);
        var dz = TOps.Multiply(TOps.Multiply(dh, TOps.Subtract(Load<TV, TOps>(hPrev, masked, mask), candidate)),
            GateMath.DerivativeFromOutput<TV, TOps>(recurrentActivation, z));
        var dCandidate = TOps.Multiply(TOps.Multiply(dh, TOps.Subtract(TOps.Broadcast(1f), z)),
            GateMath.DerivativeFromOutput<TV, TOps>(activation, candidate));
        Store<TV, TOps>(dz, dInput, masked, mask);
        Store<TV, TOps>(dCandidate, dInput + 2 * u, masked, mask);
        Store<TV, TOps>(TOps.Multiply(dh, z), dHidden, masked, mask);
        return (dz, dCandidate);
    }

    /// <summary>Reset after: z, r and ĥ from a = x̃W + b_in and m = h̃R + b_rec, stored over a; writes h'.</summary>
    private struct ResetAfterForward : IColumnPass
    {
        public float* Projection, Recurrent, HPrev, HNext;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units;
            float* a = Projection + 3 * row * u + j, m = Recurrent + 3 * row * u + j;
            var z = GateMath.Apply<TV, TOps>(RecurrentActivation, TOps.Add(Load<TV, TOps>(a, masked, mask), Load<TV, TOps>(m, masked, mask)));
            var r = GateMath.Apply<TV, TOps>(RecurrentActivation, TOps.Add(Load<TV, TOps>(a + u, masked, mask), Load<TV, TOps>(m + u, masked, mask)));
            var candidate = GateMath.Apply<TV, TOps>(Activation,
                TOps.MultiplyAdd(r, Load<TV, TOps>(m + 2 * u, masked, mask), Load<TV, TOps>(a + 2 * u, masked, mask)));
            var previous = Load<TV, TOps>(HPrev + row * u + j, masked, mask);
            Store<TV, TOps>(z, a, masked, mask);
            Store<TV, TOps>(r, a + u, masked, mask);
            Store<TV, TOps>(candidate, a + 2 * u, masked, mask);
            Store<TV, TOps>(TOps.MultiplyAdd(z, TOps.Subtract(previous, candidate), candidate), HNext + row * u + j, masked, mask);
        }
    }

    /// <summary>
    /// Reset after, backward:
    /// dz = dh ⊙ (h − ĥ) ⊙ σ'(z);  dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ);  dr = dĥ ⊙ m_h ⊙ σ'(r);
    /// da = [dz, dr, dĥ];  dm = [dz, dr, dĥ ⊙ r];  dh ← dh ⊙ z (the direct path to the previous state).
    /// </summary>
    private struct ResetAfterBackward : IColumnPass
    {
        public float* Gates, Recurrent, HPrev, DHidden, DInput, DRecurrent;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, wide = 3 * row * u + j, at = row * u + j;
            float* g = Gates + wide, da = DInput + wide, dm = DRecurrent + wide;
            var r = Load<TV, TOps>(g + u, masked, mask);
            var (dz, dCandidate) = BackThroughUpdate<TV, TOps>(g, HPrev + at, DHidden + at, da, u, masked, mask, Activation, RecurrentActivation);
            var dr = TOps.Multiply(TOps.Multiply(dCandidate, Load<TV, TOps>(Recurrent + wide + 2 * u, masked, mask)),
                GateMath.DerivativeFromOutput<TV, TOps>(RecurrentActivation, r));
            Store<TV, TOps>(dr, da + u, masked, mask);
            Store<TV, TOps>(dz, dm, masked, mask);
            Store<TV, TOps>(dr, dm + u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(dCandidate, r), dm + 2 * u, masked, mask);
        }
    }

    /// <summary>Reset before, first half: z and r from a and h̃R_zr, stored over a; writes r ⊙ h̃ for the candidate product.</summary>
    private struct GatesForward : IColumnPass
    {
        public float* Projection, GateProducts, RecurrentInput, ResetHidden;
        public int Units;
        public GateActivation RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* a = Projection + 3 * row * u + j, p = GateProducts + 2 * row * u + j;
            var z = GateMath.Apply<TV, TOps>(RecurrentActivation, TOps.Add(Load<TV, TOps>(a, masked, mask), Load<TV, TOps>(p, masked, mask)));
            var r = GateMath.Apply<TV, TOps>(RecurrentActivation, TOps.Add(Load<TV, TOps>(a + u, masked, mask), Load<TV, TOps>(p + u, masked, mask)));
            Store<TV, TOps>(z, a, masked, mask);
            Store<TV, TOps>(r, a + u, masked, mask);
            Store<TV, TOps>(TOps.Multiply(r, Load<TV, TOps>(RecurrentInput + at, masked, mask)), ResetHidden + at, masked, mask);
        }
    }

    /// <summary>Reset before, second half: ĥ from a_h and (r ⊙ h̃)R_h, stored over a_h; writes h'.</summary>
    private struct CandidateForward : IColumnPass
    {
        public float* Projection, CandidateProduct, HPrev, HNext;
        public int Units;
        public GateActivation Activation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            float* a = Projection + 3 * row * u + j;
            var candidate = GateMath.Apply<TV, TOps>(Activation,
                TOps.Add(Load<TV, TOps>(a + 2 * u, masked, mask), Load<TV, TOps>(CandidateProduct + at, masked, mask)));
            var z = Load<TV, TOps>(a, masked, mask);
            Store<TV, TOps>(candidate, a + 2 * u, masked, mask);
            Store<TV, TOps>(TOps.MultiplyAdd(z, TOps.Subtract(Load<TV, TOps>(HPrev + at, masked, mask), candidate), candidate),
                HNext + at, masked, mask);
        }
    }

    /// <summary>Reset before, backward through h': dz = dh ⊙ (h − ĥ) ⊙ σ'(z);  dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ);  dh ← dh ⊙ z.</summary>
    private struct CandidateBackward : IColumnPass
    {
        public float* Gates, HPrev, DHidden, DInput, DGates, DCandidate;
        public int Units;
        public GateActivation Activation, RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, wide = 3 * row * u + j, at = row * u + j;
            float* g = Gates + wide, da = DInput + wide;
            var (dz, dCandidate) = BackThroughUpdate<TV, TOps>(g, HPrev + at, DHidden + at, da, u, masked, mask, Activation, RecurrentActivation);
            Store<TV, TOps>(dz, DGates + 2 * row * u + j, masked, mask);
            Store<TV, TOps>(dCandidate, DCandidate + at, masked, mask);
        }
    }

    /// <summary>Reset before, backward through r ⊙ h̃, given d(r ⊙ h̃) from the candidate product: dr = d(r⊙h̃) ⊙ h̃ ⊙ σ'(r);  dh̃ = d(r⊙h̃) ⊙ r.</summary>
    private struct ResetBackward : IColumnPass
    {
        public float* Gates, RecurrentInput, DResetHidden, DInput, DGates, DRecurrentState;
        public int Units;
        public GateActivation RecurrentActivation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
        {
            int u = Units, at = row * u + j;
            var r = Load<TV, TOps>(Gates + 3 * row * u + u + j, masked, mask);
            var dReset = Load<TV, TOps>(DResetHidden + at, masked, mask);
            var dr = TOps.Multiply(TOps.Multiply(dReset, Load<TV, TOps>(RecurrentInput + at, masked, mask)),
                GateMath.DerivativeFromOutput<TV, TOps>(RecurrentActivation, r));
            Store<TV, TOps>(dr, DInput + 3 * row * u + u + j, masked, mask);
            Store<TV, TOps>(dr, DGates + 2 * row * u + u + j, masked, mask);
            Store<TV, TOps>(TOps.Multiply(dReset, r), DRecurrentState + at, masked, mask);
        }
    }
}
