using System.Runtime.CompilerServices;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// A layer's passes over a large (rows, cols) matrix split over the worker pool: adding the bias, the activation forward
/// and backward, and the bias gradient (column sums).
/// </summary>
/// <remarks>
/// <para>An element-wise activation splits at offsets that are multiples of <see cref="Alignment"/> floats, so the vector
/// bodies and the tail cover the same elements as one pass; softmax and the bias splits by rows, each row computed as in
/// one pass; column sums split by columns, each column's sum the same chain over the rows in order. So the bits never
/// depend on the split or the thread count. Each part runs with the caller's forced kernel path (a per-thread
/// setting), as it would on the caller.</para>
/// <para>A matrix of at least two parts' (<see cref="MinElementsPerPart"/>) elements is split: an MLP at U=512, B=256
/// spent about 2 % of a one-thread step in these passes, on one core while the products ran on two.</para>
/// </remarks>
internal static unsafe class ParallelPasses
{
    internal const int MinElementsPerPart = 16384;
    internal const int Alignment = 64;

    /// <summary>How many parts a pass over <paramref name="elements"/> elements is split into on this thread now.</summary>
    /// <remarks>The size is tested first: the tutorial's small layers call this several times a step, and the part flag is a
    /// thread-static read.</remarks>
    internal static int Parts(long elements) => Parts(elements, MinElementsPerPart);

    /// <summary>Parts of at least <paramref name="minPerPart"/> elements each, at most one per allowed thread, and one inside a part already.</summary>
    internal static int Parts(long elements, int minPerPart) =>
        elements < 2 * minPerPart || Threading.MaxThreads == 1 || WorkerPool.InsidePart
            ? 1 : (int)Math.Min(Threading.MaxThreads, elements / minPerPart);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> over <paramref name="count"/> items, starts rounded down to
    /// multiples of <paramref name="unit"/>; the last part takes the rest.</summary>
    internal static (int Start, int Length) Range(int count, int part, int parts, int unit)
    {
        int start = (int)((long)count * part / parts) / unit * unit;
        int end = part == parts - 1 ? count : (int)((long)count * (part + 1) / parts) / unit * unit;
        return (start, end - start);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols)
    {
        int parts = Parts((long)rows * cols);
        if (parts <= 1) FastMath.AddBias(matrix, bias, rows, cols);
        else AddBias(parts, matrix, bias, rows, cols);
    }

    internal static void AddBias(int parts, Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols)
    {
        parts = Math.Min(parts, rows);
        if (parts <= 1 || cols == 0)
        {
            FastMath.AddBias(matrix, bias, rows, cols);
            return;
        }
        Check(matrix.Length, (long)rows * cols, "AddBias");
        if (bias.Length < cols) throw new ArgumentException($"AddBias needs a bias of cols = {cols} values, but it has {bias.Length}. Pass one bias value per column.", nameof(bias));
        fixed (float* pm = matrix, pb = bias)
            Run(PassKind.AddBias, default, pm, pb, null, null, rows, cols, parts, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ActivationForward(ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        int parts = Parts(z.Length);
        if (parts <= 1) ActivationKernels.Forward(kind, z, a, cols);
        else ActivationForward(parts, kind, z, a, cols);
    }

    internal static void ActivationForward(int parts, ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols)
    {
        if (parts <= 1 || kind == ActivationKind.Linear || cols <= 0 || z.Length % cols != 0)
        {
            ActivationKernels.Forward(kind, z, a, cols);
            return;
        }
        Check(a.Length, z.Length, "the activation");
        fixed (float* pz = z, pa = a)
            Run(PassKind.Forward, kind, pz, pa, null, null, z.Length / cols, cols, parts, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ActivationBackward(ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols)
    {
        int parts = Parts(da.Length);
        if (parts <= 1) ActivationKernels.Backward(kind, z, a, da, dz, cols);
        else ActivationBackward(parts, kind, z, a, da, dz, cols);
    }

    internal static void ActivationBackward(int parts, ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da,
        Span<float> dz, int cols)
    {
        if (parts <= 1 || kind == ActivationKind.Linear || cols <= 0 || da.Length % cols != 0)
        {
            ActivationKernels.Backward(kind, z, a, da, dz, cols);
            return;
        }
        // Each kind reads z or a (or both): the one it does not read may be empty, and stays so in every part.
        if (!z.IsEmpty) Check(z.Length, da.Length, "the activation's z");
        if (!a.IsEmpty) Check(a.Length, da.Length, "the activation's a");
        Check(dz.Length, da.Length, "the activation's gradient");
        fixed (float* pz = z, pa = a, pda = da, pdz = dz)
            Run(PassKind.Backward, kind, pz, pa, pda, pdz, da.Length / cols, cols, parts, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate)
    {
        int parts = Parts((long)rows * cols);
        if (parts <= 1) FastMath.SumRows(matrix, sums, rows, cols, accumulate);
        else SumRows(parts, matrix, sums, rows, cols, accumulate);
    }

    internal static void SumRows(int parts, ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate)
    {
        parts = Math.Min(parts, Math.Max(1, cols / Alignment));
        if (parts <= 1 || rows == 0)
        {
            FastMath.SumRows(matrix, sums, rows, cols, accumulate);
            return;
        }
        Check(matrix.Length, (long)rows * cols, "SumRows");
        if (sums.Length < cols) throw new ArgumentException($"SumRows needs sums to hold cols = {cols} values, but it has {sums.Length}. Pass one slot per column.", nameof(sums));
        fixed (float* pm = matrix, ps = sums)
            Run(PassKind.SumRows, default, pm, ps, null, null, rows, cols, parts, accumulate);
    }

    private static void Check(long length, long needed, string what)
    {
        if (length < needed)
            throw new ArgumentException($"A pass over {needed} values got a span of only {length} values for {what}; pass one value per matrix element.");
    }

    private enum PassKind { AddBias, Forward, Backward, SumRows }

    [ThreadStatic] private static Job? t_job;

    private static void Run(PassKind pass, ActivationKind kind, float* p0, float* p1, float* p2, float* p3, int rows, int cols, int parts, bool accumulate)
    {
        var job = t_job ??= new Job();
        job.Pass = pass; job.Kind = kind; job.P0 = p0; job.P1 = p1; job.P2 = p2; job.P3 = p3;
        job.Rows = rows; job.Cols = cols; job.Parts = parts; job.Accumulate = accumulate; job.Path = KernelSelector.Forced;
        try { WorkerPool.Run(job, parts, Threading.MaxThreads); }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        finally { job.P0 = job.P1 = job.P2 = job.P3 = null; }
    }

    private sealed class Job : IParallelWork
    {
        public PassKind Pass;
        public ActivationKind Kind;
        public float* P0, P1, P2, P3;
        public int Rows, Cols, Parts;
        public bool Accumulate;
        public KernelPath? Path;

        private static Span<float> Slice(float* p, int start, int length) => p == null ? default : new Span<float>(p + start, length);

        public void Run(int part)
        {
            var saved = KernelSelector.Forced;
            KernelSelector.Forced = Path;
            try { RunPart(part); }
            finally { KernelSelector.Forced = saved; }
        }

        private void RunPart(int part)
        {
            switch (Pass)
            {
                case PassKind.AddBias:
                {
                    var (row, count) = Range(Rows, part, Parts, 1);
                    FastMath.AddBias(Slice(P0, row * Cols, count * Cols), new ReadOnlySpan<float>(P1, Cols), count, Cols);
                    break;
                }
                case PassKind.SumRows:
                {
                    var (column, count) = Range(Cols, part, Parts, Alignment);
                    if (count > 0) FastMath.SumRows(KernelSelector.Current, P0 + column, Cols, P1 + column, Rows, count, Accumulate);
                    break;
                }
                default:
                {
                    // Softmax works on whole rows; every other kind element by element, at aligned offsets.
                    var (start, length) = Kind == ActivationKind.Softmax
                        ? Scale(Range(Rows, part, Parts, 1), Cols)
                        : Range(Rows * Cols, part, Parts, Alignment);
                    if (Pass == PassKind.Forward)
                        ActivationKernels.Forward(Kind, Slice(P0, start, length), Slice(P1, start, length), Cols);
                    else
                        ActivationKernels.Backward(Kind, Slice(P0, start, length), Slice(P1, start, length), Slice(P2, start, length), Slice(P3, start, length), Cols);
                    break;
                }
            }
        }

        private static (int Start, int Length) Scale((int Start, int Length) rows, int cols) => (rows.Start * cols, rows.Length * cols);
    }
}
