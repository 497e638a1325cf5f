using Neurite.Kernels;

namespace Neurite.Layers;

/// <summary>A recurrent sequence whose steps can run for a range of batch rows on their own.</summary>
internal interface IRowSteps
{
    /// <summary>Runs every step of the pass (forward, or backward) for batch rows [firstRow, endRow).</summary>
    void RunRows(int firstRow, int endRow, bool backward);
}

/// <summary>
/// Runs all steps of one pass split by batch rows across <see cref="Threading.MaxThreads"/>: one
/// fork per pass instead of one or two per step.
/// </summary>
/// <remarks>
/// Row b of a step needs only row b of the previous step, so each thread runs every step for its
/// own rows with no join between steps. The rows of each part depend only on the batch size and
/// the number of parts, and each row is computed by the same instructions in the same order
/// whichever rows share a thread, so the split never changes a result.
/// </remarks>
internal sealed class RowSplitPass(IRowSteps owner) : IParallelWork
{
    private int _parts, _batch;
    private bool _backward;

    /// <summary>Runs the pass, forking when <paramref name="flopsPerStep"/> × steps is big enough to gain.</summary>
    public void Run(int batch, int steps, double flopsPerStep, bool backward)
    {
        int threads = Threading.MaxThreads;
        _parts = threads > 1 && KernelSelector.Current != KernelPath.Scalar && !WorkerPool.InsidePart
            && steps * flopsPerStep >= Gemm.ParallelMinFlops ? Math.Min(threads, batch) : 1;
        _batch = batch;
        _backward = backward;
        if (_parts == 1) owner.RunRows(0, batch, backward);
        else WorkerPool.Run(this, _parts, threads);
    }

    void IParallelWork.Run(int part) =>
        owner.RunRows(_batch * part / _parts, _batch * (part + 1) / _parts, _backward);
}
