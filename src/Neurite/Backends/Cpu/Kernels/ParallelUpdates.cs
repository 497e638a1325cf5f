using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The optimizers' element-wise updates (<see cref="ElementwiseKernels.AdamUpdate"/> and <see cref="OptimizerKernels"/>)
/// of a large weight, split into contiguous ranges over the worker pool.
/// </summary>
/// <remarks>
/// Each element's update reads and writes only that element, and each range but the last starts and ends on a multiple of
/// <see cref="Alignment"/> floats, so the vector bodies and the scalar tail cover the same elements as one pass over the
/// whole weight: the bits do not depend on the split or the thread count. A weight of at least two parts'
/// (<see cref="MinElementsPerPart"/>) elements is split: an MLP at U=512 spent 3-4 % of a one-thread step on one core in
/// Adam while the products ran on two.
/// </remarks>
internal static unsafe class ParallelUpdates
{
    internal const int MinElementsPerPart = 8192;
    internal const int Alignment = 64;

    /// <summary>How many ranges an update of <paramref name="length"/> elements is split into on this thread now.</summary>
    /// <remarks>The size is tested first: small models call this for every weight every step, and the part flag is a
    /// thread-static read.</remarks>
    internal static int Parts(int length) => ParallelPasses.Parts(length, MinElementsPerPart);

    /// <summary>Range <paramref name="part"/> of <paramref name="parts"/> over <paramref name="length"/> elements: aligned starts, the last takes the rest.</summary>
    internal static (int Start, int Length) Range(int length, int part, int parts) => ParallelPasses.Range(length, part, parts, Alignment);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Adam(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float alpha, float b1, float b2, float eps)
    {
        int parts = Parts(value.Length);
        if (parts <= 1) ElementwiseKernels.AdamUpdate(value, gradient, m, v, alpha, b1, b2, eps);
        else Adam(parts, value, gradient, m, v, alpha, b1, b2, eps);
    }

    /// <summary>As the overload above, in <paramref name="parts"/> ranges (1: one pass).</summary>
    internal static void Adam(int parts, Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float alpha, float b1, float b2, float eps)
    {
        if (parts <= 1)
        {
            ElementwiseKernels.AdamUpdate(value, gradient, m, v, alpha, b1, b2, eps);
            return;
        }
        Check(value.Length, gradient.Length, m.Length, v.Length);
        fixed (float* pw = value, pg = gradient, pm = m, pv = v)
            Run(Kind.Adam, pw, pg, pm, pv, null, value.Length, parts, alpha, b1, b2, eps, 0, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Amsgrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float eps)
    {
        int parts = Parts(value.Length);
        if (parts <= 1) OptimizerKernels.Amsgrad(value, gradient, m, v, vhat, alpha, b1, b2, eps);
        else Amsgrad(parts, value, gradient, m, v, vhat, alpha, b1, b2, eps);
    }

    /// <summary>As the overload above, in <paramref name="parts"/> ranges (1: one pass).</summary>
    internal static void Amsgrad(int parts, Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat,
        float alpha, float b1, float b2, float eps)
    {
        if (parts <= 1)
        {
            OptimizerKernels.Amsgrad(value, gradient, m, v, vhat, alpha, b1, b2, eps);
            return;
        }
        Check(value.Length, gradient.Length, m.Length, v.Length, vhat.Length);
        fixed (float* pw = value, pg = gradient, pm = m, pv = v, ph = vhat)
            Run(Kind.Amsgrad, pw, pg, pm, pv, ph, value.Length, parts, alpha, b1, b2, eps, 0, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sgd(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float lr, float mu, bool nesterov)
    {
        int parts = Parts(value.Length);
        if (parts <= 1) OptimizerKernels.Sgd(value, gradient, velocity, lr, mu, nesterov);
        else Sgd(parts, value, gradient, velocity, lr, mu, nesterov);
    }

    /// <summary>As the overload above, in <paramref name="parts"/> ranges (1: one pass).</summary>
    internal static void Sgd(int parts, Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float lr, float mu, bool nesterov)
    {
        if (parts <= 1)
        {
            OptimizerKernels.Sgd(value, gradient, velocity, lr, mu, nesterov);
            return;
        }
        // Without momentum there is no velocity (an empty span).
        if (mu != 0) Check(value.Length, gradient.Length, velocity.Length);
        else Check(value.Length, gradient.Length);
        fixed (float* pw = value, pg = gradient, pu = velocity)
            Run(Kind.Sgd, pw, pg, mu != 0 ? pu : null, null, null, value.Length, parts, lr, mu, 0, 0, 0, nesterov);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RmsProp(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float lr, float rho, float eps, float mu, bool centered)
    {
        int parts = Parts(value.Length);
        if (parts <= 1) OptimizerKernels.RmsProp(value, gradient, s, velocity, average, lr, rho, eps, mu, centered);
        else RmsProp(parts, value, gradient, s, velocity, average, lr, rho, eps, mu, centered);
    }

    /// <summary>As the overload above, in <paramref name="parts"/> ranges (1: one pass).</summary>
    internal static void RmsProp(int parts, Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float lr, float rho, float eps, float mu, bool centered)
    {
        if (parts <= 1)
        {
            OptimizerKernels.RmsProp(value, gradient, s, velocity, average, lr, rho, eps, mu, centered);
            return;
        }
        Check(value.Length, gradient.Length, s.Length, velocity.Length, average.Length);
        fixed (float* pw = value, pg = gradient, ps = s, pu = velocity, pa = average)
            Run(Kind.RmsProp, pw, pg, ps, pu, pa, value.Length, parts, lr, rho, eps, mu, 0, centered);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Adagrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float lr, float eps)
    {
        int parts = Parts(value.Length);
        if (parts <= 1) OptimizerKernels.Adagrad(value, gradient, accumulator, lr, eps);
        else Adagrad(parts, value, gradient, accumulator, lr, eps);
    }

    /// <summary>As the overload above, in <paramref name="parts"/> ranges (1: one pass).</summary>
    internal static void Adagrad(int parts, Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float lr, float eps)
    {
        if (parts <= 1)
        {
            OptimizerKernels.Adagrad(value, gradient, accumulator, lr, eps);
            return;
        }
        Check(value.Length, gradient.Length, accumulator.Length);
        fixed (float* pw = value, pg = gradient, pa = accumulator)
            Run(Kind.Adagrad, pw, pg, pa, null, null, value.Length, parts, lr, eps, 0, 0, 0, false);
    }

    // The whole-weight kernels index every span by the value's length; the split ones slice each span, so a short
    // one must fail here as it would there, not be read past its end.
    private static void Check(int length, params ReadOnlySpan<int> others)
    {
        foreach (int other in others)
            if (other < length)
                throw new ArgumentException($"An optimizer update of {length} values got a gradient or slot of only {other} values; every span must hold one value per weight element.");
    }

    private enum Kind { Adam, Amsgrad, Sgd, RmsProp, Adagrad }

    [ThreadStatic] private static Job? t_job;

    private static void Run(Kind kind, float* value, float* gradient, float* s0, float* s1, float* s2, int length, int parts,
        float f0, float f1, float f2, float f3, float f4, bool flag)
    {
        var job = t_job ??= new Job();
        job.Kind = kind; job.Value = value; job.Gradient = gradient; job.S0 = s0; job.S1 = s1; job.S2 = s2;
        job.Length = length; job.Parts = parts; job.F0 = f0; job.F1 = f1; job.F2 = f2; job.F3 = f3; job.F4 = f4; job.Flag = flag;
        try { WorkerPool.Run(job, parts, Threading.MaxThreads); }
        finally { job.Value = job.Gradient = job.S0 = job.S1 = job.S2 = null; }
    }

    private sealed class Job : IParallelWork
    {
        public Kind Kind;
        public float* Value, Gradient, S0, S1, S2;
        public int Length, Parts;
        public float F0, F1, F2, F3, F4;
        public bool Flag;

        private static Span<float> Slice(float* p, int start, int length) => p == null ? default : new Span<float>(p + start, length);

        public void Run(int part)
        {
            var (start, length) = Range(Length, part, Parts);
            var value = Slice(Value, start, length);
            var gradient = Slice(Gradient, start, length);
            switch (Kind)
            {
                case Kind.Adam:
                    ElementwiseKernels.AdamUpdate(value, gradient, Slice(S0, start, length), Slice(S1, start, length), F0, F1, F2, F3);
                    break;
                case Kind.Amsgrad:
                    OptimizerKernels.Amsgrad(value, gradient, Slice(S0, start, length), Slice(S1, start, length), Slice(S2, start, length), F0, F1, F2, F3);
                    break;
                case Kind.Sgd:
                    OptimizerKernels.Sgd(value, gradient, Slice(S0, start, length), F0, F1, Flag);
                    break;
                case Kind.RmsProp:
                    OptimizerKernels.RmsProp(value, gradient, Slice(S0, start, length), Slice(S1, start, length), Slice(S2, start, length), F0, F1, F2, F3, Flag);
                    break;
                default:
                    OptimizerKernels.Adagrad(value, gradient, Slice(S0, start, length), F0, F1);
                    break;
            }
        }
    }
}
