using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// Element-wise float kernels for activations and bias handling, with Vector512, Vector256 and
/// scalar paths (chosen by <see cref="KernelSelector.Current"/>) that all run the same algorithm.
/// </summary>
/// <remarks>
/// <para>Accuracy against the double-precision <see cref="Math"/> functions, measured by the tests over
/// a dense sweep of [-20, 20] plus large and special inputs:</para>
/// <list type="bullet">
/// <item><see cref="Exp"/>: relative error below 1.5e-7 (measured worst 7.0e-8) where the result is a normal
/// float; results below 2^-126 lose precision gradually like any denormal; x ≥ 88.73 gives +∞,
/// x ≤ -104 gives 0, NaN stays NaN.</item>
/// <item><see cref="Tanh"/>: absolute error below 1e-6 (a rational approximation, see <see cref="TanhCore"/>); NaN stays NaN.</item>
/// <item><see cref="Sigmoid"/>: 0.5·tanh(x/2) + 0.5, absolute error below 1e-6; NaN stays NaN.</item>
/// </list>
/// <para>Input and output spans may be the same memory (in-place use); other overlaps are refused.</para>
/// </remarks>
internal static unsafe class FastMath
{
    // exp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^7 (truncation < 6e-9 relative).
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693145751953125f; // ln 2 split so n·Ln2Hi is exact for |n| < 2^11
    private const float Ln2Lo = 1.42860682030941723212e-6f;
    private const float ExpLowest = -104f;  // e^-104 < half the smallest denormal: the result is 0
    private const float ExpHighest = 89f;   // e^89 > float.MaxValue: the result is +∞

    // The rational tanh's coefficients; internal so the CUDA backend's scalar kernels use the very same ones.
    internal const float TanhClamp = 7.90531110763549805f;
    internal const float TanhA1 = 4.89352455891786e-03f;
    internal const float TanhA3 = 6.37261928875436e-04f;
    internal const float TanhA5 = 1.48572235717979e-05f;
    internal const float TanhA7 = 5.12229709037114e-08f;
    internal const float TanhA9 = -8.60467152213735e-11f;
    internal const float TanhA11 = 2.00018790482477e-13f;
    internal const float TanhA13 = -2.76076847742355e-16f;
    internal const float TanhB0 = 4.89352518554385e-03f;
    internal const float TanhB2 = 2.26843463243900e-03f;
    internal const float TanhB4 = 1.18534705686654e-04f;
    internal const float TanhB6 = 1.19825839466702e-06f;

    /// <summary><c>y[i] = e^x[i]</c>.</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => Map<ExpFunction>(x, y, nameof(Exp));

    /// <summary><c>y[i] = tanh(x[i])</c>.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Map<TanhFunction>(x, y, nameof(Tanh));

    /// <summary><c>y[i] = 1 / (1 + e^-x[i])</c>.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Map<SigmoidFunction>(x, y, nameof(Sigmoid));

    /// <summary>Adds <paramref name="bias"/> (length cols) to every row of the row-major (rows, cols) <paramref name="matrix"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols)
    {
        CheckMatrix(matrix.Length, rows, cols, nameof(AddBias), nameof(matrix));
        if (bias.Length < cols)
            throw new ArgumentException($"FastMath.AddBias needs a bias of cols = {cols} values, but it has {bias.Length}. Pass one bias value per column.", nameof(bias));
        fixed (float* m = matrix, b = bias)
        {
            switch (KernelSelector.Current)
            {
                case KernelPath.Vector512: AddBias<Vector512<float>, Vector512Ops>(m, b, rows, cols); break;
                case KernelPath.Vector256: AddBias<Vector256<float>, Vector256Ops>(m, b, rows, cols); break;
                default: AddBias<float, ScalarOps>(m, b, rows, cols); break;
            }
        }
    }

    /// <summary><c>colSums[j] (+)= Σ_i matrix[i, j]</c> over the row-major (rows, cols) matrix: the bias gradient.</summary>
    /// <param name="accumulate">Add to <paramref name="colSums"/> instead of overwriting it.</param>
    /// <param name="matrix">The row-major (rows, cols) matrix.</param>
    /// <param name="colSums">Receives one sum per column.</param>
    /// <param name="rows">Rows of the matrix.</param>
    /// <param name="cols">Columns of the matrix.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void SumRows(ReadOnlySpan<float> matrix, Span<float> colSums, int rows, int cols, bool accumulate)
    {
        CheckMatrix(matrix.Length, rows, cols, nameof(SumRows), nameof(matrix));
        if (colSums.Length < cols)
            throw new ArgumentException($"FastMath.SumRows needs colSums to hold cols = {cols} values, but it has {colSums.Length}. Pass one slot per column.", nameof(colSums));
        fixed (float* m = matrix, s = colSums)
        {
            switch (KernelSelector.Current)
            {
                case KernelPath.Vector512: SumRows<Vector512<float>, Vector512Ops>(m, s, rows, cols, accumulate); break;
                case KernelPath.Vector256: SumRows<Vector256<float>, Vector256Ops>(m, s, rows, cols, accumulate); break;
                default: SumRows<float, ScalarOps>(m, s, rows, cols, accumulate); break;
            }
        }
    }

    /// <summary>e^x on one vector; shared by the fused kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV ExpCore<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV>
    {
        var clamped = TOps.Min(TOps.Max(x, TOps.Broadcast(ExpLowest)), TOps.Broadcast(ExpHighest));
        var n = TOps.RoundToEven(TOps.Multiply(clamped, TOps.Broadcast(Log2E)));
        var r = TOps.MultiplyAdd(n, TOps.Broadcast(-Ln2Hi), clamped);
        r = TOps.MultiplyAdd(n, TOps.Broadcast(-Ln2Lo), r);
        var p = TOps.Broadcast(1f / 5040f);
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 720f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 120f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 24f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 6f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(0.5f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f));
        // n spans [-150, 129], beyond one exponent field: scale by 2^n in two halves so the
        // overflow to ∞ and the gradual underflow to 0 each happen in one final rounding.
        var half = TOps.Floor(TOps.Multiply(n, TOps.Broadcast(0.5f)));
        var scaled = TOps.Multiply(TOps.Multiply(p, TOps.Pow2(half)), TOps.Pow2(TOps.Subtract(n, half)));
        return TOps.KeepNaN(x, scaled);
    }

    /// <summary>
    /// tanh on one vector, the library's one tanh (Dense's activation and every recurrent gate): a
    /// rational minimax approximation, odd degree 13 over even degree 6, on x clamped to ±7.9053
    /// (beyond which tanh rounds to ±1 in float). It needs no exp, only one division, which makes it
    /// about twice as fast as 1 − 2/(e^2x + 1) in a SIMD loop; the gate passes of the recurrent
    /// layers are bound by it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV TanhCore<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV>
    {
        x = TOps.Clamp(x, TOps.Broadcast(-TanhClamp), TOps.Broadcast(TanhClamp));
        var x2 = TOps.Multiply(x, x);
        var p = TOps.MultiplyAdd(x2, TOps.Broadcast(TanhA13), TOps.Broadcast(TanhA11));
        p = TOps.MultiplyAdd(x2, p, TOps.Broadcast(TanhA9));
        p = TOps.MultiplyAdd(x2, p, TOps.Broadcast(TanhA7));
        p = TOps.MultiplyAdd(x2, p, TOps.Broadcast(TanhA5));
        p = TOps.MultiplyAdd(x2, p, TOps.Broadcast(TanhA3));
        p = TOps.MultiplyAdd(x2, p, TOps.Broadcast(TanhA1));
        p = TOps.Multiply(p, x);
        var q = TOps.MultiplyAdd(x2, TOps.Broadcast(TanhB6), TOps.Broadcast(TanhB4));
        q = TOps.MultiplyAdd(x2, q, TOps.Broadcast(TanhB2));
        q = TOps.MultiplyAdd(x2, q, TOps.Broadcast(TanhB0));
        return TOps.Divide(p, q);
    }

    /// <summary>The logistic sigmoid on one vector, the library's one sigmoid: 0.5·tanh(x/2) + 0.5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV SigmoidCore<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV> =>
        TOps.MultiplyAdd(TOps.Broadcast(0.5f), TanhCore<TV, TOps>(TOps.Multiply(TOps.Broadcast(0.5f), x)), TOps.Broadcast(0.5f));

    internal interface IUnaryFunction
    {
        static abstract TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV>;
    }

    private struct ExpFunction : IUnaryFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV> => ExpCore<TV, TOps>(x);
    }

    private struct TanhFunction : IUnaryFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV> => TanhCore<TV, TOps>(x);
    }

    private struct SigmoidFunction : IUnaryFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : IVectorOps<TV> => SigmoidCore<TV, TOps>(x);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Map<TFunction>(ReadOnlySpan<float> x, Span<float> y, string name) where TFunction : IUnaryFunction
    {
        if (y.Length < x.Length)
            throw new ArgumentException($"FastMath.{name} needs y to hold x.Length = {x.Length} values, but it has {y.Length}. Pass an output at least as long as the input.", nameof(y));
        if (x.Overlaps(y, out int offset) && offset != 0)
            throw new ArgumentException($"FastMath.{name} allows x and y to be the same memory, but they overlap at an offset of {offset} elements. Pass the same span for in-place use, or separate buffers.", nameof(y));
        fixed (float* px = x, py = y)
        {
            switch (KernelSelector.Current)
            {
                case KernelPath.Vector512: Map<TFunction, Vector512<float>, Vector512Ops>(px, py, x.Length); break;
                case KernelPath.Vector256: Map<TFunction, Vector256<float>, Vector256Ops>(px, py, x.Length); break;
                default: Map<TFunction, float, ScalarOps>(px, py, x.Length); break;
            }
        }
    }

    private static void Map<TFunction, TV, TOps>(float* x, float* y, int length)
        where TFunction : IUnaryFunction where TV : struct where TOps : IVectorOps<TV>
    {
        int width = TOps.Count;
        int i = 0;
        for (; i + width <= length; i += width)
            TOps.Store(TFunction.Invoke<TV, TOps>(TOps.Load(x + i)), y + i);
        if (i == length) return;
        // The tail goes through a full vector in a stack buffer, so it gets the same algorithm and
        // never reads or writes past the spans.
        float* tail = stackalloc float[16];
        int rest = length - i;
        for (int j = 0; j < width; j++) tail[j] = j < rest ? x[i + j] : 0f;
        TOps.Store(TFunction.Invoke<TV, TOps>(TOps.Load(tail)), tail);
        for (int j = 0; j < rest; j++) y[i + j] = tail[j];
    }

    private static void AddBias<TV, TOps>(float* matrix, float* bias, int rows, int cols)
        where TV : struct where TOps : IVectorOps<TV>
    {
        int width = TOps.Count;
        for (int r = 0; r < rows; r++)
        {
            float* row = matrix + (nint)r * cols;
            int j = 0;
            for (; j + width <= cols; j += width)
                TOps.Store(TOps.Add(TOps.Load(row + j), TOps.Load(bias + j)), row + j);
            for (; j < cols; j++) row[j] += bias[j];
        }
    }

    /// <summary><see cref="SumRows(ReadOnlySpan{float}, Span{float}, int, int, bool)"/> over <paramref name="cols"/> columns of
    /// rows <paramref name="stride"/> floats apart: a range of a wider matrix's columns (each column's sum is the same chain).</summary>
    internal static void SumRows(KernelPath path, float* matrix, nint stride, float* sums, int rows, int cols, bool accumulate)
    {
        switch (path)
        {
            case KernelPath.Vector512: SumRows<Vector512<float>, Vector512Ops>(matrix, sums, rows, cols, accumulate, stride); break;
            case KernelPath.Vector256: SumRows<Vector256<float>, Vector256Ops>(matrix, sums, rows, cols, accumulate, stride); break;
            default: SumRows<float, ScalarOps>(matrix, sums, rows, cols, accumulate, stride); break;
        }
    }

    private static void SumRows<TV, TOps>(float* matrix, float* sums, int rows, int cols, bool accumulate, nint stride = 0)
        where TV : struct where TOps : IVectorOps<TV>
    {
        if (stride == 0) stride = cols;
        int width = TOps.Count;
        int j = 0;
        // Four vectors of columns at a time keep four independent add chains in flight.
        for (; j + 4 * width <= cols; j += 4 * width)
        {
            TV s0, s1, s2, s3;
            if (accumulate)
            {
                s0 = TOps.Load(sums + j); s1 = TOps.Load(sums + j + width);
                s2 = TOps.Load(sums + j + 2 * width); s3 = TOps.Load(sums + j + 3 * width);
            }
            else
            {
                s0 = s1 = s2 = s3 = TOps.Broadcast(0f);
            }
            float* p = matrix + j;
            for (int r = 0; r < rows; r++, p += stride)
            {
                s0 = TOps.Add(s0, TOps.Load(p)); s1 = TOps.Add(s1, TOps.Load(p + width));
                s2 = TOps.Add(s2, TOps.Load(p + 2 * width)); s3 = TOps.Add(s3, TOps.Load(p + 3 * width));
            }
            TOps.Store(s0, sums + j); TOps.Store(s1, sums + j + width);
            TOps.Store(s2, sums + j + 2 * width); TOps.Store(s3, sums + j + 3 * width);
        }
        for (; j + width <= cols; j += width)
        {
            TV s = accumulate ? TOps.Load(sums + j) : TOps.Broadcast(0f);
            float* p = matrix + j;
            for (int r = 0; r < rows; r++, p += stride) s = TOps.Add(s, TOps.Load(p));
            TOps.Store(s, sums + j);
        }
        for (; j < cols; j++)
        {
            float s = accumulate ? sums[j] : 0f;
            for (int r = 0; r < rows; r++) s += matrix[r * stride + j];
            sums[j] = s;
        }
    }

    private static void CheckMatrix(int length, int rows, int cols, string operation, string parameter)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(rows < 0 ? nameof(rows) : nameof(cols),
                $"FastMath.{operation} needs non-negative dimensions. Received rows={rows}, cols={cols}.");
        if (length < (long)rows * cols)
            throw new ArgumentException($"FastMath.{operation} needs the matrix to hold rows*cols = {rows}*{cols} = {(long)rows * cols} values, but it has {length}. Pass a larger matrix or fix rows and cols.", parameter);
    }
}
