namespace Neurite.Data;

/// <summary>
/// Cuts a series into (inputs, target) samples without leakage: each sample reads <see cref="Lookback"/>
/// consecutive steps of the feature columns and predicts the next <see cref="Horizon"/> steps of the
/// target column, so every target index lies after every input index of its own sample, and windows
/// built for a segment [start, end) touch no index outside it.
/// </summary>
/// <remarks>
/// For a forecast origin t (last input step): X[i] = features[t − lookback + 1 .. t, :] and
/// Y[i] = target[t + 1 .. t + horizon]. Consecutive samples' origins differ by <see cref="Stride"/>.
/// In a segment of n rows there are ⌊(n − lookback − horizon)/stride⌋ + 1 samples.
/// <para>
/// The tutorial's R code built its LSTM inputs with <c>array(lag(...))</c>, which repeated one day ten
/// times instead of taking ten lags (see the datasets README); this class is the replacement.
/// </para>
/// </remarks>
public sealed class TimeSeriesWindows
{
    /// <summary>Windows of <paramref name="lookback"/> input steps predicting the next <paramref name="horizon"/> steps, every <paramref name="stride"/> steps.</summary>
    public TimeSeriesWindows(int lookback, int horizon = 1, int stride = 1)
    {
        if (lookback < 1)
            throw new NeuriteException($"lookback must be at least 1 step; received lookback={lookback}.");
        if (horizon < 1)
            throw new NeuriteException($"horizon must be at least 1 step; received horizon={horizon}.");
        if (stride < 1)
            throw new NeuriteException($"stride must be at least 1 step; received stride={stride}.");
        Lookback = lookback;
        Horizon = horizon;
        Stride = stride;
    }

    /// <summary>Input steps per sample.</summary>
    public int Lookback { get; }

    /// <summary>Target steps per sample, starting the step after the last input.</summary>
    public int Horizon { get; }

    /// <summary>Steps between the origins of consecutive samples.</summary>
    public int Stride { get; }

    /// <summary>Samples of a univariate series predicting itself, within rows [start, end).</summary>
    public WindowSet Build(IReadOnlyList<double> series, int start = 0, int? end = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        return Build(AsMatrix(series), series, start, end);
    }

    /// <summary>Samples with inputs from the columns of <paramref name="features"/> (T, F) and targets from <paramref name="target"/> (T), within rows [start, end).</summary>
    public WindowSet Build(double[,] features, IReadOnlyList<double> target, int start = 0, int? end = null)
    {
        var (s, e) = CheckSegment(features, target, start, end);
        var origins = new List<int>();
        for (int t = s + Lookback - 1; t + Horizon <= e - 1; t += Stride) origins.Add(t);
        if (origins.Count == 0)
            throw new NeuriteException($"Rows [{s}, {e}) hold {e - s} steps, too few for one window of lookback {Lookback} + horizon {Horizon} = {Lookback + Horizon} steps. Use a longer segment or a smaller lookback/horizon.");
        return Assemble(features, target, origins.Select(t => t - Lookback + 1).ToArray(), s, e, null);
    }

    /// <summary>Samples from named columns of <paramref name="table"/>; <paramref name="targetColumn"/> may also be a feature.</summary>
    public WindowSet Build(Table table, IReadOnlyList<string> featureColumns, string targetColumn, int start = 0, int? end = null)
    {
        var (features, target) = FromTable(table, featureColumns, targetColumn);
        return Build(features, target, start, end);
    }

    /// <summary>
    /// Training windows from rows [0, splitIndex) and test windows from rows [splitIndex, T): no window
    /// crosses the split, so no training sample sees a test value and no test sample a training value.
    /// </summary>
    public (WindowSet Train, WindowSet Test) BuildSplit(double[,] features, IReadOnlyList<double> target, int splitIndex)
    {
        ArgumentNullException.ThrowIfNull(target);
        return (Build(features, target, 0, splitIndex), Build(features, target, splitIndex, target.Count));
    }

    /// <summary><see cref="BuildSplit(double[,], IReadOnlyList{double}, int)"/> for table columns.</summary>
    public (WindowSet Train, WindowSet Test) BuildSplit(Table table, IReadOnlyList<string> featureColumns, string targetColumn, int splitIndex)
    {
        var (features, target) = FromTable(table, featureColumns, targetColumn);
        return BuildSplit(features, target, splitIndex);
    }

    /// <summary>
    /// The layout a stateful recurrent model needs: rows [start, end) are cut into
    /// <paramref name="batchSize"/> contiguous streams of equal length, and batch k holds window k of
    /// every stream, with stream b at row b. So sample b of batch k + 1 starts right where sample b of
    /// batch k ended, and the state carried from one batch to the next belongs to the same stretch of time.
    /// </summary>
    /// <remarks>
    /// With n = end − start rows, each stream has S = ⌊n / batchSize⌋ rows; the n − batchSize·S oldest rows
    /// are dropped. Windows within a stream do not overlap (stride = lookback, so <see cref="Stride"/> is
    /// ignored) and there are K = ⌊(S − horizon) / lookback⌋ per stream, so targets stay inside their
    /// stream. Sample n = k·batchSize + b is window k of stream b; N = K·batchSize, whole batches only.
    /// Train with <c>batchSize</c> and without shuffling, and call ResetStates between epochs.
    /// </remarks>
    public WindowSet BuildStateful(double[,] features, IReadOnlyList<double> target, int batchSize, int start = 0, int? end = null)
    {
        var (s, e) = CheckSegment(features, target, start, end);
        if (batchSize < 1)
            throw new NeuriteException($"batchSize must be at least 1; received batchSize={batchSize}.");
        int streamLength = (e - s) / batchSize;
        int windowsPerStream = streamLength < Horizon ? 0 : (streamLength - Horizon) / Lookback;
        if (windowsPerStream == 0)
            throw new NeuriteException($"Rows [{s}, {e}) hold {e - s} steps: cut into {batchSize} streams that is {streamLength} steps each, too few for one window of lookback {Lookback} + horizon {Horizon}. Use a smaller batch size, lookback or horizon, or a longer segment.");
        int first = e - batchSize * streamLength;
        var starts = new int[windowsPerStream * batchSize];
        for (int k = 0; k < windowsPerStream; k++)
            for (int b = 0; b < batchSize; b++)
                starts[k * batchSize + b] = first + b * streamLength + k * Lookback;
        return Assemble(features, target, starts, s, e, batchSize);
    }

    /// <summary>Stateful layouts of rows [0, splitIndex) and [splitIndex, T) with the same batch size (for training and validation).</summary>
    public (WindowSet Train, WindowSet Test) BuildStatefulSplit(double[,] features, IReadOnlyList<double> target, int batchSize, int splitIndex)
    {
        ArgumentNullException.ThrowIfNull(target);
        return (BuildStateful(features, target, batchSize, 0, splitIndex), BuildStateful(features, target, batchSize, splitIndex, target.Count));
    }

    /// <summary><see cref="BuildStatefulSplit(double[,], IReadOnlyList{double}, int, int)"/> for table columns.</summary>
    public (WindowSet Train, WindowSet Test) BuildStatefulSplit(Table table, IReadOnlyList<string> featureColumns, string targetColumn, int batchSize, int splitIndex)
    {
        var (features, target) = FromTable(table, featureColumns, targetColumn);
        return BuildStatefulSplit(features, target, batchSize, splitIndex);
    }

    /// <summary><see cref="BuildStateful(double[,], IReadOnlyList{double}, int, int, int?)"/> for table columns.</summary>
    public WindowSet BuildStateful(Table table, IReadOnlyList<string> featureColumns, string targetColumn, int batchSize, int start = 0, int? end = null)
    {
        var (features, target) = FromTable(table, featureColumns, targetColumn);
        return BuildStateful(features, target, batchSize, start, end);
    }

    private WindowSet Assemble(double[,] features, IReadOnlyList<double> target, int[] inputStarts, int segmentStart, int segmentEnd, int? batchSize)
    {
        int n = inputStarts.Length, f = features.GetLength(1);
        var x = new float[n * Lookback * f];
        var y = new float[n * Horizon];
        var actual = new double[n, Horizon];
        for (int i = 0; i < n; i++)
        {
            for (int step = 0; step < Lookback; step++)
            {
                int t = inputStarts[i] + step;
                for (int j = 0; j < f; j++)
                {
                    double v = features[t, j];
                    if (double.IsNaN(v))
                        throw new NeuriteException($"Feature {j} is missing (NaN) at row {t}, inside the inputs of window {i}. Drop or fill incomplete rows before windowing (Table.DropIncomplete).");
                    x[(i * Lookback + step) * f + j] = (float)v;
                }
            }
            for (int h = 0; h < Horizon; h++)
            {
                int t = inputStarts[i] + Lookback + h;
                double v = target[t];
                if (double.IsNaN(v))
                    throw new NeuriteException($"The target is missing (NaN) at row {t}, a target of window {i}. Drop or fill incomplete rows before windowing (Table.DropIncomplete).");
                y[i * Horizon + h] = (float)v;
                actual[i, h] = v;
            }
        }
        return new WindowSet(new Tensor(x, n, Lookback, f), new Tensor(y, n, Horizon), actual, inputStarts, Lookback, Horizon,
            segmentStart, segmentEnd, target.ToArray(), batchSize);
    }

    private static (int Start, int End) CheckSegment(double[,] features, IReadOnlyList<double> target, int start, int? end)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(target);
        int length = target.Count;
        if (features.GetLength(0) != length)
            throw new NeuriteException($"The features have {features.GetLength(0)} rows but the target has {length}. Pass a feature row for every target value.");
        if (features.GetLength(1) == 0)
            throw new NeuriteException("The features have no columns. Pass at least one feature column (the target itself is fine).");
        int e = end ?? length;
        if (start < 0 || e > length || start > e)
            throw new NeuriteException($"The segment [{start}, {e}) is not inside the series' {length} rows. Pass 0 <= start <= end <= {length}.");
        return (start, e);
    }

    private static double[,] AsMatrix(IReadOnlyList<double> series)
    {
        var m = new double[series.Count, 1];
        for (int i = 0; i < series.Count; i++) m[i, 0] = series[i];
        return m;
    }

    private static (double[,] Features, double[] Target) FromTable(Table table, IReadOnlyList<string> featureColumns, string targetColumn)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(featureColumns);
        var columns = featureColumns.Select(table.Numeric).ToArray();
        var features = new double[table.RowCount, columns.Length];
        for (int j = 0; j < columns.Length; j++)
            for (int i = 0; i < table.RowCount; i++)
                features[i, j] = columns[j][i];
        return (features, table.Numeric(targetColumn).ToArray());
    }
}
