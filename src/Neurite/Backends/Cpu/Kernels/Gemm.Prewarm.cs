using System.Runtime.Intrinsics.X86;

namespace Neurite.Backends.Cpu.Kernels;

// The kernel prewarm's view of a product (KernelPrewarm): which drivers and micro-kernels Multiply runs for a shape, by
// the same choices as Multiply, MultiplySmall, Run, Job.ComputeBlocked and Job.ComputeKBlock. Kept beside them: a
// change to those choices belongs here too (KernelPrewarmTests names a micro-kernel a first step compiled unlisted).
internal static unsafe partial class Gemm
{
    /// <summary>Lists for <paramref name="prewarm"/> what <c>C[M,N] (+)= op(A)·op(B)</c> runs on its path with at most <paramref name="threads"/> threads;
    /// <paramref name="prepacked"/>: B is packed beforehand (<see cref="PackB"/>), as a recurrent step's weights are;
    /// <paramref name="sidePrefetch"/>: the product fetches lines for its caller (<see cref="SidePrefetch"/>).</summary>
    internal static void AddProductToPrewarm(KernelPrewarm prewarm, int m, int k, int n, bool transA, bool transB, int threads, bool prepacked = false,
        bool sidePrefetch = false, bool lead = false)
    {
        var path = prewarm.Path;
        if (m <= 0 || n <= 0 || k <= 0 || path == KernelPath.Scalar) return;
        // A B packed beforehand always runs as a job (Multiply with a PackedMatrix, MultiplyWithLead), however small or thin.
        if (!prepacked && IsThin(path, m, k, n))
        {
            prewarm.Add(typeof(Gemm), k == 1 ? nameof(OuterProduct) : transA ? nameof(ColumnTransposed) : nameof(Column));
            return;
        }
        prewarm.Initialize(typeof(GemmMicroKernels));
        if (!prepacked && 2.0 * m * n * k < SmallMaxFlops)
        {
            if ((long)m * n * k <= TinyMaxMultiplyAdds)
            {
                prewarm.Add(typeof(Gemm), nameof(MultiplyLoop));
                return;
            }
            prewarm.Add(typeof(Gemm), nameof(MultiplySmall));
            if (transB) prewarm.Add(typeof(Gemm), nameof(PackPadded));
            // PackPadded's register transpose, as it picks it (the vector paths have AVX).
            if (transB && k >= 8 && n >= 8) prewarm.Add(typeof(Gemm), nameof(PackTransposedAvx));
            bool wide = path == KernelPath.Vector512;
            int vector = wide ? 16 : 8;
            for (int j0 = 0; j0 < n;)
            {
                int remaining = n - j0;
                int width = remaining >= 2 * vector ? 2 * vector : remaining >= 16 && wide ? 16 : 8;
                string table = width == 2 * vector ? (transA ? "Tn" : "Nn") : transA ? "NarrowTn" : "NarrowNn";
                int maxRows = width == 2 * vector ? (wide ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256) : GemmMicroKernels.MaxRowsNarrow;
                AddTiles(prewarm, width == 16 && wide ? "V512" : width == 8 ? "V256" : PathPrefix(path), table, m, maxRows);
                if (remaining < width) prewarm.Add(typeof(Gemm), nameof(CopyRagged));
                j0 += width;
            }
            return;
        }

        // A short A·Bᵀ beside a large B runs as (B·Aᵀ)ᵀ (the products listed are those of an overwritten C, as a Dense
        // layer's input gradient).
        if (!prepacked && !sidePrefetch && !lead && SwapsOperands(path, m, k, n, transA, transB, accumulate: false))
        {
            prewarm.Add(typeof(Gemm), nameof(MultiplySwapped));
            prewarm.Add(typeof(Gemm), nameof(Transpose));
            AddProductToPrewarm(prewarm, n, k, m, transA: false, transB: true, threads);
            return;
        }
        int panels = (n + Panel - 1) / Panel;
        int parts = 2.0 * m * n * k < ParallelMinFlops ? 1 : Math.Max(1, threads);
        // The job runs through the worker pool (its packing phase even on one thread).
        prewarm.Add(typeof(WorkerPool), nameof(WorkerPool.Run));
        // Job.Run implements IParallelWork: PrepareMethod's code for it is not the code an interface call runs (seen on
        // .NET 10), so an empty job runs through the interface instead (its packing phase over no panels does nothing).
        prewarm.Invoke(RunEmptyJob);
        prewarm.Add(typeof(Gemm).FullName + "+Job", "ComputeBlocked");
        prewarm.Add(typeof(Gemm).FullName + "+Job", "ComputeKBlock");
        prewarm.Add(typeof(Gemm), nameof(PackPanel));
        if (transB) prewarm.Add(typeof(TransposedPacking), nameof(TransposedPacking.TransposePanel));
        if (transB && n % Panel != 0) prewarm.Add(typeof(TransposedPacking), nameof(TransposedPacking.CopyPanel));
        if (transA && CopiesTransposedA(m, k / ((k + MaxKBlock - 1) / MaxKBlock), panels)) prewarm.Add(typeof(Gemm).FullName + "+Job", "PackTransposedA");
        // A transposed A's copy into tile runs, for PackTransposedA and the weight-gradient pass alike.
        prewarm.Add(typeof(Gemm).FullName + "+Job", "CopyTransposedTiles");
        // A long-row A copied into tile runs (beside a packed B or a panel-at-a-time copy of an in-place one) is read by the
        // rows-contiguous kernels, as a transposed A is.
        var (allPacked, _) = PackingOf(prepacked, transB, path, m, k, n, parts);
        // As ComputeKBlock decides: no next-panel prefetch for a B that stays in L2 or lies in one run, and then A copied only from longer rows.
        bool prefetchesPanels = PrefetchesPanels(allPacked, packPerKBlock: !prepacked && allPacked && !transB && parts == 1)
            && PrefetchesNextPanelBlock(StaysInL2((long)panels * k * Panel * sizeof(float), CacheSizes.L2Bytes), k);
        bool copiesRowMajorA = !transA && k >= PackRowMajorAMinKFor(prefetchesPanels) && panels >= PackRowMajorAMinPanels;
        if (copiesRowMajorA) prewarm.Add(typeof(Gemm).FullName + "+Job", "PackRowMajorA");
        // The rows each part computes, then the chunks ComputeBlocked cuts them into per K block.
        var (_, packPerPanel) = PackingOf(prepacked, transB, path, m, k, n, parts);
        bool splitRows = SplitsRows(m, panels, parts, packPerPanel);
        if (packPerPanel) prewarm.Add(typeof(Gemm), nameof(PackPanelBlock));
        var rowCounts = new HashSet<int>();
        int rowParts = splitRows ? Math.Min(parts, m) : 1;
        for (int part = 0; part < rowParts; part++) rowCounts.Add(m * (part + 1) / rowParts - m * part / rowParts);
        int kBlocks = (k + MaxKBlock - 1) / MaxKBlock;
        var chunkRows = new HashSet<int>();
        foreach (int rows in rowCounts)
            for (int kb = 0; kb < kBlocks; kb++)
            {
                int kc = k * (kb + 1) / kBlocks - k * kb / kBlocks;
                int chunks = Math.Max(1, Math.Min((int)((long)rows * kc / (64 * 1024)), rows / 48));
                for (int chunk = 0; chunk < chunks; chunk++) chunkRows.Add(rows * (chunk + 1) / chunks - rows * chunk / chunks);
            }
        bool wideBlocked = path == KernelPath.Vector512;
        int chunkWidth = wideBlocked ? 32 : 16;
        string prefix = PathPrefix(path);
        foreach (int rows in chunkRows)
        {
            int maxRows = wideBlocked ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
            AddTiles(prewarm, prefix, transA ? "Tn" : "Nn", rows, maxRows);
            // Tiles of an untransposed A read in place take the caller's lines inside their k loop.
            if (sidePrefetch && !transA && !copiesRowMajorA) AddTiles(prewarm, prefix, "NnPf", rows, maxRows);
            if (copiesRowMajorA) AddTiles(prewarm, prefix, "Tn", rows, maxRows);
            // Beside a B packed whole (beforehand, transposed, or for threads), those tiles prefetch the next panel as they run.
            if (copiesRowMajorA && prefetchesPanels) AddTiles(prewarm, prefix, "TnPf", rows, maxRows);
            // A product with a lead (MultiplyWithLead) starts its whole tiles of an A read in place in the lead kernels.
            if (lead && !transA && !copiesRowMajorA)
            {
                prewarm.Add(typeof(Gemm).FullName + "+Job", "RunLead");
                AddTiles(prewarm, prefix, "LeadNn", rows, maxRows);
                if (sidePrefetch) AddTiles(prewarm, prefix, "LeadNnPf", rows, maxRows);
            }
            // A ragged last chunk of a panel that fits one vector runs the one-vector kernels.
            int last = n % chunkWidth;
            if (last > 0 && last <= chunkWidth / 2)
                AddTiles(prewarm, last <= 8 ? "V256" : "V512", transA ? "NarrowTn" : "NarrowNn", rows, GemmMicroKernels.MaxRowsNarrow);
        }
    }

    /// <summary>
    /// The tiles of a weight gradient dW = xᵀ·dz (M = features, K = rows, N = units) that hands its rows to the optimizer
    /// (<see cref="MultiplyHandingRows"/>): its last K block runs in blocks of <see cref="HandedBlockRows"/> rows per part,
    /// whose heights the whole product's row chunks need not share (on a 2 MiB L2 a 512-unit layer's blocks of 60 rows run tiles of 10).
    /// </summary>
    internal static void AddHandedRowsToPrewarm(KernelPrewarm prewarm, int m, int k, int n, int threads)
    {
        var path = prewarm.Path;
        if (m <= 0 || n <= 0 || k <= 0 || path == KernelPath.Scalar || IsThin(path, m, k, n) || 2.0 * m * n * k < SmallMaxFlops) return;
        int maxRows = path == KernelPath.Vector512 ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        int kBlocks = (k + MaxKBlock - 1) / MaxKBlock;
        int step = HandedBlockRows(path, k - k * (kBlocks - 1) / kBlocks, n, CacheSizes.L2Bytes);
        int panels = (n + Panel - 1) / Panel;
        int parts = 2.0 * m * n * k < ParallelMinFlops ? 1 : Math.Max(1, threads);
        var (_, packPerPanel) = PackingOf(false, false, path, m, k, n, parts);
        int rowParts = SplitsRows(m, panels, parts, packPerPanel) ? Math.Min(parts, m) : 1;
        string prefix = PathPrefix(path);
        for (int part = 0; part < rowParts; part++)
        {
            int rows = m * (part + 1) / rowParts - m * part / rowParts;
            if (rows >= step) AddTiles(prewarm, prefix, "Tn", step, maxRows);
            if (rows % step != 0) AddTiles(prewarm, prefix, "Tn", rows % step, maxRows);
        }
    }

    /// <summary>
    /// <see cref="AddTransposedProducts"/> over <paramref name="k"/> rows of a B at least <paramref name="minN"/> columns wide
    /// (a GRU's passes take 2U and U), for parts of <paramref name="partRows"/> rows (a recurrent layer's dR, dW and dBias):
    /// its pass, B's packing, the parts' tiles, and the tiles that fetch the next K block wherever the narrowest B's smallest
    /// block would fetch.
    /// </summary>
    internal static void AddTransposedPartsToPrewarm(KernelPrewarm prewarm, int k, int minN, int[] partRows)
    {
        var path = prewarm.Path;
        if (path == KernelPath.Scalar) return;
        prewarm.Initialize(typeof(GemmMicroKernels));
        prewarm.Add(typeof(Gemm).FullName + "+Job", nameof(Job.ComputeTransposedParts));
        prewarm.Add(typeof(Gemm).FullName + "+Job", "PackRowsIntoPanels");
        prewarm.Add(typeof(Gemm).FullName + "+Job", "CopyTransposedTiles");
        int maxRows = path == KernelPath.Vector512 ? GemmMicroKernels.MaxRowsV512 : GemmMicroKernels.MaxRowsV256;
        foreach (int rows in partRows)
            if (rows > 0)
            {
                AddTiles(prewarm, PathPrefix(path), "Tn", rows, maxRows);
                // On x86 the tiles fetch a later C tile (and the next panel's block, or the next K block) inside their k loop.
                if (Sse.IsSupported) AddTiles(prewarm, PathPrefix(path), "TnPfC", rows, maxRows);
            }
        int totalRows = partRows.Sum(), n = minN, maxKBlock = TransposedPartsKBlock(k, n, totalRows, CacheSizes.L2Bytes);
        int kBlocks = (k + maxKBlock - 1) / maxKBlock;
        if (kBlocks < 2) return;
        int blockRows = k / kBlocks;
        long next = (long)blockRows * (n + totalRows) * sizeof(float), resident = next + (long)totalRows * n * sizeof(float);
        if (!TransposedPartsPrefetchNextBlock(next, resident, CacheSizes.L2Bytes)) return;
        foreach (int rows in partRows)
            if (rows > 0) AddTiles(prewarm, PathPrefix(path), "TnPf", rows, maxRows);
    }

    private static void RunEmptyJob()
    {
        IParallelWork work = new Job { Phase = Job.PackPhase, Panels = 0, Parts = 1 };
        work.Run(0);
    }

    private static string PathPrefix(KernelPath path) => path == KernelPath.Vector512 ? "V512" : "V256";

    // The register tiles ComputeKBlock and MultiplySmall cut `rows` into: as even as possible, at most maxRows each.
    private static void AddTiles(KernelPrewarm prewarm, string prefix, string table, int rows, int maxRows)
    {
        int blocks = (rows + maxRows - 1) / maxRows;
        int baseRows = rows / blocks;
        prewarm.Add(typeof(GemmMicroKernels), $"{prefix}_{table}{baseRows}");
        if (rows % blocks != 0) prewarm.Add(typeof(GemmMicroKernels), $"{prefix}_{table}{baseRows + 1}");
    }
}
