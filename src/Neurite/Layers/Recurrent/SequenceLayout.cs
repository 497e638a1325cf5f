using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Neurite.Kernels;

namespace Neurite.Layers;

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
        bool goBackwards, ReadOnlySpan<float> inputMask)
    {
        for (int s = 0; s < steps; s++)
        {
            int t = goBackwards ? steps - 1 - s : s;
            for (int b = 0; b < batch; b++)
            {
                var source = x.Slice((b * steps + t) * features, features);
                var target = packed.Slice((s * batch + b) * features, features);
                if (inputMask.IsEmpty) source.CopyTo(target);
                else Multiply(source, inputMask.Slice(b * features, features), target);
            }
        }
    }

    /// <summary>
    /// The transpose of <see cref="PackInputs"/>: <c>dx[b, t(s), f] = dPacked[s, b, f] · inputMask[b, f]</c>.
    /// </summary>
    public static void UnpackInputGradient(ReadOnlySpan<float> dPacked, Span<float> dx, int batch, int steps, int features,
        bool goBackwards, ReadOnlySpan<float> inputMask)
    {
        for (int s = 0; s < steps; s++)
        {
            int t = goBackwards ? steps - 1 - s : s;
            for (int b = 0; b < batch; b++)
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
    public static void UnpackSequence(ReadOnlySpan<float> hiddenAfterEachStep, Span<float> output, int batch, int steps, int units)
    {
        for (int s = 0; s < steps; s++)
            for (int b = 0; b < batch; b++)
                hiddenAfterEachStep.Slice((s * batch + b) * units, units).CopyTo(output.Slice((b * steps + s) * units, units));
    }

    /// <summary>Every row of <paramref name="rows"/> (each <c>bias.Length</c> long) set to the bias, or to zero without one.</summary>
    public static void FillRowsWithBias(Span<float> rows, ReadOnlySpan<float> bias, int width)
    {
        if (bias.IsEmpty) { rows.Clear(); return; }
        for (int r = 0; r < rows.Length; r += width) bias.Slice(0, width).CopyTo(rows.Slice(r, width));
    }

    /// <summary><c>sums[j] += Σ_r matrix[r, j]</c>.</summary>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        for (int r = 0; r < rows; r++) Add(matrix.Slice(r * columns, columns), sums);
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
    public static void Add(ReadOnlySpan<float> values, Span<float> target)
    {
        int n = target.Length, i = 0;
        ref float rv = ref MemoryMarshal.GetReference(values);
        ref float rt = ref MemoryMarshal.GetReference(target);
        var path = KernelSelector.Current;
        if (path == KernelPath.Vector512)
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref rt, (nuint)i) + Vector512.LoadUnsafe(ref rv, (nuint)i)).StoreUnsafe(ref rt, (nuint)i);
        if (path != KernelPath.Scalar)
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref rt, (nuint)i) + Vector256.LoadUnsafe(ref rv, (nuint)i)).StoreUnsafe(ref rt, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rt, i) += Unsafe.Add(ref rv, i);
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

    /// <summary>Grows <paramref name="buffer"/> to at least <paramref name="length"/>; reuses it otherwise.</summary>
    public static void EnsureLength(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
