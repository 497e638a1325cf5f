using ILGPU;

namespace Neurite.Cuda.Kernels;

/// <summary>
/// The fused per-step gate kernels of the recurrent layers, one thread per (sample, unit), in the CPU cores'
/// formulas (see <c>LstmSequence</c>, <c>GruSequence</c>, <c>SimpleRnnSequence</c>). LSTM: gate order i, f, c, o
/// (Keras), z of a step laid out (B, 4U) and already holding x̃W + h̃R + bias. GRU: gate order z, r, h, a step's
/// input projection a laid out (B, 3U); the gates are stored over it for the backward pass.
/// </summary>
internal static class RecurrentKernels
{
    /// <summary>
    /// Activates the step's gates in place in <c>z</c> and writes c' = f⊙c + i⊙g, act(c') and h' = o⊙act(c').
    /// </summary>
    public static void LstmForwardStep(Index1D at, ArrayView<float> z, ArrayView<float> cellPrev, ArrayView<float> cell,
        ArrayView<float> activatedCell, ArrayView<float> hidden, int units, int activation, int recurrentActivation)
    {
        int b = at / units, j = at % units;
        int row = b * 4 * units;
        float i = DeviceMath.Activate(recurrentActivation, z[row + j]);
        float f = DeviceMath.Activate(recurrentActivation, z[row + units + j]);
        float g = DeviceMath.Activate(activation, z[row + 2 * units + j]);
        float o = DeviceMath.Activate(recurrentActivation, z[row + 3 * units + j]);
        z[row + j] = i;
        z[row + units + j] = f;
        z[row + 2 * units + j] = g;
        z[row + 3 * units + j] = o;
        float c = f * cellPrev[at] + i * g;
        float t = DeviceMath.Activate(activation, c);
        cell[at] = c;
        activatedCell[at] = t;
        hidden[at] = o * t;
    }

    /// <summary>
    /// From the step's activated gates and dh (the output's gradient plus the recurrent one), writes the
    /// gates' gradients dz over the gates in place, and dc for the previous step into <c>dCell</c>
    /// (which holds the gradient flowing into this step's c on entry).
    /// </summary>
    public static void LstmBackwardStep(Index1D at, ArrayView<float> gates, ArrayView<float> cellPrev, ArrayView<float> activatedCell,
        ArrayView<float> dHidden, ArrayView<float> dCell, int units, int activation, int recurrentActivation)
    {
        int b = at / units, j = at % units;
        int row = b * 4 * units;
        float i = gates[row + j], f = gates[row + units + j], g = gates[row + 2 * units + j], o = gates[row + 3 * units + j];
        float t = activatedCell[at], dh = dHidden[at];
        float dc = dh * o * DeviceMath.DerivativeFromOutput(activation, t) + dCell[at];
        gates[row + j] = dc * g * DeviceMath.DerivativeFromOutput(recurrentActivation, i);
        gates[row + units + j] = dc * cellPrev[at] * DeviceMath.DerivativeFromOutput(recurrentActivation, f);
        gates[row + 2 * units + j] = dc * i * DeviceMath.DerivativeFromOutput(activation, g);
        gates[row + 3 * units + j] = dh * t * DeviceMath.DerivativeFromOutput(recurrentActivation, o);
        dCell[at] = dc * f;
    }

    /// <summary>SimpleRNN: h' = act(pre), pre = x̃W + b + h̃R.</summary>
    public static void SimpleRnnForwardStep(Index1D at, ArrayView<float> preActivation, ArrayView<float> hidden, int activation) =>
        hidden[at] = DeviceMath.Activate(activation, preActivation[at]);

    /// <summary>SimpleRNN backward: dPre = dh ⊙ act'(h'), written over the step's pre-activations.</summary>
    public static void SimpleRnnBackwardStep(Index1D at, ArrayView<float> hidden, ArrayView<float> dHidden, ArrayView<float> dPreActivation, int activation) =>
        dPreActivation[at] = dHidden[at] * DeviceMath.DerivativeFromOutput(activation, hidden[at]);

    /// <summary>
    /// GRU, reset after: z = σ(a_z + m_z), r = σ(a_r + m_r), ĥ = act(a_h + r ⊙ m_h) from a = x̃W + b_in and
    /// m = h̃R + b_rec; z, r, ĥ are stored over a; h' = z ⊙ h + (1 − z) ⊙ ĥ.
    /// </summary>
    public static void GruResetAfterForwardStep(Index1D at, ArrayView<float> projection, ArrayView<float> recurrent,
        ArrayView<float> hiddenPrev, ArrayView<float> hidden, int units, int activation, int recurrentActivation)
    {
        int b = at / units, j = at % units, row = 3 * b * units + j;
        float z = DeviceMath.Activate(recurrentActivation, projection[row] + recurrent[row]);
        float r = DeviceMath.Activate(recurrentActivation, projection[row + units] + recurrent[row + units]);
        float candidate = DeviceMath.Activate(activation, r * recurrent[row + 2 * units] + projection[row + 2 * units]);
        projection[row] = z;
        projection[row + units] = r;
        projection[row + 2 * units] = candidate;
        hidden[at] = z * (hiddenPrev[at] - candidate) + candidate;
    }

    /// <summary>
    /// GRU, reset after, backward: dz = dh ⊙ (h − ĥ) ⊙ σ'(z); dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ); dr = dĥ ⊙ m_h ⊙ σ'(r);
    /// da = [dz, dr, dĥ], dm = [dz, dr, dĥ ⊙ r]; dh ← dh ⊙ z (the direct path to the previous state).
    /// </summary>
    public static void GruResetAfterBackwardStep(Index1D at, ArrayView<float> gates, ArrayView<float> recurrent, ArrayView<float> hiddenPrev,
        ArrayView<float> dHidden, ArrayView<float> dProjection, ArrayView<float> dRecurrent, int units, int activation, int recurrentActivation)
    {
        int b = at / units, j = at % units, row = 3 * b * units + j;
        float z = gates[row], r = gates[row + units], candidate = gates[row + 2 * units], dh = dHidden[at];
        float dz = dh * (hiddenPrev[at] - candidate) * DeviceMath.DerivativeFromOutput(recurrentActivation, z);
        float dCandidate = dh * (1f - z) * DeviceMath.DerivativeFromOutput(activation, candidate);
        float dr = dCandidate * recurrent[row + 2 * units] * DeviceMath.DerivativeFromOutput(recurrentActivation, r);
        dProjection[row] = dz;
        dProjection[row + units] = dr;
        dProjection[row + 2 * units] = dCandidate;
        dRecurrent[row] = dz;
        dRecurrent[row + units] = dr;
        dRecurrent[row + 2 * units] = dCandidate * r;
        dHidden[at] = dh * z;
    }

    /// <summary>GRU, reset before, first half: z = σ(a_z + h̃R_z), r = σ(a_r + h̃R_r) stored over a; writes r ⊙ h̃ for the candidate product.</summary>
    public static void GruGatesForwardStep(Index1D at, ArrayView<float> projection, ArrayView<float> gateProducts, ArrayView<float> recurrentInput,
        ArrayView<float> resetHidden, int units, int recurrentActivation)
    {
        int b = at / units, j = at % units, row = 3 * b * units + j, productRow = 2 * b * units + j;
        float z = DeviceMath.Activate(recurrentActivation, projection[row] + gateProducts[productRow]);
        float r = DeviceMath.Activate(recurrentActivation, projection[row + units] + gateProducts[productRow + units]);
        projection[row] = z;
        projection[row + units] = r;
        resetHidden[at] = r * recurrentInput[at];
    }

    /// <summary>GRU, reset before, second half: ĥ = act(a_h + (r ⊙ h̃)R_h) stored over a_h; h' = z ⊙ h + (1 − z) ⊙ ĥ.</summary>
    public static void GruCandidateForwardStep(Index1D at, ArrayView<float> projection, ArrayView<float> candidateProduct,
        ArrayView<float> hiddenPrev, ArrayView<float> hidden, int units, int activation)
    {
        int b = at / units, j = at % units, row = 3 * b * units + j;
        float candidate = DeviceMath.Activate(activation, projection[row + 2 * units] + candidateProduct[at]);
        float z = projection[row];
        projection[row + 2 * units] = candidate;
        hidden[at] = z * (hiddenPrev[at] - candidate) + candidate;
    }

    /// <summary>
    /// GRU, reset before, backward through h': dz = dh ⊙ (h − ĥ) ⊙ σ'(z), dĥ = dh ⊙ (1 − z) ⊙ act'(ĥ) into the input
    /// projection's gradient (z and h columns), dz into the gate products' gradient, dĥ into the candidate's; dh ← dh ⊙ z.
    /// </summary>
    public static void GruCandidateBackwardStep(Index1D at, ArrayView<float> gates, ArrayView<float> hiddenPrev, ArrayView<float> dHidden,
        ArrayView<float> dProjection, ArrayView<float> dGates, ArrayView<float> dCandidate, int units, int activation, int recurrentActivation)
    {
        int b = at / units, j = at % units, row = 3 * b * units + j;
        float z = gates[row], candidate = gates[row + 2 * units], dh = dHidden[at];
        float dz = dh * (hiddenPrev[at] - candidate) * DeviceMath.DerivativeFromOutput(recurrentActivation, z);
        float dc = dh * (1f - z) * DeviceMath.DerivativeFromOutput(activation, candidate);
        dProjection[row] = dz;
        dProjection[row + 2 * units] = dc;
        dGates[2 * b * units + j] = dz;
        dCandidate[at] = dc;
        dHidden[at] = dh * z;
    }

    /// <summary>
    /// GRU, reset before, backward through r ⊙ h̃ given its gradient from the candidate product: dr = d(r⊙h̃) ⊙ h̃ ⊙ σ'(r)
    /// into the projection's and the gate products' r columns; dh̃ = d(r⊙h̃) ⊙ r.
    /// </summary>
    public static void GruResetBackwardStep(Index1D at, ArrayView<float> gates, ArrayView<float> recurrentInput, ArrayView<float> dResetHidden,
        ArrayView<float> dProjection, ArrayView<float> dGates, ArrayView<float> dRecurrentState, int units, int recurrentActivation)
    {
        int b = at / units, j = at % units, row = 3 * b * units + j;
        float r = gates[row + units], dReset = dResetHidden[at];
        float dr = dReset * recurrentInput[at] * DeviceMath.DerivativeFromOutput(recurrentActivation, r);
        dProjection[row + units] = dr;
        dGates[2 * b * units + units + j] = dr;
        dRecurrentState[at] = dReset * r;
    }

    /// <summary>
    /// (B, T, W) batch-major to (T, B, W) step-major, in processing order (step s reads time T − 1 − s when
    /// <paramref name="reverse"/> is 1): a recurrent layer's input packed as its sequence core reads it.
    /// </summary>
    public static void ToStepMajor(Index1D at, ArrayView<float> batchMajor, ArrayView<float> stepMajor, int batch, int steps, int width, int reverse)
    {
        int s = at / (batch * width), rest = at % (batch * width), b = rest / width, k = rest % width;
        int t = reverse != 0 ? steps - 1 - s : s;
        stepMajor[at] = batchMajor[((long)b * steps + t) * width + k];
    }

    /// <summary>The inverse of <see cref="ToStepMajor"/>: (T, B, W) step-major, in processing order, to (B, T, W).</summary>
    public static void ToBatchMajor(Index1D at, ArrayView<float> stepMajor, ArrayView<float> batchMajor, int batch, int steps, int width, int reverse)
    {
        int b = at / (steps * width), rest = at % (steps * width), t = rest / width, k = rest % width;
        int s = reverse != 0 ? steps - 1 - t : t;
        batchMajor[at] = stepMajor[((long)s * batch + b) * width + k];
    }

    /// <summary>
    /// Columns [sourceOffset, sourceOffset + width) of a row-major (rows, sourceWidth) matrix written (or, with
    /// <paramref name="accumulate"/> 1, added) into columns [targetOffset, targetOffset + width) of a (rows, targetWidth)
    /// one: a GRU's recurrent kernel split into its z|r and h blocks, and their gradients joined back.
    /// </summary>
    public static void CopyColumns(Index1D at, ArrayView<float> source, ArrayView<float> target, int sourceWidth, int sourceOffset,
        int targetWidth, int targetOffset, int width, int accumulate)
    {
        int row = at / width, k = at % width;
        float value = source[(long)row * sourceWidth + sourceOffset + k];
        long to = (long)row * targetWidth + targetOffset + k;
        target[to] = accumulate != 0 ? target[to] + value : value;
    }
}
