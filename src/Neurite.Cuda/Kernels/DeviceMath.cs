using static Neurite.Backends.Cpu.Kernels.FastMath;

namespace Neurite.Cuda.Kernels;

/// <summary>
/// Scalar math shared by the kernels. Tanh is the CPU backend's rational approximation (a 13/6
/// polynomial ratio, clamped where float tanh rounds to ±1, see <c>FastMath.TanhCore</c>) with the
/// same coefficients, and sigmoid is 0.5·tanh(x/2) + 0.5 as there, so both backends agree to rounding.
/// </summary>
internal static class DeviceMath
{
    /// <summary>Values below this are flushed to 0 in the optimizer slots, as the CPU backend does.</summary>
    public const float MinNormalFloat = 1.17549435e-38f;

    public static float Tanh(float x)
    {
        x = x < -TanhClamp ? -TanhClamp : x > TanhClamp ? TanhClamp : x;
        float x2 = x * x;
        float p = x2 * TanhA13 + TanhA11;
        p = x2 * p + TanhA9;
        p = x2 * p + TanhA7;
        p = x2 * p + TanhA5;
        p = x2 * p + TanhA3;
        p = x2 * p + TanhA1;
        p *= x;
        float q = x2 * TanhB6 + TanhB4;
        q = x2 * q + TanhB2;
        q = x2 * q + TanhB0;
        return p / q;
    }

    public static float Sigmoid(float x) => 0.5f * Tanh(0.5f * x) + 0.5f;

    public static float FlushDenormal(float x) => (x < 0 ? -x : x) < MinNormalFloat ? 0f : x;

    /// <summary>Codes of <c>Neurite.Layers.GateActivation</c>, passed to kernels as ints.</summary>
    public const int Linear = 0, TanhCode = 1, SigmoidCode = 2, HardSigmoid = 3, Relu = 4;

    public static float Activate(int activation, float x) => activation switch
    {
        TanhCode => Tanh(x),
        SigmoidCode => Sigmoid(x),
        HardSigmoid => x * 0.2f + 0.5f < 0f ? 0f : x * 0.2f + 0.5f > 1f ? 1f : x * 0.2f + 0.5f,
        Relu => x > 0f ? x : 0f,
        _ => x,
    };

    /// <summary>The derivative from the activation's output y.</summary>
    public static float DerivativeFromOutput(int activation, float y) => activation switch
    {
        TanhCode => 1f - y * y,
        SigmoidCode => y * (1f - y),
        HardSigmoid => y > 0f && y < 1f ? 0.2f : 0f,
        Relu => y > 0f ? 1f : 0f,
        _ => 1f,
    };
}
