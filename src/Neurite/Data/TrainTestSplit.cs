namespace Neurite.Data;

/// <summary>Which rows train and which test; made by <see cref="Splits"/>, applied to tables and tensors alike.</summary>
public sealed class TrainTestSplit
{
    private readonly int[] _train, _test;

    /// <summary>A split of the given 0-based row indices; a row may not be in both.</summary>
    public TrainTestSplit(IEnumerable<int> trainRows, IEnumerable<int> testRows)
    {
        ArgumentNullException.ThrowIfNull(trainRows);
        ArgumentNullException.ThrowIfNull(testRows);
        _train = trainRows.ToArray();
        _test = testRows.ToArray();
        var overlap = _train.Intersect(_test).Take(1).ToArray();
        if (overlap.Length > 0)
            throw new NeuriteException($"Row {overlap[0]} is in both the training and the test rows. Each row belongs to one side of a split.");
    }

    /// <summary>0-based training rows, in increasing order for every split <see cref="Splits"/> makes.</summary>
    public IReadOnlyList<int> TrainRows => _train;

    /// <summary>0-based test rows.</summary>
    public IReadOnlyList<int> TestRows => _test;

    /// <summary>Number of training rows.</summary>
    public int TrainCount => _train.Length;

    /// <summary>Number of test rows.</summary>
    public int TestCount => _test.Length;

    /// <summary>The training and test rows of <paramref name="table"/>.</summary>
    public (Table Train, Table Test) Apply(Table table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return (table.Rows(_train), table.Rows(_test));
    }

    /// <summary>The training and test rows (first axis) of <paramref name="x"/>.</summary>
    public (Tensor Train, Tensor Test) Apply(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Dim(0);
        foreach (var r in _train.Concat(_test))
            if ((uint)r >= (uint)n)
                throw new NeuriteException($"The split names row {r}, but the tensor has {n} rows on its first axis. Apply the split to data with the rows it was made for.");
        return (x.Gather(_train), x.Gather(_test));
    }

    public override string ToString() => $"TrainTestSplit: {TrainCount} train, {TestCount} test";
}
