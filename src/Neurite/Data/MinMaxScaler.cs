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

    protected override void BeginFit(int featureCount) => _dataMax = new double[featureCount];

    protected override (double Center, double Scale, double Offset) FitFeature(double[] values, int feature, string featureName)
    {
        double lo = values.Min(), hi = values.Max();
        _dataMax[feature] = hi;
        double range = hi - lo;
        return (lo, range == 0 ? 1 : range / (RangeMax - RangeMin), RangeMin);
    }
}
