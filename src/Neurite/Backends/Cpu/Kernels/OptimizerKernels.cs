using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The optimizers' updates other than plain Adam's (<see cref="ElementwiseKernels.AdamUpdate"/>) and the gradient clipping
/// they share; see <see cref="IBackend"/> for each formula.
/// </summary>
internal static class OptimizerKernels
{
    // Each update below runs one generic body over the widest accelerated vectors and then over the remaining elements
    // one at a time. Every element goes through the same operations in the same order on each path (no fused
    // multiply-adds: the JIT contracts none), so any path and any split of a weight into ranges give the bits of one
    // scalar pass. Where 256-bit vectors are not accelerated the scalar body does it all, as before.

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static unsafe void Amsgrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float eps)
    {
        int length = value.Length;
        RequireElements("AMSGrad", length, gradient.Length, m.Length, v.Length, vhat.Length);
        fixed (float* w = value, g = gradient, pm = m, pv = v, ph = vhat)
        {
            int done = VectorPath(length) switch
            {
                KernelPath.Vector512 => Amsgrad<Vector512<float>, Vector512Ops>(w, g, pm, pv, ph, length, alpha, b1, b2, eps),
                KernelPath.Vector256 => Amsgrad<Vector256<float>, Vector256Ops>(w, g, pm, pv, ph, length, alpha, b1, b2, eps),
                _ => 0,
            };
            Amsgrad<float, ScalarOps>(w + done, g + done, pm + done, pv + done, ph + done, length - done, alpha, b1, b2, eps);
        }
    }

    /// <summary>AMSGrad over whole vectors of <typeparamref name="TOps"/>'s width from the start; returns how many values it updated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Amsgrad<TV, TOps>(float* w, float* g, float* m, float* v, float* vhat, int length,
        float alpha, float b1, float b2, float eps)
        where TV : struct where TOps : IVectorOps<TV>
    {
        var vb1 = TOps.Broadcast(b1);
        var vb2 = TOps.Broadcast(b2);
        var veps = TOps.Broadcast(eps);
        var valpha = TOps.Broadcast(alpha);
        var minNormal = TOps.Broadcast(ElementwiseKernels.MinNormalFloat);
        var zero = TOps.Broadcast(0f);
        int i = 0;
        for (; i <= length - TOps.Count; i += TOps.Count)
        {
            var (mi, vi) = ElementwiseKernels.AdamMoments<TV, TOps>(g + i, m + i, v + i, vb1, vb2, minNormal, zero);
            var hi = MaxOfMoments<TV, TOps>(TOps.Load(vhat + i), vi);
            TOps.Store(hi, vhat + i);
            var step = TOps.Divide(TOps.Multiply(valpha, mi), TOps.Add(TOps.Sqrt(hi), veps));
            TOps.Store(TOps.Subtract(TOps.Load(w + i), step), w + i);
        }
        return i;
    }

    /// <summary>
    /// MathF.Max(a, b) per element, NaN from either side kept (a's first). The one case it differs in, a = −0 and b = +0,
    /// cannot arise: the running maximum starts at +0 and the moment is flushed to +0, never −0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV MaxOfMoments<TV, TOps>(TV a, TV b) where TV : struct where TOps : IVectorOps<TV> =>
        TOps.KeepNaN(a, TOps.KeepNaN(b, TOps.SelectLess(a, b, b, a)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Sgd(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float lr, float mu, bool nesterov)
    {
        int length = value.Length;
        // Without momentum there is no velocity (an empty span). Inline tests: tiny weights (iris's 4×3) take this call
        // for every weight every step, and a call to check them cost W1 2 %.
        if (gradient.Length < length || (mu != 0 && velocity.Length < length))
            RequireElements(mu == 0 ? "SGD" : "SGD with momentum", length, gradient.Length, mu == 0 ? length : velocity.Length);
        fixed (float* w = value, g = gradient, u = velocity)
        {
            int done = VectorPath(length) switch
            {
                KernelPath.Vector512 => Sgd<Vector512<float>, Vector512Ops>(w, g, u, length, lr, mu, nesterov),
                KernelPath.Vector256 => Sgd<Vector256<float>, Vector256Ops>(w, g, u, length, lr, mu, nesterov),
                _ => 0,
            };
            Sgd<float, ScalarOps>(w + done, g + done, u + done, length - done, lr, mu, nesterov);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Sgd<TV, TOps>(float* w, float* g, float* velocity, int length, float lr, float mu, bool nesterov)
        where TV : struct where TOps : IVectorOps<TV>
    {
        var vlr = TOps.Broadcast(lr);
        var vmu = TOps.Broadcast(mu);
        int i = 0;
        if (mu == 0)
        {
            for (; i <= length - TOps.Count; i += TOps.Count)
                TOps.Store(TOps.Subtract(TOps.Load(w + i), TOps.Multiply(vlr, TOps.Load(g + i))), w + i);
            return i;
        }
        for (; i <= length - TOps.Count; i += TOps.Count)
        {
            var step = TOps.Multiply(vlr, TOps.Load(g + i));
            var u = TOps.Subtract(TOps.Multiply(vmu, TOps.Load(velocity + i)), step);
            TOps.Store(u, velocity + i);
            var change = nesterov ? TOps.Subtract(TOps.Multiply(vmu, u), step) : u;
            TOps.Store(TOps.Add(TOps.Load(w + i), change), w + i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static unsafe void RmsProp(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float lr, float rho, float eps, float mu, bool centered)
    {
        int length = value.Length;
        RequireElements("RMSprop", length, gradient.Length, s.Length);
        if (mu > 0) RequireElements("RMSprop with momentum", length, velocity.Length);
        if (centered) RequireElements("Centered RMSprop", length, average.Length);
        fixed (float* w = value, g = gradient, ps = s, pu = velocity, pa = average)
        {
            int done = VectorPath(length) switch
            {
                KernelPath.Vector512 => RmsProp<Vector512<float>, Vector512Ops>(w, g, ps, pu, pa, length, lr, rho, eps, mu, centered),
                KernelPath.Vector256 => RmsProp<Vector256<float>, Vector256Ops>(w, g, ps, pu, pa, length, lr, rho, eps, mu, centered),
                _ => 0,
            };
            RmsProp<float, ScalarOps>(w + done, g + done, ps + done, pu + done, pa + done, length - done, lr, rho, eps, mu, centered);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int RmsProp<TV, TOps>(float* w, float* g, float* s, float* velocity, float* average, int length,
        float lr, float rho, float eps, float mu, bool centered)
        where TV : struct where TOps : IVectorOps<TV>
    {
        var vlr = TOps.Broadcast(lr);
        var vrho = TOps.Broadcast(rho);
        var vrest = TOps.Broadcast(1 - rho);
        var veps = TOps.Broadcast(eps);
        var vmu = TOps.Broadcast(mu);
        bool momentum = mu > 0;
        int i = 0;
        for (; i <= length - TOps.Count; i += TOps.Count)
        {
            var gi = TOps.Load(g + i);
            var si = TOps.Add(TOps.Multiply(vrho, TOps.Load(s + i)), TOps.Multiply(TOps.Multiply(vrest, gi), gi));
            TOps.Store(si, s + i);
            var denominator = si;
            if (centered)
            {
                var ai = TOps.Add(TOps.Multiply(vrho, TOps.Load(average + i)), TOps.Multiply(vrest, gi));
                TOps.Store(ai, average + i);
                denominator = TOps.Subtract(denominator, TOps.Multiply(ai, ai));
            }
            var increment = TOps.Divide(TOps.Multiply(vlr, gi), TOps.Sqrt(TOps.Add(denominator, veps)));
            if (momentum)
            {
                increment = TOps.Add(TOps.Multiply(vmu, TOps.Load(velocity + i)), increment);
                TOps.Store(increment, velocity + i);
            }
            TOps.Store(TOps.Subtract(TOps.Load(w + i), increment), w + i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static unsafe void Adagrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float lr, float eps)
    {
        int length = value.Length;
        RequireElements("Adagrad", length, gradient.Length, accumulator.Length);
        fixed (float* w = value, g = gradient, a = accumulator)
        {
            int done = VectorPath(length) switch
            {
                KernelPath.Vector512 => Adagrad<Vector512<float>, Vector512Ops>(w, g, a, length, lr, eps),
                KernelPath.Vector256 => Adagrad<Vector256<float>, Vector256Ops>(w, g, a, length, lr, eps),
                _ => 0,
            };
            Adagrad<float, ScalarOps>(w + done, g + done, a + done, length - done, lr, eps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Adagrad<TV, TOps>(float* w, float* g, float* accumulator, int length, float lr, float eps)
        where TV : struct where TOps : IVectorOps<TV>
    {
        var vlr = TOps.Broadcast(lr);
        var veps = TOps.Broadcast(eps);
        int i = 0;
        for (; i <= length - TOps.Count; i += TOps.Count)
        {
            var gi = TOps.Load(g + i);
            var ai = TOps.Add(TOps.Load(accumulator + i), TOps.Multiply(gi, gi));
            TOps.Store(ai, accumulator + i);
            var increment = TOps.Divide(TOps.Multiply(vlr, gi), TOps.Sqrt(TOps.Add(ai, veps)));
            TOps.Store(TOps.Subtract(TOps.Load(w + i), increment), w + i);
        }
        return i;
    }

    /// <summary>The path for an update of <paramref name="length"/> values: none of the vector paths for fewer than one
    /// 256-bit vector, so tiny weights (iris's 4×3 and its bias, every step) skip the selector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static KernelPath VectorPath(int length) => length < 8 ? KernelPath.Scalar : KernelSelector.Current;

    private static void RequireElements(string update, int length, params ReadOnlySpan<int> others)
    {
        foreach (int other in others)
            if (other < length)
                throw new ArgumentException($"{update}'s update of {length} values got a gradient or state of {other} values; each needs one value per weight element.");
    }

    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        double s = 0;
        foreach (var x in values) s += (double)x * x;
        return s;
    }

    public static void Scale(Span<float> values, float factor)
    {
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    public static void ClampSymmetric(Span<float> values, float limit)
    {
        for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], -limit, limit);
    }
}
