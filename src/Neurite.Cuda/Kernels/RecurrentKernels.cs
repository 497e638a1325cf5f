using ILGPU;

namespace Neurite.Cuda.Kernels;

/// <summary>
/// The fused per-step gate kernels of the recurrent layers, one thread per (sample, unit); gate order
/// i, f, c, o (Keras), z of a step laid out (B, 4U) and already holding x̃W + h̃R + bias.
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
}
