using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Neurite.Initializers;

/// <summary>
/// The Q factor (positive diagonal of R) of an m×n matrix with m ≥ n, in place, for <see cref="Orthogonal"/>: Gram–Schmidt
/// with every projection applied twice, columns taken <see cref="BlockColumns"/> at a time so that a block sweeps the
/// columns before it once per pass (an LSTM(1024)'s 4096×1024 draw is 32 MiB, far larger than a core's cache) while the
/// block itself (256 KiB at 4096 rows) stays in a 512 KiB L2, and four columns share each load of an earlier one.
/// </summary>
/// <remarks>
/// Each column's arithmetic is the same sequence whatever the vector width and whichever columns share its group: a dot
/// product keeps four partial sums (rows by their index mod 4, fused multiply-adds in row order) added in a fixed order,
/// and every update is one fused multiply-add per element. So a seeded draw gives the same weights on every machine.
/// The loops are compiled optimised at once: a weight is drawn once, so tiered compilation would run them unoptimised.
/// </remarks>
internal static class OrthonormalColumns
{
    internal const int BlockColumns = 8;
    private const int GroupColumns = 4;

    /// <summary>Orthonormalizes the n columns of <paramref name="q"/> (column j is q[j·m .. j·m + m)).</summary>
    public static void Orthonormalize(double[] q, int m, int n) => Orthonormalize(q, m, n, Vector256.IsHardwareAccelerated);

    /// <summary><paramref name="useVectors"/>: false runs the scalar loops (for tests of the vector loops).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Orthonormalize(double[] q, int m, int n, bool useVectors)
    {
        if (m < n) throw new ArgumentException($"Orthonormalize needs at least as many rows as columns; received {m}×{n}.", nameof(m));
        var dots = new double[BlockColumns];
        for (int start = 0; start < n; start += BlockColumns)
        {
            int width = Math.Min(BlockColumns, n - start);
            ProjectOut(q, m, 0, start, start, width, dots, useVectors);
            for (int j = start; j < start + width; j++)
            {
                ProjectOut(q, m, start, j - start, j, 1, dots, useVectors);
                var column = q.AsSpan(j * m, m);
                double norm = Math.Sqrt(Dot(column, column, useVectors));
                for (int i = 0; i < column.Length; i++) column[i] /= norm;
            }
        }
    }

    /// <summary>
    /// Subtracts from each of <paramref name="count"/> columns from <paramref name="first"/> its projections on the orthonormal
    /// columns [<paramref name="basisStart"/>, + <paramref name="basisCount"/>), one after the other, then all of them again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ProjectOut(double[] q, int m, int basisStart, int basisCount, int first, int count, double[] dots, bool useVectors)
    {
        if (basisCount == 0) return;
        int steps = 2 * basisCount;
        var firstBasis = q.AsSpan(basisStart * m, m);
        for (int c = 0; c < count; c++) dots[c] = Dot(firstBasis, q.AsSpan((first + c) * m, m), useVectors);
        for (int step = 0; step < steps; step++)
        {
            var basis = q.AsSpan((basisStart + step % basisCount) * m, m);
            // The next projection's dot product is taken in the same sweep as this update, on the updated values; after the
            // last update one against any column is taken and not used, so that every sweep runs the same loop.
            var next = q.AsSpan((basisStart + (step + 1) % basisCount) * m, m);
            for (int c = 0; c < count; c += GroupColumns)
            {
                int group = Math.Min(GroupColumns, count - c);
                var columns = q.AsSpan((first + c) * m, group * m);
                if (useVectors) UpdateVector(columns, m, group, basis, next, dots.AsSpan(c, group));
                else UpdateScalar(columns, m, group, basis, next, dots.AsSpan(c, group));
            }
        }
    }

    /// <summary>
    /// For each of <paramref name="group"/> columns: y −= dot·basis, then dot = next·y, where dot enters as that column's
    /// entry of <paramref name="dots"/> and leaves as the new one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpdateScalar(Span<double> columns, int m, int group, ReadOnlySpan<double> basis, ReadOnlySpan<double> next, Span<double> dots)
    {
        for (int c = 0; c < group; c++)
        {
            var y = columns.Slice(c * m, m);
            double scale = -dots[c];
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i <= m - 4; i += 4)
            {
                y[i] = Math.FusedMultiplyAdd(scale, basis[i], y[i]);
                y[i + 1] = Math.FusedMultiplyAdd(scale, basis[i + 1], y[i + 1]);
                y[i + 2] = Math.FusedMultiplyAdd(scale, basis[i + 2], y[i + 2]);
                y[i + 3] = Math.FusedMultiplyAdd(scale, basis[i + 3], y[i + 3]);
                s0 = Math.FusedMultiplyAdd(next[i], y[i], s0);
                s1 = Math.FusedMultiplyAdd(next[i + 1], y[i + 1], s1);
                s2 = Math.FusedMultiplyAdd(next[i + 2], y[i + 2], s2);
                s3 = Math.FusedMultiplyAdd(next[i + 3], y[i + 3], s3);
            }
            double sum = (s0 + s1) + (s2 + s3);
            for (; i < m; i++)
            {
                y[i] = Math.FusedMultiplyAdd(scale, basis[i], y[i]);
                sum = Math.FusedMultiplyAdd(next[i], y[i], sum);
            }
            dots[c] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpdateVector(Span<double> columns, int m, int group, ReadOnlySpan<double> basis, ReadOnlySpan<double> next, Span<double> dots)
    {
        if (group < GroupColumns)
        {
            for (int c = 0; c < group; c++) UpdateVectorOne(columns.Slice(c * m, m), basis, next, ref dots[c]);
            return;
        }
        ref double y0 = ref MemoryMarshal.GetReference(columns);
        ref double y1 = ref Unsafe.Add(ref y0, m);
        ref double y2 = ref Unsafe.Add(ref y0, 2 * m);
        ref double y3 = ref Unsafe.Add(ref y0, 3 * m);
        ref double b = ref MemoryMarshal.GetReference(basis);
        ref double nx = ref MemoryMarshal.GetReference(next);
        var scale0 = Vector256.Create(-dots[0]);
        var scale1 = Vector256.Create(-dots[1]);
        var scale2 = Vector256.Create(-dots[2]);
        var scale3 = Vector256.Create(-dots[3]);
        Vector256<double> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
        int last = m - Vector256<double>.Count;
        nuint i = 0;
        for (; (int)i <= last; i += (nuint)Vector256<double>.Count)
        {
            var bv = Vector256.LoadUnsafe(ref b, i);
            var nv = Vector256.LoadUnsafe(ref nx, i);
            var v0 = Vector256.FusedMultiplyAdd(scale0, bv, Vector256.LoadUnsafe(ref y0, i));
            var v1 = Vector256.FusedMultiplyAdd(scale1, bv, Vector256.LoadUnsafe(ref y1, i));
            var v2 = Vector256.FusedMultiplyAdd(scale2, bv, Vector256.LoadUnsafe(ref y2, i));
            var v3 = Vector256.FusedMultiplyAdd(scale3, bv, Vector256.LoadUnsafe(ref y3, i));
            v0.StoreUnsafe(ref y0, i);
            v1.StoreUnsafe(ref y1, i);
            v2.StoreUnsafe(ref y2, i);
            v3.StoreUnsafe(ref y3, i);
            sum0 = Vector256.FusedMultiplyAdd(nv, v0, sum0);
            sum1 = Vector256.FusedMultiplyAdd(nv, v1, sum1);
            sum2 = Vector256.FusedMultiplyAdd(nv, v2, sum2);
            sum3 = Vector256.FusedMultiplyAdd(nv, v3, sum3);
        }
        double d0 = Lanes(sum0), d1 = Lanes(sum1), d2 = Lanes(sum2), d3 = Lanes(sum3);
        for (int t = (int)i; t < m; t++)
        {
            double bt = basis[t], nt = next[t];
            columns[t] = Math.FusedMultiplyAdd(-dots[0], bt, columns[t]);
            columns[m + t] = Math.FusedMultiplyAdd(-dots[1], bt, columns[m + t]);
            columns[2 * m + t] = Math.FusedMultiplyAdd(-dots[2], bt, columns[2 * m + t]);
            columns[3 * m + t] = Math.FusedMultiplyAdd(-dots[3], bt, columns[3 * m + t]);
            d0 = Math.FusedMultiplyAdd(nt, columns[t], d0);
            d1 = Math.FusedMultiplyAdd(nt, columns[m + t], d1);
            d2 = Math.FusedMultiplyAdd(nt, columns[2 * m + t], d2);
            d3 = Math.FusedMultiplyAdd(nt, columns[3 * m + t], d3);
        }
        dots[0] = d0; dots[1] = d1; dots[2] = d2; dots[3] = d3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpdateVectorOne(Span<double> y, ReadOnlySpan<double> basis, ReadOnlySpan<double> next, ref double dot)
    {
        ref double yr = ref MemoryMarshal.GetReference(y);
        ref double b = ref MemoryMarshal.GetReference(basis);
        ref double nx = ref MemoryMarshal.GetReference(next);
        double scalar = -dot;
        var scale = Vector256.Create(scalar);
        int m = y.Length, last = m - Vector256<double>.Count;
        nuint i = 0;
        Vector256<double> sum = default;
        for (; (int)i <= last; i += (nuint)Vector256<double>.Count)
        {
            var v = Vector256.FusedMultiplyAdd(scale, Vector256.LoadUnsafe(ref b, i), Vector256.LoadUnsafe(ref yr, i));
            v.StoreUnsafe(ref yr, i);
            sum = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref nx, i), v, sum);
        }
        double total = Lanes(sum);
        for (int t = (int)i; t < m; t++)
        {
            y[t] = Math.FusedMultiplyAdd(scalar, basis[t], y[t]);
            total = Math.FusedMultiplyAdd(next[t], y[t], total);
        }
        dot = total;
    }

    /// <summary>Σ a[i]·b[i] with the four partial sums and the order every loop here uses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b, bool useVectors)
    {
        int i = 0;
        double total;
        if (useVectors)
        {
            Vector256<double> sum = default;
            ref double ar = ref MemoryMarshal.GetReference(a);
            ref double br = ref MemoryMarshal.GetReference(b);
            for (; i <= a.Length - Vector256<double>.Count; i += Vector256<double>.Count)
                sum = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), sum);
            total = Lanes(sum);
        }
        else
        {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (; i <= a.Length - 4; i += 4)
            {
                s0 = Math.FusedMultiplyAdd(a[i], b[i], s0);
                s1 = Math.FusedMultiplyAdd(a[i + 1], b[i + 1], s1);
                s2 = Math.FusedMultiplyAdd(a[i + 2], b[i + 2], s2);
                s3 = Math.FusedMultiplyAdd(a[i + 3], b[i + 3], s3);
            }
            total = (s0 + s1) + (s2 + s3);
        }
        for (; i < a.Length; i++) total = Math.FusedMultiplyAdd(a[i], b[i], total);
        return total;
    }

    private static double Lanes(Vector256<double> sum) => (sum.GetElement(0) + sum.GetElement(1)) + (sum.GetElement(2) + sum.GetElement(3));
}
