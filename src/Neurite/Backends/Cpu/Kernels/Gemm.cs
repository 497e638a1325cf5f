using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// Single-precision matrix products on row-major spans.
/// <c>C[M,N] = op(A)[M,K] · op(B)[K,N]</c>, optionally added to C.
/// </summary>
/// <remarks>
/// <para>Shapes: A is (M,K) or, with <c>transA</c>, stored as (K,M); B is (K,N) or, with <c>transB</c>,
/// stored as (N,K). C is always (M,N).</para>
/// <para>Method: a register-blocked kernel keeps an MR×32 tile of C in Vector512 registers
/// (MR ≤ 12; Vector256 uses MR ≤ 6 × 16), broadcasts A straight from its storage and streams B as
/// 32-column panels. B is read in place when it is (K,N) and packed into panels when transposed
/// (or use <see cref="PackB"/> once for weights). Each C element is one fused multiply-add chain over
/// p = 0..K-1 in order, so the result does not depend on tiling or on <see cref="Threading.MaxThreads"/>.</para>
/// <para>Products under <see cref="SmallMaxFlops"/> (the tutorial's MLP layers) skip the job set-up and
/// threads: B is read in place unless transposed or ragged, columns go in chunks of 32, 16 or 8 with
/// one-vector-wide kernels for the narrow ones, and products of at most <see cref="TinyMaxMultiplyAdds"/>
/// multiply-adds run as a plain loop. They keep the same per-element chain, so they are bit-identical.</para>
/// <para>Warm calls allocate nothing: packing space is a per-thread pinned buffer kept at the largest size seen.</para>
/// </remarks>
internal static unsafe partial class Gemm
{
    private const int Panel = PackedMatrix.PanelWidth;

    // A K block of at most 256 keeps a B panel (32 KiB) in a 32 KiB or 48 KiB L1 while A streams; smaller K
    // runs in one block. Blocking K never changes a result: each C element's chain continues from C in order.
    private const int MaxKBlock = 256;

    // Below this much work one fork/join (~0.15 µs) plus cold caches on the second core eat the gain.
    internal const double ParallelMinFlops = 200_000;

    // Below this much work a product runs on one thread without the job set-up, reading B in place
    // (packing only a transposed or ragged B), in column chunks as narrow as the product.
    internal const double SmallMaxFlops = ParallelMinFlops;

    // Products at least this tall and wide pack B into panels even when it could be read in place.
    internal const int PackBMinRows = 256, PackBMinColumns = 256;

    /// <summary>
    /// Whether a panel of an in-place B with N columns, read <paramref name="kc"/> rows at a time, cannot stay in L1: its rows
    /// lie N floats apart, and when that is a multiple of a large power of two lines they fall into few of a 32 KiB, 8-way
    /// L1's 64 sets (one set at N = 1024, eight at N = 128), fewer lines than the K block's rows. Rows a ragged number of
    /// lines apart (N = 400) spread over every set and stay.
    /// </summary>
    internal static bool InPlacePanelThrashesL1(int n, int kc)
    {
        const int floatsPerLine = 16, setBits = 6, ways = 8;
        if (n <= 0 || n % floatsPerLine != 0) return false;
        // Rows 2^z·odd lines apart visit 64 / gcd(2^z·odd, 64) sets.
        int sharedSets = (1 << setBits) >> Math.Min(System.Numerics.BitOperations.TrailingZeroCount(n / floatsPerLine), setBits);
        return sharedSets * ways < kc;
    }

    // A packed-B product copies an untransposed A into tile runs from rows this long (K floats), where a tile's rows
    // share L1 sets, and only when a K block's copy serves this many panels (under a sixty-fourth of the products' work).
    internal const int PackRowMajorAMinK = 1024, PackRowMajorAMinPanels = 32;

    // Beside a packed B whose next panel each tile fetches into L2 (PrefetchesPanels), A is copied from rows this long: the
    // rows-contiguous kernels take a tile's share of that prefetch inside their k loop, where asked for all at once before the
    // tile it stalled the core (bench/results/sweep-s9.md, s9-rec: 4–17 % faster products at K = 256 and 512, 64–512 rows).
    internal const int PackRowMajorAPrefetchingMinK = 256;

    /// <summary>Whether each tile of a product fetches its share of the next packed B panel's K block into L2 (x86 only): B is
    /// packed whole (beforehand, transposed, or once for several threads), not a K block at a time right before its use.</summary>
    internal static bool PrefetchesPanels(bool allPacked, bool packPerKBlock) => Sse.IsSupported && allPacked && !packPerKBlock;

    /// <summary>From how long rows (K) an untransposed A is copied into tile runs beside a packed B.</summary>
    internal static int PackRowMajorAMinKFor(bool prefetchesPanels) => prefetchesPanels ? PackRowMajorAPrefetchingMinK : PackRowMajorAMinK;

    // At or below this many multiply-adds a plain loop beats choosing and calling micro-kernels.
    internal const int TinyMaxMultiplyAdds = 128;

    [ThreadStatic] private static float[]? t_scratch;
    [ThreadStatic] private static int t_scratchOffset;
    [ThreadStatic] private static Job? t_job;

    /// <summary>C[M,N] (+)= op(A)·op(B). See the class remarks for layouts.</summary>
    /// <param name="a">A, row-major (M,K), or (K,M) when <paramref name="transA"/>.</param>
    /// <param name="b">B, row-major (K,N), or (N,K) when <paramref name="transB"/>.</param>
    /// <param name="c">C, row-major (M,N).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="transA">A is stored (K,M) and used transposed.</param>
    /// <param name="transB">B is stored (N,K) and used transposed.</param>
    /// <param name="accumulate">Add the product to C instead of overwriting it.</param>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool transA = false, bool transB = false, bool accumulate = false)
    {
        Validate(a.Length, b.Length, c.Length, m, k, n, transA, transB);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            var path = KernelSelector.Current;
            if (IsThin(path, m, k, n)) MultiplyThin(path, pa, pb, pc, m, k, n, transA, accumulate);
            else if (2.0 * m * n * k < SmallMaxFlops) MultiplySmall(path, pa, pb, pc, m, k, n, transA, transB, accumulate);
            else if (SwapsOperands(path, m, k, n, transA, transB, accumulate)) MultiplySwapped(path, pa, pb, pc, m, k, n);
            else Run(path, pa, pb, null, pc, m, k, n, transA, transB, accumulate);
        }
    }

    [ThreadStatic] private static bool t_neverSwap;

    /// <summary>Whether products on this thread may swap their operands (<see cref="SwapsOperands"/>); false for the tests'
    /// and the benchmark's comparison with the direct product.</summary>
    internal static bool SwapOperandsEnabled
    {
        get => !t_neverSwap;
        set => t_neverSwap = !value;
    }

    /// <summary>
    /// Whether C = A·Bᵀ (A (M,K), B stored (N,K), C overwritten) is made as Cᵀ = B·Aᵀ and transposed into C: a short A
    /// beside a large B, as a Dense layer's input gradient dx = dz·Wᵀ (64 rows beside a 1024 × 1024 kernel). Made directly, each
    /// panel of Bᵀ is transposed into a buffer before its tiles; swapped, B's rows are the broadcast operand, read in place
    /// and in order, and A (small) is packed once and stays in L2. Each element is the same chain over k in order with the
    /// factors of each multiply-add swapped, which leaves every bit as it was.
    /// </summary>
    internal static bool SwapsOperands(KernelPath path, int m, int k, int n, bool transA, bool transB, bool accumulate) =>
        SwapOperandsEnabled && path != KernelPath.Scalar && transB && !transA && !accumulate
        && m < PackBMinRows && m % Panel == 0
        && (n >= SwapMinColumns && k >= SwapMinColumns || m <= SwapFewMaxRows && n >= SwapFewMinColumns && k >= SwapFewMinColumns);

    // From how wide and deep a B a short product swaps its operands (SwapsOperands).
    internal const int SwapMinColumns = 512;

    // A product of at most this many rows swaps from a B of SwapFewMinColumns: on Zen 4, one thread, alternating, 32 × 256 × 256
    // 38.5 against 42.7 µs direct, 64 × 256 × 256 76.4 / 78.3, 64 × 256 × 1024 305 / 321, but 128 × 256 × 256 153 / 151
    // (bench/results/sweep-s13.md, s13-mlpsmall). Sixteen rows (half a panel) stay direct: swapped, 16 × 512 × 512 took 1.3×.
    internal const int SwapFewMaxRows = 64, SwapFewMinColumns = 256;

    [ThreadStatic] private static float[]? t_swapped;
    [ThreadStatic] private static int t_swappedOffset;

    private static void MultiplySwapped(KernelPath path, float* a, float* b, float* c, int m, int k, int n)
    {
        long length = (long)m * n;
        if (t_swapped == null || t_swapped.Length - t_swappedOffset < length)
            (t_swapped, t_swappedOffset) = AlignedBuffer.Allocate((int)Math.Max(length, 4096));
        float* ct;
        fixed (float* p = t_swapped) ct = p + t_swappedOffset; // pinned: the address outlives `fixed`
        Run(path, b, a, null, ct, n, k, m, transA: false, transB: true, accumulate: false);
        Transpose(ct, n, m, c);
    }

    /// <summary>The (rows, columns) row-major <paramref name="source"/> into <paramref name="destination"/> as (columns, rows).</summary>
    // Fully optimised from its first call: through the tiers (one call a product, its loop replaced on stack) it stayed at
    // 39 µs for 1024 × 64 against 16 µs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* source, int rows, int columns, float* destination)
    {
        // Eight rows of the destination at a time, each written in order.
        int j = 0;
        if (Avx.IsSupported)
            for (; j + 8 <= columns; j += 8)
            {
                int i = 0;
                for (; i + 8 <= rows; i += 8)
                    TransposedPacking.Transpose8x8(source + (nint)i * columns + j, columns, destination + (nint)j * rows + i, rows);
                for (; i < rows; i++)
                    for (int q = 0; q < 8; q++) destination[(nint)(j + q) * rows + i] = source[(nint)i * columns + j + q];
            }
        for (; j < columns; j++)
            for (int i = 0; i < rows; i++) destination[(nint)j * rows + i] = source[(nint)i * columns + j];
    }

    /// <summary>
    /// <c>C[M,N] = op(A)·B</c> (B row-major (K,N), read as <see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, bool, bool)"/>
    /// reads it), handing <paramref name="finished"/> each block of C's rows as soon as its values are final, while the
    /// block is still in L1/L2: a weight gradient's optimizer update then reads it there instead of from L3 after the whole
    /// product. Every element gets the bits <c>Multiply</c> gives it. Returns false when this product's shape or split
    /// hands no rows (a thin or small product, or threads splitting the columns): C is then computed all the same, and no
    /// block was handed. Rows are handed once each, in no promised order, possibly from worker threads (with the
    /// caller's forced kernel path) and never two blocks at once from one thread.
    /// </summary>
    internal static bool MultiplyHandingRows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool transA, IFinishedRows finished)
    {
        ArgumentNullException.ThrowIfNull(finished);
        Validate(a.Length, b.Length, c.Length, m, k, n, transA, false);
        if (m == 0 || n == 0 || k == 0)
        {
            Multiply(a, b, c, m, k, n, transA);
            return false;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            var path = KernelSelector.Current;
            if (IsThin(path, m, k, n)) MultiplyThin(path, pa, pb, pc, m, k, n, transA, false);
            else if (2.0 * m * n * k < SmallMaxFlops) MultiplySmall(path, pa, pb, pc, m, k, n, transA, false, false);
            else return Run(path, pa, pb, null, pc, m, k, n, transA, false, false, finished);
            return false;
        }
    }

    /// <summary>C[M,N] (+)= op(A)·B with B packed beforehand by <see cref="PackB"/>.</summary>
    /// <param name="a">A, row-major (M,K), or (K,M) when <paramref name="transA"/>; K is <c>b.K</c>.</param>
    /// <param name="b">The packed right-hand matrix (K,N).</param>
    /// <param name="c">C, row-major (M,N) with N = <c>b.N</c>.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="transA">A is stored (K,M) and used transposed.</param>
    /// <param name="accumulate">Add the product to C instead of overwriting it.</param>
    /// <param name="side">Lines the product's tiles also fetch into L2 as they run (see <see cref="SidePrefetch"/>).</param>
    public static void Multiply(ReadOnlySpan<float> a, PackedMatrix b, Span<float> c, int m,
        bool transA = false, bool accumulate = false, SidePrefetch side = default)
    {
        ArgumentNullException.ThrowIfNull(b);
        int k = b.K, n = b.N;
        Validate(a.Length, (long)k * n, c.Length, m, k, n, transA, false);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        fixed (float* pa = a, pc = c, pp = b.Storage)
        {
            var job = t_job ??= new Job();
            job.Side = side;
            try { Run(KernelSelector.Current, pa, null, pp + b.Offset, pc, m, k, n, transA, false, accumulate); }
            finally { job.Side = default; }
        }
    }


    /// <summary>
    /// <c>C[M,N] = rowInit + lead·leadB + A·B</c>, where <paramref name="lead"/> is (M, leadB.K) and A is (M, b.K), both
    /// row-major, and <paramref name="rowInit"/> (N values, or empty for zero) starts every row: the chains of a
    /// product over the concatenated K, [lead | A]·[leadB; B], in that order, so each element is bit-identical to
    /// filling C with <paramref name="rowInit"/>, adding lead·leadB and then A·B. The lead's part of each tile runs
    /// right before its first K block, while the tile is in L1: a recurrent step's input projection then costs no
    /// pass of its own over the step's gates. Vector paths only (the scalar path rounds differently). The tiles also fetch
    /// <c>side</c>'s lines into L2 as they run (see <see cref="SidePrefetch"/>).
    /// </summary>
    public static void MultiplyWithLead(ReadOnlySpan<float> lead, PackedMatrix leadB, ReadOnlySpan<float> a, PackedMatrix b,
        ReadOnlySpan<float> rowInit, Span<float> c, int m, SidePrefetch side = default)
    {
        ArgumentNullException.ThrowIfNull(leadB);
        ArgumentNullException.ThrowIfNull(b);
        int k = b.K, n = b.N, leadK = leadB.K;
        var path = KernelSelector.Current;
        if (path == KernelPath.Scalar)
            throw new InvalidOperationException("Gemm.MultiplyWithLead runs on the vector paths only; on the scalar path fill C and call Multiply twice.");
        if (leadB.N != n || k == 0 || leadK == 0)
            throw new ArgumentException($"Gemm.MultiplyWithLead needs both packed matrices to have the same N and K > 0; received leadB ({leadK}, {leadB.N}) and B ({k}, {n}).");
        if (!rowInit.IsEmpty && rowInit.Length < n)
            throw new ArgumentException($"Gemm.MultiplyWithLead needs rowInit to hold N = {n} values, but it has {rowInit.Length}.", nameof(rowInit));
        Validate(lead.Length, (long)leadK * n, c.Length, m, leadK, n, false, false);
        Validate(a.Length, (long)k * n, c.Length, m, k, n, false, false);
        if (m == 0 || n == 0) return;
        fixed (float* pl = lead, pa = a, pc = c, pi = rowInit, pp = b.Storage, plp = leadB.Storage)
        {
            var job = t_job ??= new Job();
            job.Lead = pl; job.LeadPacked = plp + leadB.Offset; job.LeadK = leadK; job.LeadInit = rowInit.IsEmpty ? null : pi;
            job.Side = side;
            try { Run(path, pa, null, pp + b.Offset, pc, m, k, n, false, false, false); }
            finally { job.Lead = null; job.LeadInit = null; job.Side = default; }
        }
    }

    /// <summary>Whether <see cref="AddTransposedProducts"/> takes an N-column B on this thread now (otherwise make the products one by one).</summary>
    internal static bool CanAddTransposedProducts(int n) =>
        KernelSelector.Current != KernelPath.Scalar && n > 0 && n % Panel == 0 && (Threading.MaxThreads == 1 || WorkerPool.InsidePart);

    /// <summary>
    /// For each part, <c>C (Rows, N) += Aᵀ·B</c>, with A stored (K, Rows), or <c>C (1, N) += column sums of B</c> for a part
    /// without A: products that share one tall B, as a recurrent layer's weight gradients share its gate gradients
    /// (dR = h̃ᵀ·dZ, dW = x̃ᵀ·dZ, dBias = 1ᵀ·dZ). B is read once per K block for all parts instead of once per product.
    /// Each element is the chain of its own product (a column sum adds 1·B[p, j], which is exactly B[p, j], in order), so the
    /// bits are those of the products one by one. Needs <see cref="CanAddTransposedProducts"/>.
    /// </summary>
    internal static void AddTransposedProducts(ReadOnlySpan<float> b, int k, int n, ReadOnlySpan<TransposedProductPart> parts)
    {
        if (!CanAddTransposedProducts(n))
            throw new InvalidOperationException($"Gemm.AddTransposedProducts needs a vector path, one thread and N a multiple of {Panel}; received N = {n}.");
        if (b.Length < (long)k * n)
            throw new ArgumentException($"Gemm.AddTransposedProducts needs B to hold k*n = {k}*{n} values, but it has {b.Length}.", nameof(b));
        if (k == 0) return;
        fixed (float* pb = b)
        {
            var job = t_job ??= new Job();
            job.Path = KernelSelector.Current; job.B = pb; job.K = k; job.N = n; job.Panels = n / Panel;
            job.Packed = Scratch((long)job.Panels * Math.Min(k, MaxKBlock) * Panel);
            job.ComputeTransposedParts(parts);
        }
    }

    /// <summary>Packs op(B) for repeated products. B is (K,N), or stored (N,K) when <paramref name="transB"/>.</summary>
    public static PackedMatrix PackB(ReadOnlySpan<float> b, int k, int n, bool transB = false)
    {
        if (k < 0 || n < 0)
            throw new ArgumentOutOfRangeException(k < 0 ? nameof(k) : nameof(n),
                $"Gemm.PackB needs non-negative dimensions. Received k={k}, n={n}.");
        var packed = new PackedMatrix(k, n);
        Repack(packed, b, transB);
        return packed;
    }

    /// <summary>Refreshes <paramref name="packed"/> from new values of B (same K and N), without allocating.</summary>
    public static void Repack(PackedMatrix packed, ReadOnlySpan<float> b, bool transB = false)
    {
        ArgumentNullException.ThrowIfNull(packed);
        int k = packed.K, n = packed.N;
        if (b.Length < (long)k * n)
            throw new ArgumentException(
                $"Gemm.Repack needs B to hold k*n = {k}*{n} = {(long)k * n} values (the packed matrix's shape), but it has {b.Length}. Pass B with the shape the PackedMatrix was made for, or make a new one with Gemm.PackB.",
                nameof(b));
        if (k == 0 || n == 0) return;
        if (transB)
        {
            // The register-transposing pack writes the same bytes several times faster.
            TransposedPacking.Repack(packed, b);
            return;
        }
        RepackColumns(packed, b, n, 0);
    }

    /// <summary>
    /// Refreshes <paramref name="packed"/> (K × N) from columns [<paramref name="firstColumn"/>, + N) of a row-major B whose rows
    /// lie <paramref name="ldb"/> floats apart: a block of a wider matrix's columns (a reset-before GRU's R_zr and R_h, the z|r
    /// and h columns of R) packed without copying them out first. The same packed values as copying the columns into an N-wide
    /// matrix and <see cref="Repack(PackedMatrix, ReadOnlySpan{float}, bool)"/>.
    /// </summary>
    internal static void RepackColumns(PackedMatrix packed, ReadOnlySpan<float> b, int ldb, int firstColumn)
    {
        ArgumentNullException.ThrowIfNull(packed);
        int k = packed.K, n = packed.N;
        if (firstColumn < 0 || firstColumn + n > ldb || (k > 0 && b.Length < (long)(k - 1) * ldb + firstColumn + n))
            throw new ArgumentException(
                $"Gemm.RepackColumns needs columns {firstColumn}..{firstColumn + n - 1} of {k} rows {ldb} floats apart, but B has {b.Length} values.", nameof(b));
        if (k == 0 || n == 0) return;
        fixed (float* pb = b, pp = packed.Storage)
        {
            float* src = pb + firstColumn, dst = pp + packed.Offset;
            if (n % Panel == 0 && Vector256.IsHardwareAccelerated)
            {
                PackRowBlocks(src, k, n, ldb, dst);
                return;
            }
            for (int jp = 0; jp < packed.Panels; jp++)
                PackPanel(src, k, n, false, jp, dst + (nint)jp * k * Panel, ldb);
        }
    }

    // Rows of B a row block of the whole-panel copy reads: 16 rows of 4096 columns are 256 KiB, half of a 512 KiB L2.
    private const int PackRowBlock = 16;

    /// <summary>
    /// All panels of a row-major B (K, N), N a multiple of 32, a block of <see cref="PackRowBlock"/> rows at a time: the
    /// layout of <see cref="PackPanel(float*, int, int, bool, int, float*)"/>. Panel by panel, a large B (a recurrent
    /// kernel of 1024 × 3072) is read 128 bytes per row a whole row apart: a new page at every read, each page visited
    /// once per panel (96 times). A block's rows stay in L2 while its panels take them, and each panel gets one
    /// contiguous run per block: 2–4× faster at 256 × 1024 and 512 × 2048 (bench/results/sweep-s8.md, s8-rec).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void PackRowBlocks(float* b, int k, int n, int ldb, float* dst)
    {
        int panels = n / Panel;
        for (int p0 = 0; p0 < k; p0 += PackRowBlock)
        {
            int rows = Math.Min(PackRowBlock, k - p0);
            for (int jp = 0; jp < panels; jp++)
            {
                float* src = b + (nint)p0 * ldb + jp * Panel;
                float* target = dst + ((nint)jp * k + p0) * Panel;
                for (int p = 0; p < rows; p++, src += ldb, target += Panel)
                {
                    if (Vector512.IsHardwareAccelerated)
                    {
                        Vector512.Store(Vector512.Load(src), target);
                        Vector512.Store(Vector512.Load(src + 16), target + 16);
                    }
                    else
                    {
                        Vector256.Store(Vector256.Load(src), target);
                        Vector256.Store(Vector256.Load(src + 8), target + 8);
                        Vector256.Store(Vector256.Load(src + 16), target + 16);
                        Vector256.Store(Vector256.Load(src + 24), target + 24);
                    }
                }
            }
        }
    }

    /// <summary>The plain triple loop: an algorithmic reference for tests and a fallback.</summary>
    internal static void ReferenceMultiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool transA, bool transB)
    {
        for (int i = 0; i < m; i++)
        {
            var crow = c.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * m + i] : a[i * k + p];
                if (av == 0f) continue;
                if (transB)
                    for (int j = 0; j < n; j++) crow[j] += av * b[j * k + p];
                else
                    { var brow = b.Slice(p * n, n); for (int j = 0; j < n; j++) crow[j] += av * brow[j]; }
            }
        }
    }

    private static void Validate(long aLength, long bLength, long cLength, int m, int k, int n, bool transA, bool transB)
    {
        if (m < 0 || k < 0 || n < 0)
            throw new ArgumentOutOfRangeException(m < 0 ? nameof(m) : k < 0 ? nameof(k) : nameof(n),
                $"Gemm.Multiply needs non-negative dimensions. Received m={m}, k={k}, n={n}.");
        long mk = (long)m * k, kn = (long)k * n, mn = (long)m * n;
        if (aLength < mk)
            throw new ArgumentException(
                $"Gemm.Multiply needs A to hold m*k = {m}*{k} = {mk} values, stored {(transA ? "(K,M)" : "(M,K)")}, but it has {aLength}. Pass a larger A or fix m and k.", "a");
        if (bLength < kn)
            throw new ArgumentException(
                $"Gemm.Multiply needs B to hold k*n = {k}*{n} = {kn} values, stored {(transB ? "(N,K)" : "(K,N)")}, but it has {bLength}. Pass a larger B or fix k and n.", "b");
        if (cLength < mn)
            throw new ArgumentException(
                $"Gemm.Multiply needs C to hold m*n = {m}*{n} = {mn} values, but it has {cLength}. Pass a larger C or fix m and n.", "c");
        if (mk > int.MaxValue || kn > int.MaxValue || mn > int.MaxValue)
            throw new ArgumentException($"Gemm.Multiply supports matrices of at most {int.MaxValue} elements. Received m={m}, k={k}, n={n}.");
    }

    // b == null means B is already packed at `packed`.
    // finished: hand C's rows to it as they are done (MultiplyHandingRows); returns whether it did.
    private static bool Run(KernelPath path, float* a, float* b, float* packed, float* c,
        int m, int k, int n, bool transA, bool transB, bool accumulate, IFinishedRows? finished = null)
    {
        int panels = (n + Panel - 1) / Panel;
        int threads = path == KernelPath.Scalar || 2.0 * m * n * k < ParallelMinFlops || WorkerPool.InsidePart ? 1 : Threading.MaxThreads;
        var (allPacked, packPerPanel) = PackingOf(b == null, transB, path, m, k, n, threads);
        // One thread packs an untransposed B a K block at a time, right before the block's products: the packed
        // block stays in cache instead of a whole packed B going out to memory and coming back (52 MB for an
        // LSTM's dR at U=256, B·T=12800). Threads share one packed B, so they pack it all first.
        bool packPerKBlock = b != null && allPacked && !transB && threads == 1 && path != KernelPath.Scalar;
        bool edgeOnly = !allPacked && !packPerPanel && n % Panel != 0;
        // A per-panel copy sizes its own buffer on each thread (Job.ComputeBlocked).
        if (b != null && (allPacked || edgeOnly))
        {
            int packedPanels = allPacked ? panels : 1;
            packed = Scratch((long)packedPanels * (packPerKBlock ? Math.Min(k, MaxKBlock) : k) * Panel);
        }

        var job = t_job ??= new Job();
        job.Path = path; job.A = a; job.B = b; job.Packed = packed; job.C = c;
        job.M = m; job.K = k; job.N = n; job.TransA = transA; job.TransB = transB; job.Accumulate = accumulate;
        job.AllPacked = allPacked; job.Panels = panels; job.PackPerKBlock = packPerKBlock; job.PackPerPanel = packPerPanel;
        job.PanelsStayInL2 = StaysInL2((long)panels * k * Panel * sizeof(float), CacheSizes.L2Bytes);

        if (b != null && allPacked && !packPerKBlock)
        {
            job.Phase = Job.PackPhase;
            job.Parts = Math.Min(threads, panels);
            WorkerPool.Run(job, job.Parts, threads);
        }
        else if (edgeOnly)
        {
            PackPanel(b, k, n, false, panels - 1, packed);
        }

        job.Phase = Job.ComputePhase;
        // Splitting rows keeps every thread on full-width panels; too few rows per thread split panels instead. Threads that
        // copy panels split the panels, so that each copies and reads only its share of B.
        job.SplitRows = SplitsRows(m, panels, threads, packPerPanel);
        job.Parts = Math.Min(threads, job.SplitRows ? m : panels);
        // A product split over threads fetches nothing for the caller: its parts' shares would race on one count.
        if (job.Parts > 1) job.Side = default;
        // Threads that split the columns finish no row until all of them are done.
        bool handsRows = finished != null && (job.Parts <= 1 || job.SplitRows);
        job.Finished = handsRows ? finished : null;
        job.FinishedPath = KernelSelector.Forced;
        try
        {
            if (job.Parts <= 1) job.Compute(0, m, 0, panels);
            else WorkerPool.Run(job, job.Parts, threads);
        }
        finally { job.Finished = null; }
        return handsRows;
    }

    /// <summary>
    /// How <see cref="Run"/> reads B: all of it packed into panels first, or each panel's K block copied right before the
    /// panel's tiles (otherwise in place), for a product of M rows, K inner steps and N columns, B transposed or not;
    /// <paramref name="prepacked"/>: B was packed beforehand (<see cref="PackB"/>), on <paramref name="threads"/> threads.
    /// The kernel prewarm lists the packing code by the same choice.
    /// </summary>
    internal static (bool AllPacked, bool PackPerPanel) PackingOf(bool prepacked, bool transB, KernelPath path, int m, int k, int n, int threads)
    {
        bool vector = path != KernelPath.Scalar;
        // A transposed B is packed in any case. A shorter product packs each panel's K block right before the panel's tiles,
        // where the transposed block stays in L1; packed whole first (4 MB for a Dense's dx = dz·Wᵀ at 1024 × 1024),
        // it goes out to L3 or memory and comes back for the tiles. A tall product reuses a whole packed panel for many row chunks.
        bool transposedPerPanel = !prepacked && transB && vector && m < PackBMinRows;
        // A large product packs even an in-place B: read in place, a panel's rows lie a whole row of B apart
        // (8 KiB when N = 2048), so they share a few cache sets and the panel cannot stay in L1. Packing costs
        // about 2/M of the product, so only tall products pay it (none of the tutorial's).
        bool allPacked = prepacked || (transB && !transposedPerPanel) || !vector || (m >= PackBMinRows && n >= PackBMinColumns);
        // A shorter product copies each panel's K block into a small buffer right before the panel's tiles read it when in
        // place its rows would share a few cache sets (4 KiB apart when N = 1024: one L1 set and a few L2 sets, so every
        // tile fetched the panel again from L3). The copy stays in L1 and costs about 1/M of the product. Threads split the
        // panels (Run), each copying only its own into a buffer of its own.
        bool packPerPanel = transposedPerPanel
            || (!allPacked && InPlacePanelThrashesL1(n, Math.Min(k, MaxKBlock)) && !ReadsSmallBInPlace(k, n, threads));
        return (allPacked, packPerPanel);
    }

    [ThreadStatic] private static bool t_copySmallB;

    /// <summary>Whether products on this thread read a small untransposed B in place (<see cref="ReadsSmallBInPlace"/>);
    /// false for the tests' and the benchmark's comparison with the per-panel copy.</summary>
    internal static bool SmallBInPlaceEnabled
    {
        get => !t_copySmallB;
        set => t_copySmallB = !value;
    }

    /// <summary>
    /// The most bytes of an untransposed B read in place however its rows fall into L1 sets by a product on
    /// <paramref name="threads"/> threads: on one, a quarter of the L2 (<paramref name="l2Bytes"/>; 0: unknown), at least
    /// 64 KiB: on Zen 4's 1 MiB L2, 256 KiB, a Dense kernel of 256 × 256, whose panels copied cost the MLP step at U=256 B=16
    /// 7 % and at B=64 3 % (bench/results/sweep-s13.md, s13-mlpsmall; an eighth, the Xeon's measured 256 KiB on its 2 MiB
    /// L2, left that kernel copied here). A 512 KiB L2 reads 128 KiB in place, a 2 MiB one 512 KiB (neither measured), so that
    /// B keeps to a share of an L2 it shares with A, C and an optimizer's update. On several threads 64 KiB: each thread then
    /// reads all of B, half of it last written by the other core's share of the update; the MLP step at U=256 B=64 on two
    /// threads took 9 % longer with its 256 KiB kernels read in place (1 of 10 rounds lower), at U=128 B=128 and B=256
    /// (64 KiB) 9–13 % less (9 of 10).
    /// </summary>
    internal static long SmallBInPlaceMaxBytes(int l2Bytes, int threads) => threads > 1 ? 64 * 1024 : Math.Max(64 * 1024, l2Bytes / 4);

    /// <summary>
    /// Whether an untransposed B of K × N floats is read in place, its rows N floats apart, even where a panel's rows share
    /// L1 sets (<see cref="InPlacePanelThrashesL1"/>): a B this small (a Dense kernel just written by the optimizer's update)
    /// stays whole in L2, from where the tiles stream a panel's rows, so copying every panel's K block into a buffer first
    /// saves nothing. One thread on the Xeon (2 MiB L2, 512-bit path), alternating in one process (bench/results/sweep-s11.md,
    /// s11-mlp128b): 64 × 128 × 128 13.3 against 14.2 µs copied, 32 rows 6.9 / 8.1, 64 × 256 × 256 52 / 55, 128 × 256 × 256
    /// 101 / 103, 16 × 256 × 256 14.1 / 18.1. The kernels and the order of every multiply-add are those of the copied panel,
    /// so the bits do not change.
    /// </summary>
    internal static bool ReadsSmallBInPlace(int k, int n, int threads) =>
        SmallBInPlaceEnabled && (long)k * n * sizeof(float) <= SmallBInPlaceMaxBytes(CacheSizes.L2Bytes, threads);

    /// <summary>
    /// Whether a packed B of <paramref name="packedBytes"/> stays in an L2 of <paramref name="l2Bytes"/> (0: unknown) from
    /// one product to the next: at most half of an L2 of at least <see cref="MinL2ForResidentPanels"/> (a recurrent kernel R
    /// of U = 256, 1 MiB, on a 2 MiB L2). A small L2 (a 512 KiB AMD EPYC's) shares itself with a step's gates and states.
    /// </summary>
    internal static bool StaysInL2(long packedBytes, int l2Bytes) => l2Bytes >= MinL2ForResidentPanels && packedBytes <= l2Bytes / 2;

    /// <summary>
    /// Whether the tiles of <see cref="AddTransposedProducts"/> fetch the next K block's rows of B and of the parts' A
    /// (<paramref name="nextBytes"/>) into L2 as they run, a share each inside their k loops: when those take at most half of
    /// an L2 of at least <see cref="MinL2ForResidentPanels"/> and, with what the current block keeps there
    /// (<paramref name="residentBytes"/>: its packed B, the A copies and every part's C), at most 7/8 of it. For an LSTM(128)
    /// with 16 features: 657 KiB beside 947 KiB. A GRU(256)'s gate pass (785 KiB beside 1.3 MiB) read 1–2 % slower with it.
    /// Otherwise the next block comes from memory when it is packed, as before (and always on a 512 KiB L2).
    /// </summary>
    internal static bool TransposedPartsPrefetchNextBlock(long nextBytes, long residentBytes, int l2Bytes) =>
        l2Bytes >= MinL2ForResidentPanels && nextBytes <= l2Bytes / 2 && nextBytes + residentBytes <= (long)l2Bytes * 7 / 8;

    [ThreadStatic] private static bool t_noTransposedPanelPrefetch;

    /// <summary>Whether the tiles of <see cref="AddTransposedProducts"/> on this thread fetch the next panel's packed block into
    /// L2 where the packed blocks do not stay there (Job.ComputeTransposedParts); false for the tests' and the benchmark's
    /// comparison with the tiles that fetch nothing.</summary>
    internal static bool TransposedPartsPrefetchPanelsEnabled
    {
        get => !t_noTransposedPanelPrefetch;
        set => t_noTransposedPanelPrefetch = !value;
    }

    [ThreadStatic] private static bool t_noTransposedTileStream;

    /// <summary>Whether the tiles of <see cref="AddTransposedProducts"/> on this thread fetch a later C tile inside their k loop
    /// (the TnPfC kernels) rather than all at once before the call; false for the benchmark's comparison.</summary>
    internal static bool TransposedPartsTileStreamEnabled
    {
        get => !t_noTransposedTileStream;
        set => t_noTransposedTileStream = !value;
    }

    /// <summary>
    /// The longest K block of <see cref="AddTransposedProducts"/> over <paramref name="k"/> rows of B, <paramref name="n"/> columns
    /// wide, for parts of <paramref name="totalRows"/> rows in all: <see cref="MaxKBlock"/>, or, where the next block of that length would not fit
    /// beside the current one (<see cref="TransposedPartsPrefetchNextBlock"/>) but one of at least
    /// <see cref="MinPrefetchingTransposedKBlock"/> rows would, the longest that fits, so that the tiles fetch the next block
    /// instead of the packing and the copies reading it from memory. Each tile then runs fewer k a call and C is read once per
    /// block more often, from L2. A GRU(256)'s reset-before gate pass (N = 512, 273 rows: 785 KiB beside 1.3 MiB at 256 rows)
    /// takes 203 rows on a 2 MiB L2; its training step at B = 256, T = 50 ran 3 % faster (bench/results/sweep-s12.md,
    /// s12-grubefore). Blocking K never changes a result: each element's chain continues from C in order.
    /// </summary>
    internal static int TransposedPartsKBlock(int k, int n, int totalRows, int l2Bytes)
    {
        long rowBytes = ((long)n + totalRows) * sizeof(float), cBytes = (long)totalRows * n * sizeof(float);
        // One block has no next one to fetch.
        if (k <= MaxKBlock || l2Bytes < MinL2ForResidentPanels || rowBytes <= 0
            || TransposedPartsPrefetchNextBlock(MaxKBlock * rowBytes, MaxKBlock * rowBytes + cBytes, l2Bytes)) return MaxKBlock;
        long fits = Math.Min(l2Bytes / 2 / rowBytes, ((long)l2Bytes * 7 / 8 - cBytes) / (2 * rowBytes));
        return fits >= MinPrefetchingTransposedKBlock ? (int)fits : MaxKBlock;
    }

    /// <summary>The shortest K block <see cref="TransposedPartsKBlock"/> takes to fetch the next one: half of
    /// <see cref="MaxKBlock"/>, so that a tile's call still runs long beside its C's load and store.</summary>
    internal const int MinPrefetchingTransposedKBlock = MaxKBlock / 2;

    /// <summary>The smallest L2 in which a packed B of half its size is taken to stay (<see cref="StaysInL2"/>).</summary>
    internal const int MinL2ForResidentPanels = 1024 * 1024;

    /// <summary>
    /// Whether the tiles ask for each next panel's K block of a packed B into L2 (see Job.ComputeKBlock): 2·kc lines per
    /// panel shared by a chunk's tiles. For a B that <see cref="StaysInL2"/> they fetch nothing and cost issue slots: without
    /// them the training step of an LSTM(256) at B = 64, T = 200 (32-row halves, 171 prefetches a tile) took 3–10 % less
    /// time, one of U = 128 at B = 16 (8-row halves) 12–15 % less, and with the prefetch inside the kernels
    /// (V512_TnPf…) the 128-row halves of U = 256 steps at B = 256 lost 2–6 % to it, which other sizes did not show
    /// (bench/results/sweep-s9.md, s9-t200 and the coordinator's sections).
    /// </summary>
    internal static bool PrefetchesPackedPanels(bool panelsStayInL2) => !panelsStayInL2;

    [ThreadStatic] private static bool t_prefetchOneKBlock;

    /// <summary>Whether products on this thread fetch the next panel's block of a packed B of one K block too
    /// (<see cref="PrefetchesNextPanelBlock"/>); true for the benchmark's comparison with the rule.</summary>
    internal static bool OneKBlockPanelPrefetchForced
    {
        get => t_prefetchOneKBlock;
        set => t_prefetchOneKBlock = value;
    }

    /// <summary>
    /// Whether the tiles of a product over <paramref name="k"/> inner steps fetch the next panel's K block of its packed B
    /// (<see cref="PrefetchesPackedPanels"/>): only where B is cut into K blocks (K over <see cref="MaxKBlock"/>), so that the
    /// next panel's block lies a block or more further on. Of one K block the packed panels lie back to back, one run from the
    /// first to the last, which the hardware prefetchers follow on their own, and the tiles' requests only cost issue slots
    /// and, at K = 256, the copy of A into tile runs that they bring (<see cref="PackRowMajorAMinKFor"/>), which puts a
    /// recurrent step's input projection in calls of its own. On the EPYC (1 MiB L2, where R of U = 256, 1 MiB, does not stay)
    /// the LSTM(256) step at B = 128, T = 50 ran 2.8 % faster without them (8 of 8 alternating rounds), U = 512 (two K
    /// blocks) 0.5 % slower, U = 1024 (four) 3.5 % slower (bench/results/sweep-s13.md, s13-lstm).
    /// </summary>
    internal static bool PrefetchesNextPanelBlock(bool panelsStayInL2, int k) =>
        PrefetchesPackedPanels(panelsStayInL2) && (k > MaxKBlock || OneKBlockPanelPrefetchForced);

    /// <summary>
    /// Whether the tiles of a product that copies each panel's K block right before them (in place, or transposed) ask for
    /// their shares of the next panel's source block into L2, a burst before each tile (x86 only), for a B of
    /// <paramref name="bBytes"/> beside an L2 of <paramref name="l2Bytes"/> (0: unknown). The 256-bit path always does; the
    /// 512-bit path only where B is larger than the L2, so that its rows come from L3 or memory for every panel. On the Zen 4
    /// EPYC (1 MiB L2, bench/results/sweep-s13.md, s13-mlp1024) the MLP step at U=1024 B=64 (W 4 MiB) ran 1.5–4 % faster
    /// with the bursts, and at U=256 B=16 (W 256 KiB, in L2) 3 % slower. On the Xeon of session 11 (2 MiB L2) the same
    /// step at U=1024 B=64 ran 2 % faster without them (6.21 against 6.08 ms, 8 of 8 rounds, bench/results/sweep-s11.md,
    /// s11-mlp1024): the rule follows the machine now in use, and the Xeon's reading is left to be taken again.
    /// </summary>
    internal static bool PrefetchesCopySources(KernelPath path, long bBytes, int l2Bytes) =>
        Sse.IsSupported && (path == KernelPath.Vector256 || (path == KernelPath.Vector512 && WideCopySourcePrefetchEnabled && bBytes > l2Bytes));

    [ThreadStatic] private static bool t_noWideCopySourcePrefetch;

    /// <summary>Whether products on this thread take the 512-bit path's copy-source bursts (<see cref="PrefetchesCopySources"/>);
    /// false for the benchmark's comparison with the tiles that fetch nothing.</summary>
    internal static bool WideCopySourcePrefetchEnabled
    {
        get => !t_noWideCopySourcePrefetch;
        set => t_noWideCopySourcePrefetch = !value;
    }

    internal static bool SplitsRows(int m, int panels, int threads, bool packPerPanel) =>
        panels < threads || (!packPerPanel && m / threads >= 12);

    /// <summary>The one-thread product for small shapes. Each C element is the same chain of operations
    /// as in <see cref="Run"/> (fused on the vector paths, multiply then add on the scalar path, p in
    /// order), so results are bit-identical to the blocked kernels for the same path.</summary>
    [SkipLocalsInit]
    private static void MultiplySmall(KernelPath path, float* a, float* b, float* c,
        int m, int k, int n, bool transA, bool transB, bool accumulate)
    {
        if (path == KernelPath.Scalar || (long)m * n * k <= TinyMaxMultiplyAdds)
        {
            MultiplyLoop(path != KernelPath.Scalar, a, b, c, m, k, n, transA, transB, accumulate);
            return;
        }

        // Columns go in chunks of 8 or more. A transposed B is packed, zero-padded to a multiple of 8.
        // Otherwise B is read in place, and a ragged last chunk reads 8 columns from where they exist:
        // when n >= 8 the 8 ending at n (the overlapped columns are computed again and dropped); when
        // n < 8 the next rows' values fill the spare lanes, and only the last rows, where 8 floats
        // would run past B, come from a zero-padded copy in `tailRows`.
        float* bRows = b;
        nint ldb = n;
        int inPlaceK = k;
        float* tailRows = stackalloc float[8 * 8];
        if (transB)
        {
            int paddedN = (n + 7) & ~7;
            bRows = Scratch((long)k * paddedN);
            ldb = paddedN;
            PackPadded(b, k, n, paddedN, transB, bRows);
        }
        else if (n < 8)
        {
            // Row p is safe to read 8 wide while p*n + 8 <= k*n.
            inPlaceK = k * n >= 8 ? (k * n - 8) / n + 1 : 0;
            for (int p = inPlaceK; p < k; p++)
                for (int j = 0; j < 8; j++) tailRows[(p - inPlaceK) * 8 + j] = j < n ? b[(nint)p * n + j] : 0f;
        }

        bool wide = path == KernelPath.Vector512;
        int vector = wide ? 16 : 8;
        float* tile = stackalloc float[GemmMicroKernels.MaxRowsV512 * 32];
        // An accumulating ragged chunk feeds the tile's spare lanes back in; keep them finite and normal.
        if (accumulate && (n & 7) != 0) new Span<float>(tile, 8 * 8).Clear();
        // Whole chunks of 32, 16 or 8 columns, so only a last chunk of 8 can be ragged.
        for (int j0 = 0; j0 < n; )
        {
            int remaining = n - j0;
            int width;
            int maxRows;
            nint[] table;
            if (remaining >= 2 * vector)
            {
                width = 2 * vector;
                maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
                table = wide
                    ? (transA ? GemmMicroKernels.V512Tn : GemmMicroKernels.V512Nn)
                    : (transA ? GemmMicroKernels.V256Tn : GemmMicroKernels.V256Nn);
            }
            else if (remaining >= 16 && wide)
            {
                width = 16;
                maxRows = GemmMicroKernels.MaxRowsNarrow;
                table = transA ? GemmMicroKernels.V512NarrowTn : GemmMicroKernels.V512NarrowNn;
            }
            else
            {
                width = 8;
                maxRows = GemmMicroKernels.MaxRowsNarrow;
                table = transA ? GemmMicroKernels.V256NarrowTn : GemmMicroKernels.V256NarrowNn;
            }
            int cols = Math.Min(width, n - j0);

            int blocks = (m + maxRows - 1) / maxRows;
            int baseRows = m / blocks, tallBlocks = m % blocks;
            int i = 0;
            for (int blk = 0; blk < blocks; blk++)
            {
                int mr = baseRows + (blk < tallBlocks ? 1 : 0);
                float* aTile = transA ? a + i : a + (nint)i * k;
                nint lda = transA ? m : k;
                var kernel = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)table[mr - 1];
                float* cTile = c + (nint)i * n + j0;
                if (cols == width)
                {
                    kernel(aTile, lda, bRows + j0, ldb, cTile, n, k, accumulate);
                }
                else
                {
                    // The ragged last chunk (8 wide) runs into a scratch tile; only the new columns go back.
                    int window = transB || n < 8 ? j0 : n - 8;
                    float* tileCols = tile + (j0 - window);
                    if (accumulate) CopyRagged(cTile, n, tileCols, 8, mr, cols);
                    // Splitting K in two keeps each element's chain in order, so the result is unchanged.
                    if (inPlaceK > 0)
                        kernel(aTile, lda, bRows + window, ldb, tile, width, inPlaceK, accumulate);
                    if (inPlaceK < k)
                        kernel(aTile + (nint)inPlaceK * (transA ? m : 1), lda, tailRows, 8, tile, width, k - inPlaceK, accumulate || inPlaceK > 0);
                    CopyRagged(tileCols, 8, cTile, n, mr, cols);
                }
                i += mr;
            }
            j0 += width;
        }
    }

    /// <summary>Copies the first <paramref name="cols"/> (fewer than 8) floats of <paramref name="rows"/> rows.</summary>
    private static void CopyRagged(float* src, nint srcStride, float* dst, nint dstStride, int rows, int cols)
    {
        if (Avx.IsSupported)
        {
            // Masked moves touch only the selected lanes, so they never read or write past the row.
            var mask = Vector256.LessThan(Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7), Vector256.Create((float)cols));
            for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride)
                Avx.MaskStore(dst, mask, Avx.MaskLoad(src, mask));
            return;
        }
        for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride)
            for (int j = 0; j < cols; j++) dst[j] = src[j];
    }

    /// <summary>The plain loop for tiny products: C row by row, p in order. <paramref name="fused"/>
    /// rounds each step once, as the vector kernels do; otherwise multiply then add, as the scalar path does.</summary>
    private static void MultiplyLoop(bool fused, float* a, float* b, float* c,
        int m, int k, int n, bool transA, bool transB, bool accumulate)
    {
        nint aRow = transA ? 1 : k, aStep = transA ? m : 1;
        nint bRow = transB ? 1 : n, bStep = transB ? k : 1;
        for (int i = 0; i < m; i++)
        {
            float* crow = c + (nint)i * n;
            if (!accumulate)
                for (int j = 0; j < n; j++) crow[j] = 0f;
            float* ai = a + i * aRow;
            for (int p = 0; p < k; p++)
            {
                float av = ai[p * aStep];
                float* bp = b + p * bRow;
                if (fused)
                    for (int j = 0; j < n; j++) crow[j] = MathF.FusedMultiplyAdd(av, bp[j * bStep], crow[j]);
                else
                    for (int j = 0; j < n; j++) crow[j] += av * bp[j * bStep];
            }
        }
    }

    private static float* Scratch(long length)
    {
        var buffer = t_scratch;
        if (buffer == null || buffer.Length - t_scratchOffset < length)
        {
            if (length > int.MaxValue - 64)
                throw new ArgumentException($"Gemm needs {length} floats of packing space, more than one array can hold. Use smaller products.");
            (t_scratch, t_scratchOffset) = AlignedBuffer.Allocate((int)Math.Max(length, 4096));
            buffer = t_scratch;
        }
        // The array is pinned (pinned object heap), so the address stays valid after `fixed` ends.
        fixed (float* p = buffer) return p + t_scratchOffset;
    }
}
