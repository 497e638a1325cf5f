using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// Moves data between the caller's batch-major layout (B, T, ·) and the cores' step-major scratch
/// layout (T, B, ·), in which the rows of one recurrent step are contiguous so each step is one
/// plain GEMM. Step s reads time step t = s, or t = T-1-s when the layer goes backwards.
/// </summary>
internal static class SequenceLayout
{
    /// <summary>
    /// <c>packed[s, b, f] = x[b, t(s), f] · inputMask[b, f]</c> (mask optional).
    /// </summary>
    public static void PackInputs(ReadOnlySpan<float> x, Span<float> packed, int batch, int steps, int features,
        bool goBackwards, ReadOnlySpan<float> inputMask) =>
        PackInputs(x, packed, batch, steps, features, goBackwards, inputMask, 0, batch);

    /// <summary><see cref="PackInputs(ReadOnlySpan{float}, Span{float}, int, int, int, bool, ReadOnlySpan{float})"/> for batch rows [firstRow, endRow) only.</summary>
    public static void PackInputs(ReadOnlySpan<float> x, Span<float> packed, int batch, int steps, int features,
        bool goBackwards, ReadOnlySpan<float> inputMask, int firstRow, int endRow)
    {
        for (int s = 0; s < steps; s++)
        {
            int t = goBackwards ? steps - 1 - s : s;
            for (int b = firstRow; b < endRow; b++)
            {
                var source = x.Slice((b * steps + t) * features, features);
                var target = packed.Slice((s * batch + b) * features, features);
                if (!inputMask.IsEmpty) Multiply(source, inputMask.Slice(b * features, features), target);
                else if (features > MaxShortRow) source.CopyTo(target);
                else CopyShortRow(source, target);
            }
        }
    }

    /// <summary>
    /// Up to this many features a row is copied inline (<see cref="CopyShortRow"/>): a call to the runtime's copy for each of
    /// a small step's rows cost 1.6 % of an LSTM(32) step at 16 features (bench/results/sweep-s13.md, s13-small).
    /// </summary>
    private const int MaxShortRow = 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShortRow(ReadOnlySpan<float> source, Span<float> target)
    {
        int n = source.Length, i = 0;
        ref float rs = ref MemoryMarshal.GetReference(source);
        ref float rt = ref MemoryMarshal.GetReference(target);
        for (; i <= n - 8; i += 8) Vector256.LoadUnsafe(ref rs, (nuint)i).StoreUnsafe(ref rt, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rt, i) = Unsafe.Add(ref rs, i);
    }

    /// <summary>
    /// The transpose of <see cref="PackInputs(ReadOnlySpan{float}, Span{float}, int, int, int, bool, ReadOnlySpan{float})"/>: <c>dx[b, t(s), f] = dPacked[s, b, f] · inputMask[b, f]</c>.
    /// </summary>
    public static void UnpackInputGradient(ReadOnlySpan<float> dPacked, Span<float> dx, int batch, int steps, int features,
        bool goBackwards, ReadOnlySpan<float> inputMask) =>
        UnpackInputGradient(dPacked, dx, batch, steps, features, goBackwards, inputMask, 0, batch);

    /// <summary><see cref="UnpackInputGradient(ReadOnlySpan{float}, Span{float}, int, int, int, bool, ReadOnlySpan{float})"/> for batch rows [firstRow, endRow) only.</summary>
    public static void UnpackInputGradient(ReadOnlySpan<float> dPacked, Span<float> dx, int batch, int steps, int features,
        bool goBackwards, ReadOnlySpan<float> inputMask, int firstRow, int endRow)
    {
        for (int s = 0; s < steps; s++)
        {
            int t = goBackwards ? steps - 1 - s : s;
            for (int b = firstRow; b < endRow; b++)
            {
                var source = dPacked.Slice((s * batch + b) * features, features);
                var target = dx.Slice((b * steps + t) * features, features);
                if (inputMask.IsEmpty) source.CopyTo(target);
                else Multiply(source, inputMask.Slice(b * features, features), target);
            }
        }
    }

    /// <summary>
    /// Writes the hidden states of all steps, <c>hidden[1..T]</c> stored step-major (the first block
    /// is the initial state), to <c>output[b, s, u]</c>. Keras returns a backwards layer's sequence in
    /// processing order, so no reversal happens here.
    /// </summary>
    public static void UnpackSequence(ReadOnlySpan<float> hiddenAfterEachStep, Span<float> output, int batch, int steps, int units) =>
        UnpackSequence(hiddenAfterEachStep, output, batch, steps, units, 0, batch);

    /// <summary><see cref="UnpackSequence(ReadOnlySpan{float}, Span{float}, int, int, int)"/> for batch rows [firstRow, endRow) only.</summary>
    public static void UnpackSequence(ReadOnlySpan<float> hiddenAfterEachStep, Span<float> output, int batch, int steps, int units,
        int firstRow, int endRow)
    {
        for (int s = 0; s < steps; s++)
            for (int b = firstRow; b < endRow; b++)
                hiddenAfterEachStep.Slice((s * batch + b) * units, units).CopyTo(output.Slice((b * steps + s) * units, units));
    }

    /// <summary>Every row of <paramref name="rows"/> (each <c>bias.Length</c> long) set to the bias, or to zero without one.</summary>
    public static void FillRowsWithBias(Span<float> rows, ReadOnlySpan<float> bias, int width)
    {
        if (bias.IsEmpty) { rows.Clear(); return; }
        for (int r = 0; r < rows.Length; r += width) bias.Slice(0, width).CopyTo(rows.Slice(r, width));
    }

    /// <summary>
    /// The input projections of all steps, <c>gates[r, :] = bias + Σ_f inputs[r, f] · kernel[f, :]</c>
    /// (no bias: zero), as one fused multiply-add chain over f in order per element, which is what the
    /// GEMM computes too. A few features (a univariate series has one or two) make a GEMM with
    /// K = F mostly loads and stores of C, so those are summed here in one pass instead.
    /// </summary>
    public static void ProjectInputs(ReadOnlySpan<float> inputs, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
        Span<float> gates, int rows, int features, int width)
    {
        if (features > SmallFeatureCount)
        {
            FillRowsWithBias(gates, bias, width);
            Gemm.Multiply(inputs, kernel, gates, rows, features, width, accumulate: true);
            return;
        }
        var path = KernelSelector.Current;
        bool hasBias = !bias.IsEmpty;
        ref float rk = ref MemoryMarshal.GetReference(kernel);
        ref float rb = ref MemoryMarshal.GetReference(bias);
        for (int r = 0; r < rows; r++)
        {
            var x = inputs.Slice(r * features, features);
            ref float rg = ref MemoryMarshal.GetReference(gates.Slice(r * width, width));
            int j = 0;
            if (path == KernelPath.Vector512)
                for (; j <= width - 16; j += 16)
                {
                    var acc = hasBias ? Vector512.LoadUnsafe(ref rb, (nuint)j) : Vector512<float>.Zero;
                    for (int f = 0; f < x.Length; f++)
                        acc = Vector512.FusedMultiplyAdd(Vector512.Create(x[f]), Vector512.LoadUnsafe(ref rk, (nuint)(f * width + j)), acc);
                    acc.StoreUnsafe(ref rg, (nuint)j);
                }
            if (path != KernelPath.Scalar)
                for (; j <= width - 8; j += 8)
                {
                    var acc = hasBias ? Vector256.LoadUnsafe(ref rb, (nuint)j) : Vector256<float>.Zero;
                    for (int f = 0; f < x.Length; f++)
                        acc = Vector256.FusedMultiplyAdd(Vector256.Create(x[f]), Vector256.LoadUnsafe(ref rk, (nuint)(f * width + j)), acc);
                    acc.StoreUnsafe(ref rg, (nuint)j);
                }
            for (; j < width; j++)
            {
                float acc = hasBias ? Unsafe.Add(ref rb, j) : 0f;
                for (int f = 0; f < x.Length; f++) acc = MathF.FusedMultiplyAdd(x[f], Unsafe.Add(ref rk, f * width + j), acc);
                Unsafe.Add(ref rg, j) = acc;
            }
        }
    }

    /// <summary>Up to this many input features <see cref="ProjectInputs"/> sums directly instead of calling the GEMM.</summary>
    internal const int SmallFeatureCount = 8;

    /// <summary>
    /// The input-side weight gradients over all steps: <c>dKernel[f, j] += Σ_r inputs[r, f] · dGates[r, j]</c>
    /// and, when <paramref name="dBias"/> is not empty, <c>dBias[j] += Σ_r dGates[r, j]</c>. Each sum runs
    /// over r in order, as the GEMM and <see cref="AddColumnSums"/> do. With a few features the
    /// GEMM (M = F rows) is mostly overhead, so those are done in one pass over dGates together with
    /// the bias sums.
    /// </summary>
    public static unsafe void AddInputWeightGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> dGates, Span<float> dKernel,
        Span<float> dBias, int rows, int features, int width)
    {
        if (features > SmallFeatureCount)
        {
            Gemm.Multiply(inputs, dGates, dKernel, features, rows, width, transA: true, accumulate: true);
            if (!dBias.IsEmpty) AddColumnSums(dGates, rows, width, dBias);
            return;
        }
        // Columns are independent sums, so threads take whole 64-column blocks: each column then runs
        // the same lanes and order as on one thread, and the result does not depend on the split.
        int threads = Threading.MaxThreads, blocks = width / 64;
        int parts = threads > 1 && blocks > 1 && !WorkerPool.InsidePart && KernelSelector.Current != KernelPath.Scalar
            && 2.0 * rows * (features + 1) * width >= Gemm.ParallelMinFlops ? Math.Min(threads, blocks) : 1;
        if (parts == 1)
        {
            AddInputWeightGradientRange(inputs, dGates, dKernel, dBias, rows, features, width, 0, width);
            return;
        }
        var work = t_weightGradientWork ??= new WeightGradientWork();
        fixed (float* pinInputs = inputs, pinDGates = dGates, pinDKernel = dKernel, pinDBias = dBias)
        {
            work.Inputs = new(pinInputs, inputs.Length);
            work.DGates = new(pinDGates, dGates.Length);
            work.DKernel = new(pinDKernel, dKernel.Length);
            work.DBias = new(pinDBias, dBias.Length);
            work.Rows = rows; work.Features = features; work.Width = width; work.Parts = parts;
            WorkerPool.Run(work, parts, threads);
            work.Inputs = work.DGates = work.DKernel = work.DBias = default;
        }
    }

    [ThreadStatic] private static WeightGradientWork? t_weightGradientWork;

    /// <summary>The small-feature input weight gradients split into ranges of whole 64-column blocks.</summary>
    private sealed class WeightGradientWork : IParallelWork
    {
        public PinnedFloats Inputs, DGates, DKernel, DBias;
        public int Rows, Features, Width, Parts;

        public void Run(int part)
        {
            int blocks = Width / 64;
            int first = 64 * (blocks * part / Parts);
            int end = part == Parts - 1 ? Width : 64 * (blocks * (part + 1) / Parts);
            AddInputWeightGradientRange(Inputs.ReadOnly, DGates.ReadOnly, DKernel.Span, DBias.Span, Rows, Features, Width, first, end);
        }
    }

    /// <summary>Columns [firstColumn, endColumn) of the small-feature input weight gradients; firstColumn is a multiple of 64.</summary>
    private static unsafe void AddInputWeightGradientRange(ReadOnlySpan<float> inputs, ReadOnlySpan<float> dGates, Span<float> dKernel,
        Span<float> dBias, int rows, int features, int width, int firstColumn, int endColumn)
    {
        var path = KernelSelector.Current;
        int j = firstColumn;
        fixed (float* x = inputs, g = dGates, k = dKernel, b = dBias)
        {
            float* bias = dBias.IsEmpty ? null : b;
            if (path == KernelPath.Vector512)
            {
                for (; j <= endColumn - 64; j += 64) AddInputWeightGradientBlock<Vector512<float>, Vector512Ops>(x, g, k, bias, rows, features, width, j);
                for (; j <= endColumn - 16; j += 16) AddInputWeightGradientColumns<Vector512<float>, Vector512Ops>(x, g, k, bias, rows, features, width, j);
            }
            if (path != KernelPath.Scalar)
            {
                for (; j <= endColumn - 32; j += 32) AddInputWeightGradientBlock<Vector256<float>, Vector256Ops>(x, g, k, bias, rows, features, width, j);
                for (; j <= endColumn - 8; j += 8) AddInputWeightGradientColumns<Vector256<float>, Vector256Ops>(x, g, k, bias, rows, features, width, j);
            }
            for (; j < endColumn; j++) AddInputWeightGradientColumns<float, ScalarOps>(x, g, k, bias, rows, features, width, j);
        }
    }

    // Four vectors of columns, one feature per pass over the rows: four feature sums and four bias
    // sums in registers, so each row brings four independent chains per sum and a whole 256-byte
    // run of dGates (a single vector per row was bound by the strided loads).
    private static unsafe void AddInputWeightGradientBlock<TV, TOps>(float* inputs, float* dGates, float* dKernel, float* dBias,
        int rows, int features, int width, int column) where TV : struct where TOps : IVectorOps<TV>
    {
        int w = TOps.Count;
        bool bias = dBias != null;
        for (int f = 0; f < features; f++)
        {
            float* rk = dKernel + f * width + column;
            float* rb = bias ? dBias + column : rk;
            TV k0 = TOps.Load(rk), k1 = TOps.Load(rk + w), k2 = TOps.Load(rk + 2 * w), k3 = TOps.Load(rk + 3 * w);
            TV b0 = TOps.Load(rb), b1 = TOps.Load(rb + w), b2 = TOps.Load(rb + 2 * w), b3 = TOps.Load(rb + 3 * w);
            for (int r = 0; r < rows; r++)
            {
                float* g = dGates + r * width + column;
                var x = TOps.Broadcast(inputs[r * features + f]);
                var g0 = TOps.Load(g);
                var g1 = TOps.Load(g + w);
                var g2 = TOps.Load(g + 2 * w);
                var g3 = TOps.Load(g + 3 * w);
                k0 = TOps.MultiplyAdd(x, g0, k0);
                k1 = TOps.MultiplyAdd(x, g1, k1);
                k2 = TOps.MultiplyAdd(x, g2, k2);
                k3 = TOps.MultiplyAdd(x, g3, k3);
                if (bias)
                {
                    b0 = TOps.Add(b0, g0);
                    b1 = TOps.Add(b1, g1);
                    b2 = TOps.Add(b2, g2);
                    b3 = TOps.Add(b3, g3);
                }
            }
            TOps.Store(k0, rk); TOps.Store(k1, rk + w); TOps.Store(k2, rk + 2 * w); TOps.Store(k3, rk + 3 * w);
            if (bias)
            {
                TOps.Store(b0, rb); TOps.Store(b1, rb + w); TOps.Store(b2, rb + 2 * w); TOps.Store(b3, rb + 3 * w);
            }
            bias = false;
        }
    }

    // One vector of columns, two features per pass over the rows: their sums and the bias sum stay
    // in registers (three independent chains) while the rows stream by.
    private static unsafe void AddInputWeightGradientColumns<TV, TOps>(float* inputs, float* dGates, float* dKernel, float* dBias,
        int rows, int features, int width, int column) where TV : struct where TOps : IVectorOps<TV>
    {
        bool bias = dBias != null;
        for (int f = 0; f < features; f += 2)
        {
            bool pair = f + 1 < features;
            var first = TOps.Load(dKernel + f * width + column);
            var second = pair ? TOps.Load(dKernel + (f + 1) * width + column) : default;
            var biasSum = bias ? TOps.Load(dBias + column) : default;
            for (int r = 0; r < rows; r++)
            {
                var g = TOps.Load(dGates + r * width + column);
                float* x = inputs + r * features + f;
                first = TOps.MultiplyAdd(TOps.Broadcast(*x), g, first);
                if (pair) second = TOps.MultiplyAdd(TOps.Broadcast(x[1]), g, second);
                if (bias) biasSum = TOps.Add(biasSum, g);
            }
            TOps.Store(first, dKernel + f * width + column);
            if (pair) TOps.Store(second, dKernel + (f + 1) * width + column);
            if (bias) TOps.Store(biasSum, dBias + column);
            bias = false;
        }
    }

    /// <summary>
    /// <c>dPacked = dGates · kernelᵀ</c>, (rows, F) from (rows, width) and the (F, width) kernel. With
    /// enough features the kernel is transposed once into <paramref name="packedKernel"/> (made on
    /// first use, refreshed every call because weights change between calls) so the GEMM does not
    /// repack it; a few features fill a fraction of one 32-wide panel and go straight to the GEMM.
    /// </summary>
    public static void MultiplyByKernelTransposed(ReadOnlySpan<float> dGates, ReadOnlySpan<float> kernel, Span<float> dPacked,
        int rows, int width, int features, ref PackedMatrix? packedKernel)
    {
        bool packed = PrepareKernelTransposed(kernel, width, features, ref packedKernel);
        MultiplyByKernelTransposed(dGates, kernel, dPacked, rows, width, features, packed ? packedKernel : null);
    }

    /// <summary>
    /// The packing half of <see cref="MultiplyByKernelTransposed(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, ref PackedMatrix?)"/>:
    /// refreshes <paramref name="packedKernel"/> from the kernel when the product uses it, and says whether it does,
    /// so callers that split the rows across threads pack once before the split.
    /// </summary>
    public static bool PrepareKernelTransposed(ReadOnlySpan<float> kernel, int width, int features, ref PackedMatrix? packedKernel)
    {
        if (features < PackedMatrix.PanelWidth / 2) return false;
        packedKernel ??= new PackedMatrix(width, features);
        TransposedPacking.Repack(packedKernel, kernel);
        return true;
    }

    /// <summary>The product half: <paramref name="packedKernel"/> is the one prepared, or null when none was.</summary>
    public static void MultiplyByKernelTransposed(ReadOnlySpan<float> dGates, ReadOnlySpan<float> kernel, Span<float> dPacked,
        int rows, int width, int features, PackedMatrix? packedKernel)
    {
        if (packedKernel != null) Gemm.Multiply(dGates, packedKernel, dPacked, rows);
        else Gemm.Multiply(dGates, kernel, dPacked, rows, width, features, transB: true);
    }

    /// <summary><c>sums[j] += Σ_r matrix[r, j]</c>.</summary>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        // Each column's sum in row order, as a row-by-row Add would make it, in one call instead of one a row.
        FastMath.SumRows(matrix[..(rows * columns)], sums, rows, columns, accumulate: true);
    }

    /// <summary><c>target[i] = a[i] · b[i]</c>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> target)
    {
        int n = target.Length, i = 0;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rt = ref MemoryMarshal.GetReference(target);
        var path = KernelSelector.Current;
        if (path == KernelPath.Vector512)
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref ra, (nuint)i) * Vector512.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref rt, (nuint)i);
        if (path != KernelPath.Scalar)
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref ra, (nuint)i) * Vector256.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref rt, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rt, i) = Unsafe.Add(ref ra, i) * Unsafe.Add(ref rb, i);
    }

    /// <summary><c>target[i] += values[i]</c>.</summary>
    public static void Add(ReadOnlySpan<float> values, Span<float> target) => Add(target, values, target);

    /// <summary><c>sum[i] = a[i] + b[i]</c>, in one pass; <paramref name="sum"/> may be <paramref name="a"/> or <paramref name="b"/>.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> sum)
    {
        int n = sum.Length, i = 0;
        if (a.Length < n || b.Length < n)
            throw new ArgumentException($"Adding into {n} values needs two inputs of at least {n}; got {a.Length} and {b.Length}.");
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rs = ref MemoryMarshal.GetReference(sum);
        var path = KernelSelector.Current;
        if (path == KernelPath.Vector512)
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref ra, (nuint)i) + Vector512.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref rs, (nuint)i);
        if (path != KernelPath.Scalar)
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref ra, (nuint)i) + Vector256.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref rs, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rs, i) = Unsafe.Add(ref ra, i) + Unsafe.Add(ref rb, i);
    }

    /// <summary>
    /// The gradient reaching step s's hidden state from outside the recurrence:
    /// <c>dh[b, u] += dOutput[b, s, u]</c> for a returned sequence, or the whole (B, U) output
    /// gradient at the last step otherwise.
    /// </summary>
    public static void AddOutputGradient(ReadOnlySpan<float> dOutput, Span<float> dh, int batch, int steps, int units,
        int step, bool returnSequences)
    {
        if (dOutput.IsEmpty) return;
        if (returnSequences)
        {
            for (int b = 0; b < batch; b++)
                Add(dOutput.Slice((b * steps + step) * units, units), dh.Slice(b * units, units));
        }
        else if (step == steps - 1)
        {
            Add(dOutput.Slice(0, batch * units), dh.Slice(0, batch * units));
        }
    }

    /// <summary>
    /// <see cref="AddOutputGradient(ReadOnlySpan{float}, Span{float}, int, int, int, int, bool)"/> for batch
    /// rows <paramref name="firstRow"/> to <paramref name="endRow"/> (exclusive) only; <paramref name="dh"/>
    /// is the whole (B, U) gradient.
    /// </summary>
    public static void AddOutputGradient(ReadOnlySpan<float> dOutput, Span<float> dh, int batch, int steps, int units,
        int step, bool returnSequences, int firstRow, int endRow)
    {
        if (dOutput.IsEmpty) return;
        if (returnSequences)
        {
            for (int b = firstRow; b < endRow; b++)
                Add(dOutput.Slice((b * steps + step) * units, units), dh.Slice(b * units, units));
        }
        else if (step == steps - 1)
        {
            int start = firstRow * units, length = (endRow - firstRow) * units;
            Add(dOutput.Slice(start, length), dh.Slice(start, length));
        }
    }

    /// <summary>
    /// Throws when a span's length is not the one its shape needs. The shape text is a format
    /// (<c>{0}</c>..<c>{2}</c> take the numbers) so nothing is formatted, or allocated, unless it throws.
    /// </summary>
    public static void CheckLength(ReadOnlySpan<float> span, int expected, string operation, string name, string shapeFormat,
        int arg0 = 0, int arg1 = 0, int arg2 = 0)
    {
        if (span.Length != expected) ThrowLength(span.Length, expected, operation, name, shapeFormat, arg0, arg1, arg2);
    }

    /// <summary>Like <see cref="CheckLength"/>, but an empty span (meaning "absent") is also accepted.</summary>
    public static void CheckOptionalLength(ReadOnlySpan<float> span, int expected, string operation, string name, string shapeFormat,
        int arg0 = 0, int arg1 = 0, int arg2 = 0)
    {
        if (!span.IsEmpty && span.Length != expected) ThrowLength(span.Length, expected, operation, name, shapeFormat, arg0, arg1, arg2);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowLength(int actual, int expected, string operation, string name, string shapeFormat, int arg0, int arg1, int arg2)
    {
        string shape = string.Format(System.Globalization.CultureInfo.InvariantCulture, shapeFormat, arg0, arg1, arg2);
        throw new ShapeMismatchException(operation, $"{name} with {expected} values {shape}", $"{actual} values",
            $"Pass {name} laid out as {shape}.");
    }
}
