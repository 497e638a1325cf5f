using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>Element-wise kernels of the layers and optimizers: ReLU, products, Adam's update.</summary>
internal static class ElementwiseKernels
{
    internal const float MinNormalFloat = 1.17549435e-38f;

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

    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or −1 when every value is finite.</summary>
    /// <remarks>
    /// Every <c>TrainOnBatch</c> checks its inputs and targets: value by value that was about 3 % of an MLP step at U = 128,
    /// B = 64 (8 K inputs). A value is not finite when its exponent bits are all ones; as unsigned integers, the largest
    /// exponent field of a block equals all ones exactly when one of its values has it, so a block of four vectors costs one
    /// comparison. The block that holds one is then read value by value for the first.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        const uint exponentBits = 0x7F800000;
        int length = values.Length, i = 0;
        fixed (float* start = values)
        {
            uint* p = (uint*)start;
            var path = KernelSelector.Current;
            if (path == KernelPath.Vector512)
            {
                var exponent = Vector512.Create(exponentBits);
                for (; i <= length - 4 * Vector512<uint>.Count; i += 4 * Vector512<uint>.Count)
                {
                    var top = Vector512.Max(
                        Vector512.Max(Vector512.Load(p + i) & exponent, Vector512.Load(p + i + 16) & exponent),
                        Vector512.Max(Vector512.Load(p + i + 32) & exponent, Vector512.Load(p + i + 48) & exponent));
                    if (Vector512.EqualsAny(top, exponent)) break;
                }
            }
            else if (path == KernelPath.Vector256)
            {
                var exponent = Vector256.Create(exponentBits);
                for (; i <= length - 4 * Vector256<uint>.Count; i += 4 * Vector256<uint>.Count)
                {
                    var top = Vector256.Max(
                        Vector256.Max(Vector256.Load(p + i) & exponent, Vector256.Load(p + i + 8) & exponent),
                        Vector256.Max(Vector256.Load(p + i + 16) & exponent, Vector256.Load(p + i + 24) & exponent));
                    if (Vector256.EqualsAny(top, exponent)) break;
                }
            }
            // The rest, or the block that holds the first non-finite value.
            for (; i < length; i++)
                if ((p[i] & exponentBits) == exponentBits) return i;
        }
        return -1;
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

    // Each element goes through the same operations on every path and in the scalar tail (no fused multiply-adds: the
    // JIT contracts none here), so any split of a weight into ranges, and any path, gives the bits of one scalar pass.
    // Not inlined into its callers: inlined there, the JIT stopped inlining the vector helpers inside it (W2 lost 20 %).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static unsafe void AdamUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float alpha, float b1, float b2, float eps)
    {
        int length = value.Length;
        if (gradient.Length < length || m.Length < length || v.Length < length)
            throw new ArgumentException($"Adam's update of {length} values got a gradient of {gradient.Length}, moments of {m.Length} and {v.Length} values; each needs one value per weight element.");
        fixed (float* w = value, g = gradient, pm = m, pv = v)
        {
            // Vector<float> is 256 bits wide even where 512-bit vectors are fast. The divider's work per value is the same
            // at either width and a pass over L3-resident arrays is bound by L3's bandwidth; inside a step the measured
            // gain came with the prefetch below, not with the width alone.
            int done = KernelSelector.Current switch
            {
                KernelPath.Vector512 => Adam<Vector512<float>, Vector512Ops>(w, g, pm, pv, length, alpha, b1, b2, eps),
                KernelPath.Vector256 => Adam<Vector256<float>, Vector256Ops>(w, g, pm, pv, length, alpha, b1, b2, eps),
                // Where 256-bit vectors are not accelerated (128-bit NEON or SSE), unless a test forces the scalar path.
                _ when KernelSelector.Forced is null && Vector128.IsHardwareAccelerated => Adam128(w, g, pm, pv, length, alpha, b1, b2, eps),
                _ => 0,
            };
            Adam<float, ScalarOps>(w + done, g + done, pm + done, pv + done, length - done, alpha, b1, b2, eps);
        }
    }

    // 2 KiB ahead of each of the four arrays: far enough to cover memory's latency at Adam's pace, near enough that the
    // 8 KiB of lines asked for ahead stay well inside L1. Prefetching past an array's end is a hint that touches nothing.
    private const int AdamPrefetchAhead = 512;

    /// <summary>Adam over whole vectors of <typeparamref name="TOps"/>'s width from the start; returns how many values it updated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Adam<TV, TOps>(float* w, float* g, float* m, float* v, int length, float alpha, float b1, float b2, float eps)
        where TV : struct where TOps : IVectorOps<TV>
    {
        var vb1 = TOps.Broadcast(b1);
        var vb2 = TOps.Broadcast(b2);
        var veps = TOps.Broadcast(eps);
        var valpha = TOps.Broadcast(alpha);
        var minNormal = TOps.Broadcast(MinNormalFloat);
        var zero = TOps.Broadcast(0f);
        int i = 0;
        for (; i <= length - TOps.Count; i += TOps.Count)
        {
            // Once per 64-byte line of each array. In a training step the moments were last touched a step earlier and
            // come partly from memory: with the divider's long chains filling the reorder window the hardware prefetchers
            // run too little ahead (2M-weight passes over arrays out of cache: −14 % a pass; no change in L3).
            if (TOps.Count > 1 && Sse.IsSupported && (i & 15) == 0)
            {
                Sse.Prefetch0(g + i + AdamPrefetchAhead);
                Sse.Prefetch0(m + i + AdamPrefetchAhead);
                Sse.Prefetch0(v + i + AdamPrefetchAhead);
                Sse.Prefetch0(w + i + AdamPrefetchAhead);
            }
            var (mi, vi) = AdamMoments<TV, TOps>(g + i, m + i, v + i, vb1, vb2, minNormal, zero);
            var step = TOps.Divide(TOps.Multiply(valpha, mi), TOps.Add(TOps.Sqrt(vi), veps));
            TOps.Store(TOps.Subtract(TOps.Load(w + i), step), w + i);
        }
        return i;
    }

    /// <summary>
    /// Adam's (and AMSGrad's) moments of one vector of <typeparamref name="TOps"/>'s width, stored and returned:
    /// m += (g − m)·b1 and v += (g² − v)·b2, each flushed to 0 below the smallest normal float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe (TV M, TV V) AdamMoments<TV, TOps>(float* g, float* m, float* v, TV b1, TV b2, TV minNormal, TV zero)
        where TV : struct where TOps : IVectorOps<TV>
    {
        var gi = TOps.Load(g);
        var mi = TOps.Load(m);
        var vi = TOps.Load(v);
        mi = TOps.Add(mi, TOps.Multiply(TOps.Subtract(gi, mi), b1));
        mi = TOps.SelectLess(TOps.Abs(mi), minNormal, zero, mi);
        vi = TOps.Add(vi, TOps.Multiply(TOps.Subtract(TOps.Multiply(gi, gi), vi), b2));
        vi = TOps.SelectLess(TOps.Abs(vi), minNormal, zero, vi);
        TOps.Store(mi, m);
        TOps.Store(vi, v);
        return (mi, vi);
    }

    /// <summary>As <see cref="Adam{TV, TOps}"/> 128 bits wide (the kernels' paths are 512 and 256 bits or scalar).</summary>
    /// <remarks>Internal so the tests can run it on machines whose wider paths are taken.</remarks>
    internal static unsafe int Adam128(float* w, float* g, float* m, float* v, int length, float alpha, float b1, float b2, float eps)
    {
        var vb1 = Vector128.Create(b1);
        var vb2 = Vector128.Create(b2);
        var veps = Vector128.Create(eps);
        var valpha = Vector128.Create(alpha);
        var minNormal = Vector128.Create(MinNormalFloat);
        int i = 0;
        for (; i <= length - Vector128<float>.Count; i += Vector128<float>.Count)
        {
            var gi = Vector128.Load(g + i);
            var mi = Vector128.Load(m + i);
            var vi = Vector128.Load(v + i);
            mi += (gi - mi) * vb1;
            mi = Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(mi), minNormal), Vector128<float>.Zero, mi);
            vi += (gi * gi - vi) * vb2;
            vi = Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(vi), minNormal), Vector128<float>.Zero, vi);
            mi.Store(m + i);
            vi.Store(v + i);
            (Vector128.Load(w + i) - valpha * mi / (Vector128.Sqrt(vi) + veps)).Store(w + i);
        }
        return i;
    }
}
