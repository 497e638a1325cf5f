using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    /// <summary>A mask selecting the first <paramref name="count"/> lanes (0 &lt; count &lt; Width).</summary>
    static abstract TVec FirstLanes(int count);
    /// <summary>Loads the lanes selected by <paramref name="mask"/>, zero elsewhere, touching no memory outside them. The memory must be pinned.</summary>
    static abstract TVec LoadMasked(ref float origin, int index, TVec mask);
    /// <summary>Stores only the lanes selected by <paramref name="mask"/>. The memory must be pinned.</summary>
    static abstract void StoreMasked(TVec value, ref float origin, int index, TVec mask);
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> LoadMasked(ref float origin, int index, Vector512<float> mask) =>
        Avx512F.MaskLoad((float*)Unsafe.AsPointer(ref Unsafe.Add(ref origin, index)), mask, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreMasked(Vector512<float> value, ref float origin, int index, Vector512<float> mask) =>
        Avx512F.MaskStore((float*)Unsafe.AsPointer(ref Unsafe.Add(ref origin, index)), mask, value);
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> LoadMasked(ref float origin, int index, Vector256<float> mask) =>
        Avx.MaskLoad((float*)Unsafe.AsPointer(ref Unsafe.Add(ref origin, index)), mask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreMasked(Vector256<float> value, ref float origin, int index, Vector256<float> mask) =>
        Avx.MaskStore((float*)Unsafe.AsPointer(ref Unsafe.Add(ref origin, index)), mask, value);
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
    // One lane wide: there is never a partial vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float FirstLanes(int count) => count > 0 ? 1f : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float LoadMasked(ref float origin, int index, float mask) => Unsafe.Add(ref origin, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreMasked(float value, ref float origin, int index, float mask) => Unsafe.Add(ref origin, index) = value;
}
