using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// Gate activations and their derivatives, written once over <see cref="IVectorOps{TV}"/> so the
/// scalar, Vector256 and Vector512 paths run the same formulas (fused multiply-adds included) and
/// give the same bits.
/// </summary>
/// <remarks>tanh and sigmoid are the library's one tanh and sigmoid, <see cref="FastMath.TanhCore"/> and <see cref="FastMath.SigmoidCore"/>.</remarks>
internal static class GateMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV> => FastMath.TanhCore<TV, TOps>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TOps>(GateActivation activation, TV x) where TV : struct where TOps : IVectorOps<TV>
    {
        switch (activation)
        {
            case GateActivation.Tanh: return Tanh<TV, TOps>(x);
            case GateActivation.Sigmoid: return FastMath.SigmoidCore<TV, TOps>(x);
            case GateActivation.HardSigmoid:
                return TOps.Clamp(TOps.MultiplyAdd(TOps.Broadcast(0.2f), x, TOps.Broadcast(0.5f)), TOps.Broadcast(0f), TOps.Broadcast(1f));
            case GateActivation.Relu: return TOps.Clamp(x, TOps.Broadcast(0f), TOps.Broadcast(float.PositiveInfinity));
            default: return x;
        }
    }

    /// <summary>f'(x) written as a function of y = f(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV DerivativeFromOutput<TV, TOps>(GateActivation activation, TV y) where TV : struct where TOps : IVectorOps<TV>
    {
        switch (activation)
        {
            case GateActivation.Tanh: return TOps.MultiplyAdd(TOps.Negate(y), y, TOps.Broadcast(1f));
            case GateActivation.Sigmoid: return TOps.Subtract(y, TOps.Multiply(y, y));
            case GateActivation.HardSigmoid:
                return TOps.SelectLess(TOps.Broadcast(0f), y, TOps.SelectLess(y, TOps.Broadcast(1f), TOps.Broadcast(0.2f), TOps.Broadcast(0f)), TOps.Broadcast(0f));
            case GateActivation.Relu: return TOps.SelectLess(TOps.Broadcast(0f), y, TOps.Broadcast(1f), TOps.Broadcast(0f));
            default: return TOps.Broadcast(1f);
        }
    }

    // One-value and one-vector entry points, for callers outside a generic kernel.
    public static float Tanh(float x) => Tanh<float, ScalarOps>(x);
    public static float Sigmoid(float x) => Apply<float, ScalarOps>(GateActivation.Sigmoid, x);
    public static float HardSigmoid(float x) => Apply<float, ScalarOps>(GateActivation.HardSigmoid, x);
    public static float Apply(GateActivation activation, float x) => Apply<float, ScalarOps>(activation, x);
    public static Vector256<float> Apply(GateActivation activation, Vector256<float> x) => Apply<Vector256<float>, Vector256Ops>(activation, x);
    public static Vector512<float> Apply(GateActivation activation, Vector512<float> x) => Apply<Vector512<float>, Vector512Ops>(activation, x);
    public static float DerivativeFromOutput(GateActivation activation, float y) => DerivativeFromOutput<float, ScalarOps>(activation, y);
    public static Vector256<float> DerivativeFromOutput(GateActivation activation, Vector256<float> y) => DerivativeFromOutput<Vector256<float>, Vector256Ops>(activation, y);
    public static Vector512<float> DerivativeFromOutput(GateActivation activation, Vector512<float> y) => DerivativeFromOutput<Vector512<float>, Vector512Ops>(activation, y);
}
