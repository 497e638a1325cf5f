namespace Neurite.Data;

/// <summary>Ways to choose training and test rows. Random splits take a seed, or fork <see cref="NeuriteRandom"/>.</summary>
public static class Splits
{
    /// <summary>
    /// Exactly round(n · <paramref name="trainFraction"/>) rows, drawn at random, train; the rest test
    /// (scikit-learn's <c>train_test_split</c>). Row order within each side is kept.
    /// </summary>
    public static TrainTestSplit RandomFraction(int rowCount, double trainFraction, int? seed = null)
    {
        RequireRows(rowCount);
        RequireFraction(trainFraction, nameof(trainFraction));
        var rng = seed is int s ? new System.Random(s) : NeuriteRandom.Fork();
        var order = Enumerable.Range(0, rowCount).ToArray();
        rng.Shuffle(order);
        int trainCount = (int)Math.Round(rowCount * trainFraction, MidpointRounding.AwayFromZero);
        var train = order[..trainCount];
        var test = order[trainCount..];
        Array.Sort(train);
        Array.Sort(test);
        return new TrainTestSplit(train, test);
    }

    /// <summary>
    /// Each row trains with probability <paramref name="trainProbability"/>, independently of the others:
    /// the tutorial's <c>sample(2, n, replace = TRUE, prob = c(p, 1 - p))</c>. The sizes vary with the
    /// seed. R's generator differs from .NET's, so to reproduce the tutorial's rows use its flags
    /// (<c>Neurite.Datasets.Iris.TutorialSplit</c>) with <see cref="FromFlags"/>.
    /// </summary>
    public static TrainTestSplit ByProbability(int rowCount, double trainProbability, int? seed = null)
    {
        RequireRows(rowCount);
        RequireFraction(trainProbability, nameof(trainProbability));
        var rng = seed is int s ? new System.Random(s) : NeuriteRandom.Fork();
        var train = new List<int>();
        var test = new List<int>();
        for (int i = 0; i < rowCount; i++)
            (rng.NextDouble() < trainProbability ? train : test).Add(i);
        return new TrainTestSplit(train, test);
    }

    /// <summary>
    /// A split from one flag per row, as R code writes it: <c>x[ind == 1, ]</c> trains and
    /// <c>x[ind == 2, ]</c> tests. Any other flag is an error.
    /// </summary>
    public static TrainTestSplit FromFlags(IReadOnlyList<int> flags, int trainFlag = 1, int testFlag = 2)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var train = new List<int>();
        var test = new List<int>();
        for (int i = 0; i < flags.Count; i++)
        {
            if (flags[i] == trainFlag) train.Add(i);
            else if (flags[i] == testFlag) test.Add(i);
            else throw new NeuriteException($"Flag {flags[i]} at row {i} is neither the training flag {trainFlag} nor the test flag {testFlag}. Pass one of the two for every row, or set trainFlag/testFlag.");
        }
        return new TrainTestSplit(train, test);
    }

    /// <summary>Rows whose flag is true train; the others test.</summary>
    public static TrainTestSplit FromMask(IReadOnlyList<bool> isTrain)
    {
        ArgumentNullException.ThrowIfNull(isTrain);
        var train = new List<int>();
        var test = new List<int>();
        for (int i = 0; i < isTrain.Count; i++) (isTrain[i] ? train : test).Add(i);
        return new TrainTestSplit(train, test);
    }

    /// <summary>
    /// For a series: the first <paramref name="trainCount"/> rows train and the rest test, never shuffled,
    /// so the model is always tested on time after what it learned from.
    /// </summary>
    public static TrainTestSplit TimeOrdered(int rowCount, int trainCount)
    {
        RequireRows(rowCount);
        if (trainCount < 0 || trainCount > rowCount)
            throw new NeuriteException($"trainCount must lie in 0..{rowCount} for {rowCount} rows; received {trainCount}.");
        return new TrainTestSplit(Enumerable.Range(0, trainCount), Enumerable.Range(trainCount, rowCount - trainCount));
    }

    /// <summary>The first round(n · <paramref name="trainFraction"/>) rows train, the rest test; never shuffled.</summary>
    public static TrainTestSplit TimeOrdered(int rowCount, double trainFraction)
    {
        RequireFraction(trainFraction, nameof(trainFraction));
        return TimeOrdered(rowCount, (int)Math.Round(rowCount * trainFraction, MidpointRounding.AwayFromZero));
    }

    private static void RequireRows(int rowCount)
    {
        if (rowCount < 0)
            throw new NeuriteException($"rowCount must be non-negative; received {rowCount}.");
    }

    private static void RequireFraction(double fraction, string name)
    {
        if (!(fraction >= 0 && fraction <= 1))
            throw new NeuriteException($"{name} must lie in [0, 1]; received {fraction}. Pass e.g. 0.7 for 70 % training rows.");
    }
}
