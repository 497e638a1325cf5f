using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

// The work of one product split over the worker pool: packing B panels, then computing rows or panels of C.
internal static unsafe partial class Gemm
{
    /// <summary>
    /// About how many values of C a block handed by <see cref="MultiplyHandingRows"/> holds. 128 KiB: with an Adam update's
    /// three other arrays for the same rows passing through, 512 KiB, the L2 of the smaller caches (AMD's Zen 2–3), so the
    /// block is still there when the update reads it. Settable for the tests (many blocks from small shapes) and the benchmark.
    /// </summary>
    internal static int FinishedBlockFloats = 32 * 1024;

    /// <summary>Whether <see cref="HandedBlockRows"/> shrinks blocks to fit the L2; false for the benchmark's comparison.</summary>
    internal static bool HandedBlocksFitL2 = true;

    /// <summary>
    /// Rows per block handed by <see cref="MultiplyHandingRows"/> when its last K block is <paramref name="kc"/> deep and C
    /// <paramref name="n"/> wide, beside an L2 of <paramref name="l2Bytes"/> (0: unknown): about <see cref="FinishedBlockFloats"/>
    /// values of C, fewer where that K block of B (kc × n, swept by every block) and a block's C with the update's three other
    /// arrays for its rows (4 × the block) would pass half the L2: the update's streams then push B's panels out before the
    /// next block reads them. A B that takes half the L2 alone keeps the full blocks. A whole number of the widest register
    /// tiles, at least one (blocks of a few rows would run short tiles and fetch each B panel for little work). On the Zen 4
    /// EPYC (1 MiB L2; bench/results/sweep-s13.md, s13-mlp1024) the MLP step at U=1024 B=64 (B 256 KiB) ran 3–5 % faster
    /// with blocks of 12 rows than of 24.
    /// </summary>
    internal static int HandedBlockRows(KernelPath path, int kc, int n, int l2Bytes)
    {
        int tile = path == KernelPath.Vector512 ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        long blockFloats = FinishedBlockFloats, room = (long)l2Bytes / 2 - (long)kc * n * sizeof(float);
        if (HandedBlocksFitL2 && l2Bytes > 0 && room > 0) blockFloats = Math.Min(blockFloats, room / (4 * sizeof(float)));
        return (int)Math.Max(1, blockFloats / Math.Max(n, 1) / tile) * tile;
    }

    // Below this many panels per K block, copying A costs more than its misses.
    private const int MinPanelsToPackA = 2;

    // A transposed A at most this many floats a row is read in place where its K block's rows stay in L1 (below).
    private const int TransposedAInPlaceMaxRowFloats = 128;

    /// <summary>
    /// Whether a transposed A (stored (K, M)) is copied into tile runs for a K block of <paramref name="kc"/> rows read by
    /// <paramref name="panels"/> panels. Rows of at most <see cref="TransposedAInPlaceMaxRowFloats"/> floats (512 bytes)
    /// whose K block stays in an 8-way L1 (<see cref="InPlacePanelThrashesL1"/>: at M = 128 up to 64 rows) are read in
    /// place: the copy then cost more than it saved. Alternating in one process (thread CPU, Xeon with a 48 KiB 12-way
    /// L1, 512-bit path, bench/results/sweep-s10.md, s10-mlp): the MLP's dW at M = 128, K = 64, N = 128 15.8 against
    /// 14.0 µs in place, M = 64 4.7 / 3.6, M = 96 11.8 / 10.3; M = 16 and 32 with K in the thousands within 2 %. Longer
    /// rows (a tile's K rows 1–4 KiB apart, a few L1 sets) and longer K blocks are still copied.
    /// </summary>
    internal static bool CopiesTransposedA(int m, int kc, int panels) =>
        panels >= MinPanelsToPackA && (m > TransposedAInPlaceMaxRowFloats || InPlacePanelThrashesL1(m, kc));

    private sealed class Job : IParallelWork
    {
        public const int PackPhase = 0, ComputePhase = 1;

        public KernelPath Path;
        public float* A, B, Packed, C;
        public int M, K, N, Panels, Parts, Phase;
        public bool TransA, TransB, Accumulate, AllPacked, SplitRows, PackPerKBlock, PackPerPanel, PanelsStayInL2;
        // MultiplyWithLead: (M, LeadK) row-major, LeadB packed, and the row that starts C (null: zero).
        public float* Lead, LeadPacked, LeadInit;
        public int LeadK;
        // MultiplyHandingRows: gets each block of C's rows once final, on the thread that computed it, under the caller's path.
        public IFinishedRows? Finished;
        public KernelPath? FinishedPath;
        // Lines the tiles of a one-part product fetch into L2 for the caller, a share each: the next share starts at line
        // _sideNext, spread over about _sideTilesLeft tiles still to run.
        public SidePrefetch Side;
        private int _sideNext, _sideTilesLeft;

        public void Run(int part)
        {
            if (Phase == PackPhase)
            {
                int p0 = Panels * part / Parts, p1 = Panels * (part + 1) / Parts;
                for (int jp = p0; jp < p1; jp++)
                    PackPanel(B, K, N, TransB, jp, Packed + (nint)jp * K * Panel);
                return;
            }
            // The receiver of finished rows may run kernels of its own: on this worker, with the caller's forced path.
            var saved = KernelSelector.Forced;
            if (Finished != null) KernelSelector.Forced = FinishedPath;
            try
            {
                if (SplitRows) Compute(M * part / Parts, M * (part + 1) / Parts, 0, Panels);
                else Compute(0, M, Panels * part / Parts, Panels * (part + 1) / Parts);
            }
            finally
            {
                if (Finished != null) KernelSelector.Forced = saved;
            }
        }

        public void Compute(int r0, int r1, int p0, int p1)
        {
            if (r0 >= r1 || p0 >= p1) return;
            if (Path == KernelPath.Scalar) ComputeScalar(r0, r1, p0, p1);
            else ComputeBlocked(r0, r1, p0, p1);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ComputeBlocked(int r0, int r1, int p0, int p1)
        {
            int kBlocks = (K + MaxKBlock - 1) / MaxKBlock;
            if (Side.Lines > 0)
            {
                int tileRows = Path == KernelPath.Vector512 ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
                int tileWidth = Path == KernelPath.Vector512 ? 32 : 16;
                _sideNext = 0;
                _sideTilesLeft = kBlocks * (p1 - p0) * (Panel / tileWidth) * ((r1 - r0 + tileRows - 1) / tileRows);
            }
            // Each thread copies its panels into a buffer of its own.
            float* panelBuffer = PackPerPanel ? Scratch((long)Math.Min(K, MaxKBlock) * Panel) : null;
            for (int kb = 0; kb < kBlocks; kb++)
            {
                int k0 = K * kb / kBlocks, kc = K * (kb + 1) / kBlocks - k0;
                bool acc = Accumulate || kb > 0;
                if (PackPerKBlock)
                    for (int jp = p0; jp < p1; jp++) PackPanel(B + (nint)k0 * N, kc, N, false, jp, Packed + (nint)jp * kc * Panel);
                // Rows go in chunks whose A block (rows × kc) stays in L2 while the chunk sweeps every panel;
                // without them a tall A (e.g. 512 × 341 of a 512×1024×1024 product) is fetched from memory once per panel.
                int rows = r1 - r0;
                if (Finished != null && kb == kBlocks - 1)
                {
                    // The last K block finishes rows: in blocks small enough that C's block stays in L2 until the receiver
                    // reads it (with the weight and moments it streams beside it); each sweeps every panel, so B is read
                    // from L2 once per block.
                    int step = FinishedBlockRows(kc);
                    for (int first = r0; first < r1; first += step)
                    {
                        int end = Math.Min(first + step, r1);
                        ComputeKBlock(first, end, p0, p1, k0, kc, acc, lead: kb == 0 && Lead != null, panelBuffer);
                        Finished.RowsFinished(first, end);
                    }
                    continue;
                }
                int chunks = Math.Max(1, Math.Min((int)((long)rows * kc / MaxABlockFloats), rows / MinChunkRows));
                for (int chunk = 0; chunk < chunks; chunk++)
                    ComputeKBlock(r0 + rows * chunk / chunks, r0 + rows * (chunk + 1) / chunks, p0, p1, k0, kc, acc, lead: kb == 0 && Lead != null, panelBuffer);
            }
            // Tiles fewer than counted (a ragged panel's narrow kernels) leave lines over.
            if (Sse.IsSupported)
                while (_sideNext < Side.Lines)
                {
                    float* line = Side.Line(_sideNext, out int inRun);
                    for (int q = 0; q < inRun; q++) Sse.Prefetch1(line + q * FloatsPerLine);
                    _sideNext += inRun;
                }
        }

        /// <summary>The next tile's share of <see cref="Side"/>: the lines from <paramref name="start"/> on, within one run.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int TakeSideShare(out float* start)
        {
            int left = Side.Lines - _sideNext;
            if (left <= 0)
            {
                start = null;
                return 0;
            }
            int tiles = Math.Max(1, _sideTilesLeft);
            int share = (left + tiles - 1) / tiles;
            if (_sideTilesLeft > 1) _sideTilesLeft--;
            start = Side.Line(_sideNext, out int inRun);
            share = Math.Min(share, inRun);
            _sideNext += share;
            return share;
        }

        /// <summary>Rows per block handed to <see cref="Finished"/> when the last K block is <paramref name="kc"/> deep
        /// (<see cref="HandedBlockRows"/>).</summary>
        private int FinishedBlockRows(int kc) => HandedBlockRows(Path, kc, N, CacheSizes.L2Bytes);

        // A block of at most 64 K floats (256 KiB) leaves half of a 512 KiB L2 to C and B.
        private const int MaxABlockFloats = 64 * 1024;
        // Chunks never get shorter than a few register tiles, so each B panel still serves several of them.
        private const int MinChunkRows = 48;
        private const int FloatsPerLine = 16;

        /// <summary>C[r0..r1, panels p0..p1] (+)= A[r0..r1, k0..k0+kc] · B[k0..k0+kc, panels]: one K block, each
        /// B panel held near L1 while the rows' register tiles stream past it.</summary>
        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ComputeKBlock(int r0, int r1, int p0, int p1, int k0, int kc, bool acc, bool lead, float* panelBuffer)
        {
            bool wide = Path == KernelPath.Vector512;
            int width = wide ? 32 : 16;
            int maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
            nint[] table = wide
                ? (TransA ? GemmMicroKernels.V512Tn : GemmMicroKernels.V512Nn)
                : (TransA ? GemmMicroKernels.V256Tn : GemmMicroKernels.V256Nn);
            nint[] leadTable = wide ? GemmMicroKernels.V512LeadNn : GemmMicroKernels.V256LeadNn;
            float* tile = stackalloc float[GemmMicroKernels.MaxRowsV512 * 32];

            int rows = r1 - r0;
            int blocks = (rows + maxRows - 1) / maxRows;
            int baseRows = rows / blocks, tallBlocks = rows % blocks;
            // A transposed A read in place puts a tile's K rows a whole row of A apart (2 KiB when M = 512): they
            // fall into a few L1 sets and every broadcast misses. Copied once per K block into one run per tile,
            // each K row's MR values side by side, they stream; the values and their order are unchanged.
            // An untransposed A with long rows has the same trouble the other way round: a tile's MR rows lie K floats
            // apart (4 KiB at K = 1024, one L1 set), beside a packed B sub-panel that fills half the sets (every other
            // line of its 128-byte rows). Copied into tile runs they are read by the rows-contiguous kernels: the
            // same multiply-adds in the same order, so the bits do not change.
            bool prefetchPanels = PrefetchesPanels(AllPacked, PackPerKBlock) && PrefetchesNextPanelBlock(PanelsStayInL2, K);
            float* aPacked = TransA
                ? (CopiesTransposedA(M, kc, p1 - p0) ? PackTransposedA(r0, rows, k0, kc, blocks, baseRows, tallBlocks) : null)
                : ((AllPacked || PackPerPanel) && K >= PackRowMajorAMinKFor(prefetchPanels) && p1 - p0 >= PackRowMajorAMinPanels ? PackRowMajorA(r0, rows, k0, kc, blocks, baseRows, tallBlocks) : null);
            // The lead (row-major, its own K) still runs the kernels of `table`.
            nint[] packedTable = aPacked == null || TransA ? table : wide ? GemmMicroKernels.V512Tn : GemmMicroKernels.V256Tn;
            nint[] pfTable = wide ? GemmMicroKernels.V512TnPf : GemmMicroKernels.V256TnPf;
            nint[] nnPfTable = wide ? GemmMicroKernels.V512NnPf : GemmMicroKernels.V256NnPf;
            nint[] leadPfTable = wide ? GemmMicroKernels.V512LeadNnPf : GemmMicroKernels.V256LeadNnPf;
            bool side = Sse.IsSupported && Side.Lines > 0;

            // How far ahead C is fetched: about one tile's time of multiply-adds must cover a miss to memory.
            int prefetchRows = !Sse.IsSupported ? 0 : baseRows * Math.Clamp(256 / kc, 1, 8);

            // A packed B panel block (kc × 32 floats, contiguous) is fetched from memory or L3 by the first tile that reads
            // it, and the next block lies a whole panel (K × 32 floats) further on, so the hardware prefetcher restarts
            // at every panel: a few rows on a large B (a step's h·R when R is 16 MB and a half has 32 rows) then wait on
            // memory for half their time. Each tile instead asks for its share of the next panel's block into L2 (not
            // L1, where it would evict the panel in use). A prefetch changes no value. Asked for all at once before each tile,
            // a tile's share (85 lines of a 64-row product) filled the line-fill buffers and stalled the core until L3 answered
            // (a tenth of a U = 1024 step, bench/results/sweep-s9.md, s9-rec); a tile that runs the rows-contiguous kernels
            // (A copied into tile runs) hands its share to a kernel that asks for a line every two k instead. Not for a B that stays in L2
            // (Gemm.PrefetchesPackedPanels): there they fetch nothing.
            int tilesPerPanel = Panel / width * blocks;
            int linesPerBlock = kc * Panel / FloatsPerLine;
            // A panel copied right before its tiles (PackPerPanel) is read from where B lies: in place, its K block's rows
            // are a row of B apart (4 KiB when N = 1024), each in another page, so the hardware prefetchers never run ahead
            // and the copy waits on L3 for every row; transposed, its 32 stored rows are short runs. Each tile asks for its
            // share of the next panel's source block into L2, as above, so the copy reads L2 (PrefetchesCopySources).
            bool prefetchCopies = PackPerPanel && PrefetchesCopySources(Path, (long)K * N * sizeof(float), CacheSizes.L2Bytes);
            int copyRowsPerBlock = TransB ? Panel : kc;
            for (int jp = p0; jp < p1; jp++)
            {
                float* nextBlock = prefetchPanels && jp + 1 < p1 ? Packed + ((nint)(jp + 1) * K + k0) * Panel : null;
                float* nextSource = null;
                if (prefetchCopies && jp + 1 < p1 && (jp + 1) * Panel < N)
                    nextSource = TransB ? B + (nint)(jp + 1) * Panel * K + k0 : B + (nint)k0 * N + (jp + 1) * Panel;
                int tileOfCopy = 0;
                int tileOfPanel = 0;
                float* bPanel;
                nint ldb;
                if (PackPerKBlock) { bPanel = Packed + (nint)jp * kc * Panel - (nint)k0 * Panel; ldb = Panel; }
                else if (PackPerPanel)
                {
                    // A transposed B's K block: 32 stored rows, kc values of each from k0. The copy is laid out as the
                    // kernels' sub-panels one after the other (16 wide on the 256-bit path), each read as whole lines.
                    if (TransB) PackPanelBlock(B + k0, kc, N, true, jp, panelBuffer, K, width);
                    else PackPanelBlock(B + (nint)k0 * N, kc, N, false, jp, panelBuffer, N, width);
                    bPanel = panelBuffer;
                    ldb = width;
                }
                else if (AllPacked) { bPanel = Packed + (nint)jp * K * Panel; ldb = Panel; }
                else if ((jp + 1) * Panel <= N) { bPanel = B + jp * Panel; ldb = N; }
                else { bPanel = Packed; ldb = Panel; }
                if (!PackPerPanel) bPanel += k0 * ldb;

                for (int s = 0; s < Panel; s += width)
                {
                    int j0 = jp * Panel + s;
                    int cols = Math.Min(width, N - j0);
                    if (cols <= 0) break;
                    float* bSub = PackPerPanel ? bPanel + (nint)s * kc : bPanel + s;
                    // A ragged last chunk that fits one vector (e.g. 4 of 32 columns when N = 100) runs
                    // the one-vector kernels: half (or a quarter) of the multiply-adds, same chains.
                    int chunkWidth = width, chunkBlocks = blocks, chunkBase = baseRows, chunkTall = tallBlocks;
                    nint[] chunkTable = table;
                    if (cols <= width / 2)
                    {
                        chunkWidth = cols <= 8 ? 8 : 16;
                        chunkTable = chunkWidth == 16
                            ? (TransA ? GemmMicroKernels.V512NarrowTn : GemmMicroKernels.V512NarrowNn)
                            : (TransA ? GemmMicroKernels.V256NarrowTn : GemmMicroKernels.V256NarrowNn);
                        chunkBlocks = (rows + GemmMicroKernels.MaxRowsNarrow - 1) / GemmMicroKernels.MaxRowsNarrow;
                        chunkBase = rows / chunkBlocks;
                        chunkTall = rows % chunkBlocks;
                    }
                    int i = r0;
                    for (int blk = 0; blk < chunkBlocks; blk++)
                    {
                        int mr = chunkBase + (blk < chunkTall ? 1 : 0);
                        float* aTile;
                        nint lda;
                        if (aPacked != null && chunkTable == table) { aTile = aPacked + (nint)(i - r0) * kc; lda = mr; }
                        else if (TransA) { aTile = A + (nint)k0 * M + i; lda = M; }
                        else { aTile = A + (nint)i * K + k0; lda = K; }
                        var kernel = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)chunkTable[mr - 1];
                        var aKernel = aPacked != null && chunkTable == table
                            ? (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)packedTable[mr - 1] : kernel;
                        float* cTile = C + (nint)i * N + j0;
                        // C rows lie a row of C apart and a tile touches each once per K block, so a C that does not stay
                        // in L2 (a step's gates, B·4U) costs a miss per row at every tile start: fetch a later tile's rows now.
                        if (prefetchRows > 0 && i + prefetchRows + mr <= r1)
                        {
                            float* ahead = cTile + (nint)prefetchRows * N;
                            for (int r = 0; r < mr; r++, ahead += N)
                            {
                                Sse.Prefetch0(ahead);
                                Sse.Prefetch0(ahead + chunkWidth - 1);
                            }
                        }
                        if (nextSource != null)
                        {
                            // Written out here rather than called: a helper the JIT left out of line ran its first tiers
                            // (tiered PGO) through a whole 0.3 s warm-up at 4× the step time of the MLP U=128 B=64.
                            int first = copyRowsPerBlock * tileOfCopy / tilesPerPanel;
                            int last = Math.Min(copyRowsPerBlock, copyRowsPerBlock * ++tileOfCopy / tilesPerPanel);
                            nint sourceStride = TransB ? K : N;
                            int runLength = TransB ? kc : Panel;
                            for (int r = first; r < last; r++)
                            {
                                float* run = nextSource + r * sourceStride;
                                // A run need not start on a line: its last float's line closes it.
                                for (int j = 0; j < runLength; j += FloatsPerLine) Sse.Prefetch1(run + j);
                                Sse.Prefetch1(run + runLength - 1);
                            }
                        }
                        bool spread = nextBlock != null && aPacked != null && chunkTable == table && cols == chunkWidth;
                        int firstLine = 0, lastLine = 0;
                        if (nextBlock != null)
                        {
                            firstLine = linesPerBlock * tileOfPanel / tilesPerPanel;
                            lastLine = Math.Min(linesPerBlock, linesPerBlock * ++tileOfPanel / tilesPerPanel);
                            if (!spread)
                                for (int line = firstLine; line < lastLine; line++) Sse.Prefetch1(nextBlock + line * FloatsPerLine);
                        }
                        float* leadB = lead ? LeadPacked + (nint)jp * LeadK * Panel + s : null;
                        float* sideStart = null;
                        int sideLines = side ? TakeSideShare(out sideStart) : 0;
                        // The side share goes inside the kernels that take one (untransposed A read in place), else all at once here.
                        bool sideInKernel = sideLines > 0 && cols == chunkWidth && chunkTable == table && aPacked == null && !TransA;
                        if (sideLines > 0 && !sideInKernel)
                            for (int q = 0; q < sideLines; q++) Sse.Prefetch1(sideStart + q * FloatsPerLine);
                        if (cols == chunkWidth && lead && chunkTable == table && aPacked == null)
                        {
                            // Init row, lead and product in one call: the tile never leaves the registers in between.
                            float* init = LeadInit == null ? null : LeadInit + j0;
                            if (sideInKernel)
                            {
                                var leadKernelPf = (delegate* managed<float*, float*, nint, float*, float*, nint, float*, nint, float*, nint, nint, float*, nint, void>)leadPfTable[mr - 1];
                                leadKernelPf(Lead + (nint)i * LeadK, leadB, LeadK, init, aTile, lda, bSub, ldb, cTile, N, kc, sideStart, sideLines);
                            }
                            else
                            {
                                var leadKernel = (delegate* managed<float*, float*, nint, float*, float*, nint, float*, nint, float*, nint, nint, void>)leadTable[mr - 1];
                                leadKernel(Lead + (nint)i * LeadK, leadB, LeadK, init, aTile, lda, bSub, ldb, cTile, N, kc);
                            }
                        }
                        else if (cols == chunkWidth)
                        {
                            if (lead) RunLead(kernel, i, mr, leadB, cTile, N, chunkWidth, j0, cols);
                            if (spread)
                            {
                                var prefetchingKernel = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, void>)pfTable[mr - 1];
                                prefetchingKernel(aTile, lda, bSub, ldb, cTile, N, kc, acc || lead, nextBlock + firstLine * FloatsPerLine, lastLine - firstLine);
                            }
                            else if (sideInKernel)
                            {
                                var sideKernel = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, void>)nnPfTable[mr - 1];
                                sideKernel(aTile, lda, bSub, ldb, cTile, N, kc, acc || lead, sideStart, sideLines);
                            }
                            else
                                aKernel(aTile, lda, bSub, ldb, cTile, N, kc, acc || lead);
                        }
                        else
                        {
                            // A partial tile runs full width into a scratch tile, then only the valid columns go back.
                            if (acc)
                                for (int r = 0; r < mr; r++)
                                    for (int j = 0; j < cols; j++) tile[r * chunkWidth + j] = cTile[r * N + j];
                            if (lead) RunLead(kernel, i, mr, leadB, tile, chunkWidth, chunkWidth, j0, cols);
                            aKernel(aTile, lda, bSub, ldb, tile, chunkWidth, kc, acc || lead);
                            for (int r = 0; r < mr; r++)
                                for (int j = 0; j < cols; j++) cTile[r * N + j] = tile[r * chunkWidth + j];
                        }
                        i += mr;
                    }
                }
            }
        }

        /// <summary>The lead's part of one tile (rows i.., columns j0..j0+cols of a tile <paramref name="width"/> wide at
        /// <paramref name="target"/>): the tile set to the init row (spare lanes zero), then lead·leadB added.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunLead(delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void> kernel,
            int i, int mr, float* leadB, float* target, nint ldt, int width, int j0, int cols)
        {
            if (LeadInit != null)
                for (int r = 0; r < mr; r++)
                {
                    float* row = target + r * ldt;
                    int j = 0;
                    for (; j + 8 <= cols; j += 8) Vector256.Store(Vector256.Load(LeadInit + j0 + j), row + j);
                    for (; j < cols; j++) row[j] = LeadInit[j0 + j];
                    for (; j < width; j++) row[j] = 0f;
                }
            kernel(Lead + (nint)i * LeadK, LeadK, leadB, Panel, target, ldt, LeadK, LeadInit != null);
        }

        [ThreadStatic] private static (nint A, nint C, int Rows)[]? t_tiles;

        /// <summary>The work of <see cref="AddTransposedProducts"/>: per K block, B packed once, every part's A copied into
        /// tile runs (ones for a column sum), then the tiles in chunks whose A stays in L2 sweep the panels.</summary>
        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void ComputeTransposedParts(ReadOnlySpan<TransposedProductPart> parts)
        {
            bool wide = Path == KernelPath.Vector512;
            int width = wide ? 32 : 16;
            int maxRows = wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
            nint[] table = wide ? GemmMicroKernels.V512Tn : GemmMicroKernels.V256Tn;
            int totalRows = 0, tileCount = 0;
            foreach (var part in parts)
            {
                totalRows += part.Rows;
                tileCount += (part.Rows + maxRows - 1) / maxRows;
            }
            if (t_tiles == null || t_tiles.Length < tileCount) t_tiles = new (nint, nint, int)[Math.Max(tileCount, 64)];
            var tiles = t_tiles;
            int maxKBlock = TransposedPartsKBlock(K, N, totalRows, CacheSizes.L2Bytes);
            int kBlocks = (K + maxKBlock - 1) / maxKBlock;
            for (int kb = 0; kb < kBlocks; kb++)
            {
                int k0 = K * kb / kBlocks, kc = K * (kb + 1) / kBlocks - k0;
                PackRowsIntoPanels(B + (nint)k0 * N, kc, N, Packed);
                // The tiles fetch the next K block's rows of B and of every A (read from memory by the packing and the copies
                // otherwise) where they fit beside this block's.
                Side = default;
                int next = k0 + kc, nextRows = K * (kb + 2) / kBlocks - next;
                long resident = ((long)kc * (N + totalRows) + (long)totalRows * N) * sizeof(float);
                if (kb + 1 < kBlocks && TransposedPartsPrefetchNextBlock((long)nextRows * (N + totalRows) * sizeof(float), resident, CacheSizes.L2Bytes))
                {
                    Side.Add(B + (nint)next * N, (long)nextRows * N);
                    foreach (var part in parts)
                        if (part.A != null) Side.Add(part.A + (nint)next * part.Rows, (long)nextRows * part.Rows);
                }
                long length = (long)totalRows * kc;
                if (t_aPacked == null || t_aPacked.Length - t_aPackedOffset < length)
                    (t_aPacked, t_aPackedOffset) = AlignedBuffer.Allocate((int)Math.Max(length, 4096));
                float* dst;
                fixed (float* p = t_aPacked) dst = p + t_aPackedOffset; // pinned: the address outlives `fixed`
                int t = 0;
                foreach (var part in parts)
                {
                    int blocks = (part.Rows + maxRows - 1) / maxRows;
                    if (blocks == 0) continue;
                    int baseRows = part.Rows / blocks, tallBlocks = part.Rows % blocks, i = 0;
                    if (part.A == null)
                        for (int q = 0; q < kc * part.Rows; q++) dst[q] = 1f;
                    else
                        CopyTransposedTiles(part.A + (nint)k0 * part.Rows, part.Rows, part.Rows, kc, blocks, baseRows, tallBlocks, dst);
                    for (int blk = 0; blk < blocks; blk++)
                    {
                        int mr = baseRows + (blk < tallBlocks ? 1 : 0);
                        tiles[t++] = ((nint)dst, (nint)(part.C + (nint)i * N), mr);
                        dst += kc * mr;
                        i += mr;
                    }
                }
                // Tiles in chunks of equal rows whose A block (rows × kc) stays near 256 KiB while the chunk sweeps every
                // panel; a chunk of a few rows would fetch the packed B block again for little work.
                int chunks = Math.Clamp((int)Math.Round((double)totalRows * kc / MaxABlockFloats), 1, Math.Max(1, totalRows / MinChunkRows));
                int chunkRows = (totalRows + chunks - 1) / chunks;
                bool prefetchC = Sse.IsSupported;
                bool side = Sse.IsSupported && Side.Lines > 0;
                nint[] pfTable = wide ? GemmMicroKernels.V512TnPf : GemmMicroKernels.V256TnPf;
                nint[] tileTable = wide ? GemmMicroKernels.V512TnPfC : GemmMicroKernels.V256TnPfC;
                if (side)
                {
                    _sideNext = 0;
                    _sideTilesLeft = t * Panels * (Panel / width);
                }
                // A packed block that does not stay in L2 (3.4 MiB for an LSTM(1024)'s 213 rows of 4096 gate gradients) is
                // read back from L3 by each chunk, and each panel's block lies in pages of its own, where the hardware
                // prefetchers start afresh: the first tiles of every panel waited on L3. As in ComputeKBlock, each tile asks
                // for its share of the next panel's block into L2 inside its k loop (a line every two k). The last panel
                // of a chunk fetches the first for the next chunk. Not where the side prefetch runs (the block stays in L2 there).
                bool prefetchPanels = Sse.IsSupported && !side && Panels > 1 && TransposedPartsPrefetchPanelsEnabled
                    && PrefetchesPackedPanels(StaysInL2((long)Panels * kc * Panel * sizeof(float), CacheSizes.L2Bytes));
                int linesPerBlock = kc * Panel / FloatsPerLine;
                for (int first = 0; first < t;)
                {
                    int end = first, rows = 0;
                    while (end < t && rows < chunkRows) rows += tiles[end++].Rows;
                    int tilesPerPanel = (end - first) * (Panel / width);
                    for (int jp = 0; jp < Panels; jp++)
                    {
                        float* bPanel = Packed + (nint)jp * kc * Panel;
                        int nextPanel = jp + 1 < Panels ? jp + 1 : end < t ? 0 : -1;
                        float* nextBlock = prefetchPanels && nextPanel >= 0 ? Packed + (nint)nextPanel * kc * Panel : null;
                        int tileOfPanel = 0;
                        for (int s = 0; s < Panel; s += width)
                            for (int q = first; q < end; q++)
                            {
                                var (aTile, cTile, mr) = tiles[q];
                                float* tileAhead = null;
                                int rowsAhead = 0;
                                if (prefetchC)
                                {
                                    tileAhead = TransposedPartTileAhead(tiles, q, first, end, jp * Panel + s, width, out rowsAhead);
                                    if (!TransposedPartsTileStreamEnabled)
                                    {
                                        for (int r = 0; r < rowsAhead; r++, tileAhead += N)
                                        {
                                            Sse.Prefetch0(tileAhead);
                                            Sse.Prefetch0(tileAhead + width - 1);
                                        }
                                        rowsAhead = 0;
                                    }
                                }
                                float* sideStart = null;
                                int sideLines = side ? TakeSideShare(out sideStart) : 0;
                                if (nextBlock != null)
                                {
                                    int firstLine = linesPerBlock * tileOfPanel / tilesPerPanel;
                                    int lastLine = Math.Min(linesPerBlock, linesPerBlock * ++tileOfPanel / tilesPerPanel);
                                    sideStart = nextBlock + firstLine * FloatsPerLine;
                                    sideLines = lastLine - firstLine;
                                }
                                if (rowsAhead > 0)
                                {
                                    // The later tile's rows go inside the kernel's k loop, a row every few k, not as a burst here.
                                    var streaming = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, float*, nint, void>)tileTable[mr - 1];
                                    streaming((float*)aTile, mr, bPanel + s, Panel, (float*)cTile + jp * Panel + s, N, kc, true, sideStart, sideLines, tileAhead, rowsAhead);
                                    continue;
                                }
                                if (sideLines > 0)
                                {
                                    var prefetching = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, void>)pfTable[mr - 1];
                                    prefetching((float*)aTile, mr, bPanel + s, Panel, (float*)cTile + jp * Panel + s, N, kc, true, sideStart, sideLines);
                                    continue;
                                }
                                var kernel = (delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)table[mr - 1];
                                kernel((float*)aTile, mr, bPanel + s, Panel, (float*)cTile + jp * Panel + s, N, kc, true);
                            }
                    }
                    first = end;
                }
            }
            Side = default;
        }


        // How many tile calls ahead a transposed part's C tile is fetched: a call of kc = 256 takes about 0.5 µs, a miss to memory 0.1.
        private const int TransposedPrefetchTiles = 2;

        /// <summary>
        /// The C tile that the call <see cref="TransposedPrefetchTiles"/> after tile <paramref name="q"/> at column
        /// <paramref name="column"/> will update (the chunk's tiles go down the rows, then the next 16 or 32 columns): its first
        /// row's start, and its rows (<paramref name="rows"/>, 0 past the chunk's last column). C is a whole weight gradient
        /// (dR of U = 1024 is 16 MiB), read and written once per K block, so each tile's rows otherwise come from L3 or memory
        /// when its call starts, a row of C apart. A prefetch changes no value.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private float* TransposedPartTileAhead((nint A, nint C, int Rows)[] tiles, int q, int first, int end, int column, int width, out int rows)
        {
            rows = 0;
            int ahead = q + TransposedPrefetchTiles;
            if (ahead >= end)
            {
                ahead -= end - first;
                column += width;
            }
            if (ahead >= end || column >= N) return null;
            var (_, cAhead, tileRows) = tiles[ahead];
            rows = tileRows;
            return (float*)cAhead + column;
        }

        /// <summary>
        /// Rows [0, <paramref name="kc"/>) of a row-major B with N (a multiple of 32) columns as panels of 32 columns, panel
        /// after panel, the layout <see cref="PackPanel(float*, int, int, bool, int, float*)"/> writes: row by row, so B is read in order (it is often a tall gradient
        /// just written, coming back from L3), instead of panel by panel with a whole row between reads.
        /// </summary>
        private static void PackRowsIntoPanels(float* b, int kc, int n, float* dst)
        {
            int panels = n / Panel;
            nint panelStride = (nint)kc * Panel;
            for (int p = 0; p < kc; p++, b += n)
            {
                float* target = dst + p * Panel;
                for (int jp = 0; jp < panels; jp++, target += panelStride)
                {
                    float* source = b + jp * Panel;
                    Vector256.Store(Vector256.Load(source), target);
                    Vector256.Store(Vector256.Load(source + 8), target + 8);
                    Vector256.Store(Vector256.Load(source + 16), target + 16);
                    Vector256.Store(Vector256.Load(source + 24), target + 24);
                }
            }
        }


        [ThreadStatic] private static float[]? t_aPacked;
        [ThreadStatic] private static int t_aPackedOffset;

        /// <summary>A[k0..k0+kc, r0..r0+rows] of a transposed A (stored (K,M)) as one run per register tile of the
        /// row-block split: tile rows start at (i − r0)·kc and hold kc groups of its MR values.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private float* PackTransposedA(int r0, int rows, int k0, int kc, int blocks, int baseRows, int tallBlocks)
        {
            long length = (long)rows * kc;
            if (t_aPacked == null || t_aPacked.Length - t_aPackedOffset < length)
                (t_aPacked, t_aPackedOffset) = AlignedBuffer.Allocate((int)Math.Max(length, 4096));
            float* packed;
            fixed (float* p = t_aPacked) packed = p + t_aPackedOffset; // pinned: the address outlives `fixed`
            CopyTransposedTiles(A + (nint)k0 * M + r0, M, M - r0, kc, blocks, baseRows, tallBlocks, packed);
            return packed;
        }

        // How many rows of A ahead CopyTransposedTiles asks for.
        private const int CopyPrefetchRows = 4;

        /// <summary>
        /// Rows [0, kc) and columns [0, rows) of a transposed A (<paramref name="a"/> at its first value, K rows
        /// <paramref name="lda"/> apart) as one run per register tile of the row-block split (<paramref name="blocks"/> tiles of
        /// <paramref name="baseRows"/> rows, the first <paramref name="tallBlocks"/> one taller): the tile at column i starts at
        /// <paramref name="dst"/> + i·kc and holds kc groups of its MR values. A's rows are read one after another, each once,
        /// in order: tile by tile, a tile's kc reads lay a row of A apart (4 KiB when A is a Dense layer's 1024 inputs), fell
        /// into a few cache sets and came back from L3 for every tile. <paramref name="readable"/>: values readable from the
        /// start of each row.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void CopyTransposedTiles(float* a, nint lda, int readable, int kc, int blocks, int baseRows, int tallBlocks, float* dst)
        {
            bool vector = Vector256.IsHardwareAccelerated;
            // The 512-bit path's tiles are 9 to 12 rows tall: one 16-wide move per group, the spare values landing in the
            // next group as above (fewer than the group's own, so still inside the tile).
            bool vector512 = Vector512.IsHardwareAccelerated;
            int columns = blocks * baseRows + tallBlocks;
            for (int p = 0; p < kc; p++, a += lda)
            {
                // The rows lie apart and each is short (a few hundred values), too short for the hardware to fetch ahead.
                if (Sse.IsSupported && p + CopyPrefetchRows < kc)
                    for (int j = 0; j < columns; j += FloatsPerLine) Sse.Prefetch0(a + CopyPrefetchRows * lda + j);
                // 8 wide, the spare values landing in the tile's next group, which the next row writes (from 4 rows they stay
                // in the tile); the last row's groups go value by value.
                bool wide = vector && p < kc - 1;
                int i = 0;
                for (int blk = 0; blk < blocks; blk++)
                {
                    int mr = baseRows + (blk < tallBlocks ? 1 : 0);
                    float* group = dst + (nint)i * kc + p * mr;
                    if (wide && mr >= 4 && mr <= 8 && i + 8 <= readable) Vector256.Store(Vector256.Load(a + i), group);
                    else if (wide && vector512 && mr >= 9 && mr <= 16 && i + 16 <= readable) Vector512.Store(Vector512.Load(a + i), group);
                    else if (vector && mr >= 8 && mr <= 16)
                    {
                        // The last row, or a last tile short of readable values: two moves that overlap inside the group
                        // touch neither the next group nor past the row (value by value this was a third of the copy's
                        // moves at M = 128, K = 64).
                        Vector256.Store(Vector256.Load(a + i), group);
                        Vector256.Store(Vector256.Load(a + i + mr - 8), group + mr - 8);
                    }
                    else if (vector && mr >= 4 && mr <= 8)
                    {
                        Vector128.Store(Vector128.Load(a + i), group);
                        Vector128.Store(Vector128.Load(a + i + mr - 4), group + mr - 4);
                    }
                    else
                        for (int r = 0; r < mr; r++) group[r] = a[i + r];
                    i += mr;
                }
            }
        }

        /// <summary>A[r0..r0+rows, k0..k0+kc] of an untransposed A as one run per register tile, the layout of
        /// <see cref="PackTransposedA"/>: tile rows start at (i − r0)·kc and hold kc groups of its MR values.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private float* PackRowMajorA(int r0, int rows, int k0, int kc, int blocks, int baseRows, int tallBlocks)
        {
            long length = (long)rows * kc;
            if (t_aPacked == null || t_aPacked.Length - t_aPackedOffset < length)
                (t_aPacked, t_aPackedOffset) = AlignedBuffer.Allocate((int)Math.Max(length, 4096));
            float* packed;
            fixed (float* p = t_aPacked) packed = p + t_aPackedOffset; // pinned: the address outlives `fixed`
            float* dst = packed;
            int i = r0;
            for (int blk = 0; blk < blocks; blk++)
            {
                int mr = baseRows + (blk < tallBlocks ? 1 : 0);
                int r = 0;
                // Eight rows at a time go through 8×8 register transposes; value by value (each store a tile row from the
                // last) the copy was about 3 % of a GRU(1024) step at B = 64.
                if (Avx.IsSupported)
                {
                    int kMain = kc & ~7;
                    for (; r + 8 <= mr; r += 8)
                    {
                        float* src = A + (nint)(i + r) * K + k0;
                        for (int p = 0; p < kMain; p += 8) TransposedPacking.Transpose8x8(src + p, K, dst + p * mr + r, mr);
                        for (int q = 0; q < 8; q++)
                            for (int p = kMain; p < kc; p++) dst[p * mr + r + q] = src[(nint)q * K + p];
                    }
                }
                for (; r < mr; r++)
                {
                    float* src = A + (nint)(i + r) * K + k0;
                    for (int p = 0; p < kc; p++) dst[p * mr + r] = src[p];
                }
                dst += kc * mr;
                i += mr;
            }
            return packed;
        }

        // The portable path: same panels, one row of C at a time, plain multiply and add.
        private void ComputeScalar(int r0, int r1, int p0, int p1)
        {
            // A row is final once its panels are done (a thread computes whole rows here whenever it hands them).
            int blockRows = Finished != null ? FinishedBlockRows(K) : 0, blockStart = r0;
            for (int i = r0; i < r1; i++)
            {
                if (Finished != null && i - blockStart == blockRows)
                {
                    Finished.RowsFinished(blockStart, i);
                    blockStart = i;
                }
                float* crow = C + (nint)i * N;
                for (int jp = p0; jp < p1; jp++)
                {
                    int j0 = jp * Panel, cols = Math.Min(Panel, N - j0);
                    if (!Accumulate)
                        for (int j = 0; j < cols; j++) crow[j0 + j] = 0f;
                    float* panel = Packed + (nint)jp * K * Panel;
                    for (int p = 0; p < K; p++)
                    {
                        float av = TransA ? A[(nint)p * M + i] : A[(nint)i * K + p];
                        float* brow = panel + p * Panel;
                        for (int j = 0; j < cols; j++) crow[j0 + j] += av * brow[j];
                    }
                }
            }
            Finished?.RowsFinished(blockStart, r1);
        }
    }
}

/// <summary>One product of <see cref="Gemm.AddTransposedProducts"/>: C (Rows, N) += Aᵀ·B with A stored (K, Rows), or, with no A,
/// a single row C (1, N) += B's column sums.</summary>
internal unsafe struct TransposedProductPart
{
    public float* A;
    public int Rows;
    public float* C;
}

/// <summary>Receives blocks of a product's C rows as their values become final (<see cref="Gemm.MultiplyHandingRows"/>).</summary>
internal interface IFinishedRows
{
    /// <summary>Rows [<paramref name="first"/>, <paramref name="end"/>) of C hold their final values.</summary>
    void RowsFinished(int first, int end);
}

/// <summary>
/// Up to four runs of memory (whole cache lines from each start) that a product's tiles fetch into L2 while they run, a share
/// each, spread over their k loops: a recurrent step's product fetches what the next step's passes read or write, which
/// otherwise comes from memory while a pass with little arithmetic waits on it. A prefetch changes no value.
/// </summary>
internal unsafe struct SidePrefetch
{
    public float* Start0, Start1, Start2, Start3;
    public int Lines0, Lines1, Lines2, Lines3;

    public readonly int Lines => Lines0 + Lines1 + Lines2 + Lines3;

    /// <summary>The lines covering <paramref name="floats"/> values from <paramref name="start"/> added as the next free run (four at most).</summary>
    public void Add(float* start, long floats)
    {
        if (floats <= 0) return;
        // From the line holding the first value to the line holding the last.
        long first = (long)start / 64, last = ((long)(start + floats) - 1) / 64;
        int lines = (int)(last - first + 1);
        float* aligned = (float*)(first * 64);
        if (Lines0 == 0) { Start0 = aligned; Lines0 = lines; }
        else if (Lines1 == 0) { Start1 = aligned; Lines1 = lines; }
        else if (Lines2 == 0) { Start2 = aligned; Lines2 = lines; }
        else if (Lines3 == 0) { Start3 = aligned; Lines3 = lines; }
        else throw new InvalidOperationException("A side prefetch takes at most four runs.");
    }

    /// <summary>Line <paramref name="index"/> of the runs taken in order, and how many lines follow it in the same run.</summary>
    public readonly float* Line(int index, out int leftInRun)
    {
        if (index < Lines0) { leftInRun = Lines0 - index; return Start0 + index * 16; }
        index -= Lines0;
        if (index < Lines1) { leftInRun = Lines1 - index; return Start1 + index * 16; }
        index -= Lines1;
        if (index < Lines2) { leftInRun = Lines2 - index; return Start2 + index * 16; }
        index -= Lines2;
        leftInRun = Lines3 - index;
        return Start3 + index * 16;
    }
}
