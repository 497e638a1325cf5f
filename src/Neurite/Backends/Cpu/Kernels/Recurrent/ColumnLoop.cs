using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// A fused element-wise pass over the columns of one row of a recurrent cell, a vector of columns
/// at a time. Implemented by structs, so <see cref="ColumnLoop"/> specialises and inlines it per
/// SIMD width.
/// </summary>
internal interface IColumnPass
{
    /// <summary>Columns [j, j + TOps.Count) of <paramref name="row"/>; only the lanes of <paramref name="mask"/> when <paramref name="masked"/>.</summary>
    void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>;
}

/// <summary>No columns: the second pass of a <see cref="ColumnLoop"/> call that needs only one.</summary>
internal readonly struct NoColumns : IColumnPass
{
    public void At<TV, TOps>(int row, int j, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV> { }
}

/// <summary>
/// Runs cell passes over every row, widest vectors first. Leftover columns (U not a multiple of
/// the width, e.g. 100 = 6·16 + 4) run one more vector with masked loads and stores: a scalar tail
/// costs about as much per element as a whole vector (the gate tanh dominates), so a 4-column
/// scalar tail nearly doubled the pass for U = 100. Masked accesses need the memory pinned.
/// </summary>
internal static unsafe class ColumnLoop
{
    /// <summary>Runs <paramref name="pass"/> over <paramref name="columns"/> columns of each of <paramref name="rows"/> rows.</summary>
    public static void Run<TPass>(KernelPath path, TPass pass, int columns, int rows) where TPass : struct, IColumnPass =>
        Run(path, pass, columns, default(NoColumns), 0, rows);

    /// <summary>Per row, <paramref name="first"/> over its columns, then <paramref name="second"/> over its own.</summary>
    public static void Run<TFirst, TSecond>(KernelPath path, TFirst first, int firstColumns, TSecond second, int secondColumns, int rows)
        where TFirst : struct, IColumnPass where TSecond : struct, IColumnPass
    {
        if (path == KernelPath.Vector512)
            Rows<TFirst, TSecond, Vector512<float>, Vector512Ops>(first, firstColumns, second, secondColumns, rows);
        else if (path == KernelPath.Vector256)
            Rows<TFirst, TSecond, Vector256<float>, Vector256Ops>(first, firstColumns, second, secondColumns, rows);
        else
            Rows<TFirst, TSecond, float, ScalarOps>(first, firstColumns, second, secondColumns, rows);
    }

    private static void Rows<TFirst, TSecond, TV, TOps>(TFirst first, int firstColumns, TSecond second, int secondColumns, int rows)
        where TFirst : struct, IColumnPass where TSecond : struct, IColumnPass where TV : struct where TOps : IVectorOps<TV>
    {
        int width = TOps.Count;
        int firstMain = firstColumns - firstColumns % width, secondMain = secondColumns - secondColumns % width;
        var firstMask = TOps.FirstLanes(firstColumns - firstMain);
        var secondMask = TOps.FirstLanes(secondColumns - secondMain);
        for (int row = 0; row < rows; row++)
        {
            for (int j = 0; j < firstMain; j += width) first.At<TV, TOps>(row, j, masked: false, firstMask);
            if (firstMain < firstColumns) first.At<TV, TOps>(row, firstMain, masked: true, firstMask);
            for (int j = 0; j < secondMain; j += width) second.At<TV, TOps>(row, j, masked: false, secondMask);
            if (secondMain < secondColumns) second.At<TV, TOps>(row, secondMain, masked: true, secondMask);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TV, TOps>(float* source, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV> =>
        masked ? TOps.LoadMasked(source, mask) : TOps.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TV, TOps>(TV value, float* destination, bool masked, TV mask) where TV : struct where TOps : IVectorOps<TV>
    {
        if (masked) TOps.StoreMasked(value, destination, mask);
        else TOps.Store(value, destination);
    }
}
