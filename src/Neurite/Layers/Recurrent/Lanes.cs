using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Neurite.Layers;

/// <summary>
/// One SIMD width's element-wise operations, so a fused gate loop is written once as a generic
/// method over a struct <typeparamref name="TVec"/> lane type and the JIT specialises it per width
/// (static abstract calls on a value type inline fully).
/// </summary>
internal interface ILanes<TVec> where TVec : struct
{
    static abstract int Width { get; }
    static abstract TVec Load(ref float origin, int index);
    static abstract void Store(TVec value, ref float origin, int index);
    static abstract TVec Broadcast(float value);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Subtract(TVec a, TVec b);
    static abstract TVec Multiply(TVec a, TVec b);
    /// <summary>a·b + c with one rounding.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);
    static abstract TVec Activate(GateActivation activation, TVec x);
    static abstract TVec Derivative(GateActivation activation, TVec y);
}

internal readonly struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Width => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float origin, int index) => Vector512.LoadUnsafe(ref origin, (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float origin, int index) => value.StoreUnsafe(ref origin, (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Activate(GateActivation activation, Vector512<float> x) => GateMath.Apply(activation, x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Derivative(GateActivation activation, Vector512<float> y) => GateMath.DerivativeFromOutput(activation, y);
}

internal readonly struct Lanes256 : ILanes<Vector256<float>>
{
    public static int Width => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float origin, int index) => Vector256.LoadUnsafe(ref origin, (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float origin, int index) => value.StoreUnsafe(ref origin, (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Activate(GateActivation activation, Vector256<float> x) => GateMath.Apply(activation, x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Derivative(GateActivation activation, Vector256<float> y) => GateMath.DerivativeFromOutput(activation, y);
}

internal readonly struct LanesScalar : ILanes<float>
{
    public static int Width => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float origin, int index) => Unsafe.Add(ref origin, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, ref float origin, int index) => Unsafe.Add(ref origin, index) = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Activate(GateActivation activation, float x) => GateMath.Apply(activation, x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Derivative(GateActivation activation, float y) => GateMath.DerivativeFromOutput(activation, y);
}
