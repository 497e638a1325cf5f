using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// Packs a transposed right-hand matrix, op(B) = Bᵀ with B stored (N, K), into a
/// <see cref="PackedMatrix"/>: the same bytes as <c>Gemm.Repack(packed, b, transB: true)</c>, several
/// times faster. Backpropagation needs such products every batch (an LSTM's dh = dz·Rᵀ per step,
/// dx = dz·Wᵀ), with weights that change after every batch, so the transpose is paid once per batch.
/// </summary>
/// <remarks>
/// Each packed row p of a panel holds B[j0..j0+31, p], 32 values K apart in B. With AVX, 8×8
/// blocks are transposed in registers (gathers measured slower than the scalar copy here); otherwise
/// a blocked copy reads 16 consecutive p of each source row while the 16 packed rows they land in
/// stay in L1. Pure data movement, so every path gives the same bits.
/// </remarks>
internal static unsafe class TransposedPacking
{
    private const int Panel = PackedMatrix.PanelWidth;
    private const int Block = 16;

    /// <summary>Refreshes <paramref name="packed"/> (K, N) from B stored (N, K).</summary>
    public static void Repack(PackedMatrix packed, ReadOnlySpan<float> b) => Repack(packed, b, allowVector: true);

    /// <summary>As <see cref="Repack(PackedMatrix, ReadOnlySpan{float})"/>; tests turn the AVX transpose off to cover the portable loop.</summary>
    internal static void Repack(PackedMatrix packed, ReadOnlySpan<float> b, bool allowVector)
    {
        ArgumentNullException.ThrowIfNull(packed);
        int k = packed.K, n = packed.N;
        if (b.Length < (long)k * n)
            throw new ArgumentException(
                $"TransposedPacking.Repack needs B stored (N,K) with n*k = {n}*{k} = {(long)k * n} values (the packed matrix's shape), but it has {b.Length}. Pass B with the shape the PackedMatrix was made for.",
                nameof(b));
        RepackStrided(packed, b, k, 0, allowVector);
    }

    /// <summary>
    /// As <see cref="Repack(PackedMatrix, ReadOnlySpan{float})"/> for a B whose N stored rows lie <paramref name="stride"/> floats
    /// apart, K values of each from <paramref name="firstValue"/> on: the transpose of a block of a wider matrix's columns (a
    /// reset-before GRU's R_zrᵀ and R_hᵀ from R) without copying them out first. The same packed values as copying them into
    /// an (N, K) matrix and <see cref="Repack(PackedMatrix, ReadOnlySpan{float})"/>.
    /// </summary>
    internal static void RepackRows(PackedMatrix packed, ReadOnlySpan<float> b, int stride, int firstValue, bool allowVector = true)
    {
        ArgumentNullException.ThrowIfNull(packed);
        int k = packed.K, n = packed.N;
        if (firstValue < 0 || firstValue + k > stride || (n > 0 && b.Length < (long)(n - 1) * stride + firstValue + k))
            throw new ArgumentException(
                $"TransposedPacking.RepackRows needs values {firstValue}..{firstValue + k - 1} of {n} rows {stride} floats apart, but B has {b.Length} values.", nameof(b));
        RepackStrided(packed, b, stride, firstValue, allowVector);
    }

    private static void RepackStrided(PackedMatrix packed, ReadOnlySpan<float> b, int stride, int firstValue, bool allowVector)
    {
        int k = packed.K, n = packed.N;
        if (k == 0 || n == 0) return;
        bool vectorized = allowVector && Avx.IsSupported;
        fixed (float* pb = b, pp = packed.Storage)
        {
            float* dst = pp + packed.Offset, source = pb + firstValue;
            for (int jp = 0; jp < packed.Panels; jp++)
            {
                int j0 = jp * Panel, cols = Math.Min(Panel, n - j0);
                float* panel = dst + (nint)jp * k * Panel;
                if (vectorized && cols == Panel) TransposePanel(source + (nint)j0 * stride, stride, k, panel);
                else CopyPanel(source + (nint)j0 * stride, stride, k, cols, panel);
            }
        }
    }

    // Eight source rows × eight p at a time, transposed in registers (the usual unpack, shuffle,
    // permute sequence), become eight packed rows of eight values each. Needs AVX and a full panel.
    // Source rows lie `stride` floats apart and k of each are packed: a whole K, or one K block of it.
    internal static void TransposePanel(float* source, int stride, int k, float* dst)
    {
        int kMain = k & ~7;
        // A block of packed rows at a time, all 32 source rows for it: the block (4 KiB) is written whole while in L1. Eight
        // source rows at a time over the whole K wrote a quarter of each 128-byte packed row per pass, four passes over a
        // panel of 512 KiB at K = 4096: Rᵀ of an LSTM(1024) took 1.96 against 1.36 ms (bench/results/sweep-s12.md, s12-lstm1024).
        for (int p0 = 0; p0 < kMain; p0 += TransposeRowBlock)
        {
            int pEnd = Math.Min(kMain, p0 + TransposeRowBlock);
            for (int jj = 0; jj < Panel; jj += 8)
            {
                float* rows = source + (nint)jj * stride;
                for (int p = p0; p < pEnd; p += 8)
                    Transpose8x8(rows + p, stride, dst + (nint)p * Panel + jj, Panel);
            }
        }
        for (int jj = 0; jj < Panel; jj += 8)
        {
            float* rows = source + (nint)jj * stride;
            for (int p = kMain; p < k; p++)
                for (int q = 0; q < 8; q++) dst[p * Panel + jj + q] = rows[(nint)q * stride + p];
        }
    }

    // Packed rows per block of TransposePanel.
    private const int TransposeRowBlock = 32;

    // source row jj (column j0 + jj of op(B)) is contiguous; walking it in blocks of 16 p keeps the
    // destination's 16 packed rows (2 KiB) in L1 while all 32 source rows pass through.
    internal static void CopyPanel(float* source, int stride, int k, int cols, float* dst)
    {
        for (int p0 = 0; p0 < k; p0 += Block)
        {
            int pEnd = Math.Min(k, p0 + Block);
            for (int jj = 0; jj < cols; jj++)
            {
                float* row = source + (nint)jj * stride;
                for (int p = p0; p < pEnd; p++) dst[p * Panel + jj] = row[p];
            }
            for (int p = p0; p < pEnd; p++)
                for (int jj = cols; jj < Panel; jj++) dst[p * Panel + jj] = 0f;
        }
    }

    /// <summary>
    /// Writes the transpose of the 8×8 block at <paramref name="source"/> (rows <paramref name="sourceStride"/>
    /// apart) to <paramref name="destination"/> (rows <paramref name="destinationStride"/> apart), in registers:
    /// the usual unpack, shuffle, permute sequence.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* source, int sourceStride, float* destination, int destinationStride)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + sourceStride);
        var r2 = Avx.LoadVector256(source + 2 * sourceStride);
        var r3 = Avx.LoadVector256(source + 3 * sourceStride);
        var r4 = Avx.LoadVector256(source + 4 * sourceStride);
        var r5 = Avx.LoadVector256(source + 5 * sourceStride);
        var r6 = Avx.LoadVector256(source + 6 * sourceStride);
        var r7 = Avx.LoadVector256(source + 7 * sourceStride);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        float* d = destination;
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + destinationStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * destinationStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * destinationStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * destinationStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * destinationStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * destinationStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * destinationStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
