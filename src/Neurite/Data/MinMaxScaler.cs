namespace Neurite.Data;

/// <summary>
/// Min-max scaling to [a, b] (default [0, 1]): x′ = a + (x − min)(b − a)/(max − min), with min and max
/// from the training rows. Test rows beyond the training range map outside [a, b], as they should.
/// </summary>
/// <remarks>A constant feature (max = min) gets scale 1, so it maps to a.</remarks>
public sealed class MinMaxScaler : Scaler
{
    /// <summary>Scales to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public MinMaxScaler(double min = 0, double max = 1)
    {
        if (!(max > min))
            throw new NeuriteException($"The target range needs min < max; received [{min}, {max}]. Pass e.g. MinMaxScaler(0, 1) or MinMaxScaler(-1, 1).");
        RangeMin = min;
        RangeMax = max;
    }

    /// <summary>Lower end a of the target range.</summary>
    public double RangeMin { get; }

    /// <summary>Upper end b of the target range.</summary>
    public double RangeMax { get; }

    /// <summary>The training minimum of each feature.</summary>
    public IReadOnlyList<double> DataMin => Centers;

    /// <summary>The training maximum of each feature.</summary>
    public IReadOnlyList<double> DataMax => IsFitted ? _dataMax : Centers;

    private double[] _dataMax = [];

    /// <summary>
    /// A scaler with saved parameters: the training <paramref name="dataMin"/> and <paramref name="dataMax"/>
    /// of each feature (e.g. <see cref="DataMin"/> and <see cref="DataMax"/> of one fitted on training rows)
    /// and the target range [<paramref name="min"/>, <paramref name="max"/>].
    /// </summary>
    public static MinMaxScaler FromParameters(IReadOnlyList<double> dataMin, IReadOnlyList<double> dataMax,
        IReadOnlyList<string>? featureNames = null, double min = 0, double max = 1)
    {
        ArgumentNullException.ThrowIfNull(dataMin);
        ArgumentNullException.ThrowIfNull(dataMax);
        var scaler = new MinMaxScaler(min, max);
        if (dataMax.Count != dataMin.Count)
            throw new NeuriteException($"MinMaxScaler parameters need one maximum per minimum; received {dataMin.Count} minima and {dataMax.Count} maxima. Pass lists of equal length.");
        var scale = new double[dataMin.Count];
        for (int j = 0; j < scale.Length; j++)
        {
            if (!(dataMax[j] >= dataMin[j]))
                throw new NeuriteException($"MinMaxScaler parameters of feature {j} are not usable: minimum {dataMin[j]}, maximum {dataMax[j]}. The maximum must be at least the minimum; pass the values of a fitted scaler.");
            double range = dataMax[j] - dataMin[j];
            scale[j] = range == 0 ? 1 : range / (max - min);
        }
        scaler.SetParameters(dataMin, scale, Enumerable.Repeat(min, scale.Length).ToArray(), featureNames);
        scaler._dataMax = dataMax.ToArray();
        return scaler;
    }

    protected override void BeginFit(int featureCount) => _dataMax = new double[featureCount];

    protected override (double Center, double Scale, double Offset) FitFeature(double[] values, int feature, string featureName)
    {
        double lo = values.Min(), hi = values.Max();
        _dataMax[feature] = hi;
        double range = hi - lo;
        return (lo, range == 0 ? 1 : range / (RangeMax - RangeMin), RangeMin);
    }
}
