using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>Element-wise kernels of the layers and optimizers: ReLU, products, Adam's update.</summary>
internal static class ElementwiseKernels
{
    private const float MinNormalFloat = 1.17549435e-38f;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(ReadOnlySpan<float> z, Span<float> a)
    {
        int i = 0, width = Vector<float>.Count;
        // Vector<float> is 256 bits wide even where 512-bit vectors are fast; the same Max per element, twice as wide and
        // without a span slice per vector (a hidden layer's activations are a few thousand values, a pass of a few µs).
        if (Vector512.IsHardwareAccelerated && a.Length >= z.Length)
        {
            ref float zr = ref MemoryMarshal.GetReference(z);
            ref float ar = ref MemoryMarshal.GetReference(a);
            for (; i <= z.Length - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.Max(Vector512.LoadUnsafe(ref zr, (nuint)i), Vector512<float>.Zero).StoreUnsafe(ref ar, (nuint)i);
        }
        for (; i <= z.Length - width; i += width)
            Vector.Max(new Vector<float>(z[i..]), Vector<float>.Zero).CopyTo(a[i..]);
        for (; i < z.Length; i++) a[i] = z[i] > 0 ? z[i] : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector512.IsHardwareAccelerated && da.Length >= z.Length && dz.Length >= z.Length)
        {
            ref float zr = ref MemoryMarshal.GetReference(z);
            ref float dar = ref MemoryMarshal.GetReference(da);
            ref float dzr = ref MemoryMarshal.GetReference(dz);
            for (; i <= z.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var positive = Vector512.GreaterThan(Vector512.LoadUnsafe(ref zr, (nuint)i), Vector512<float>.Zero);
                Vector512.ConditionalSelect(positive, Vector512.LoadUnsafe(ref dar, (nuint)i), Vector512<float>.Zero).StoreUnsafe(ref dzr, (nuint)i);
            }
        }
        for (; i <= z.Length - width; i += width)
        {
            var positive = Vector.GreaterThan(new Vector<float>(z[i..]), Vector<float>.Zero);
            Vector.ConditionalSelect(positive, new Vector<float>(da[i..]), Vector<float>.Zero).CopyTo(dz[i..]);
        }
        for (; i < z.Length; i++) dz[i] = z[i] > 0 ? da[i] : 0f;
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product)
    {
        int i = 0, width = Vector<float>.Count;
        for (; i <= a.Length - width; i += width)
            (new Vector<float>(a[i..]) * new Vector<float>(b[i..])).CopyTo(product[i..]);
        for (; i < a.Length; i++) product[i] = a[i] * b[i];
    }

    /// <summary>x, or 0 when x is denormal: Adam's moments decay towards denormals, which cost 100× an ordinary value on x86.</summary>
    public static float FlushDenormal(float x) => MathF.Abs(x) < MinNormalFloat ? 0f : x;

    private static Vector<float> FlushDenormals(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(x), new Vector<float>(MinNormalFloat)), Vector<float>.Zero, x);

    // Each element goes through the same operations in the vector body and the scalar tail, so any
    // split of a weight into ranges gives the bits of one pass over it. Not inlined into its callers:
    // inlined there, the JIT stopped inlining the vector helpers inside it (W2 lost 20 %).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void AdamUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float alpha, float b1, float b2, float eps)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vb1 = new Vector<float>(b1);
            var vb2 = new Vector<float>(b2);
            var veps = new Vector<float>(eps);
            var valpha = new Vector<float>(alpha);
            int width = Vector<float>.Count;
            for (; i <= value.Length - width; i += width)
            {
                var g = new Vector<float>(gradient[i..]);
                var mv = new Vector<float>(m[i..]);
                var vv = new Vector<float>(v[i..]);
                mv = FlushDenormals(mv + (g - mv) * vb1);
                vv = FlushDenormals(vv + (g * g - vv) * vb2);
                mv.CopyTo(m[i..]);
                vv.CopyTo(v[i..]);
                var w = new Vector<float>(value[i..]);
                (w - valpha * mv / (Vector.SquareRoot(vv) + veps)).CopyTo(value[i..]);
            }
        }
        for (; i < value.Length; i++)
        {
            float g = gradient[i];
            m[i] = FlushDenormal(m[i] + (g - m[i]) * b1);
            v[i] = FlushDenormal(v[i] + (g * g - v[i]) * b2);
            value[i] -= alpha * m[i] / (MathF.Sqrt(v[i]) + eps);
        }
    }
}
