namespace Neurite.Data;

/// <summary>
/// Standardisation x′ = (x − mean)/sd, with mean and sd from the training rows
/// (R's <c>scale(x)</c>, Keras/sklearn's <c>StandardScaler</c>).
/// </summary>
/// <remarks>
/// By default sd is the sample standard deviation √(Σ(xᵢ − x̄)²/(n − 1)), as R's <c>sd</c> (which the
/// tutorial used) computes it; pass <c>sampleStandardDeviation: false</c> for the population version
/// √(Σ(xᵢ − x̄)²/n) that scikit-learn uses. A constant feature (sd = 0) gets scale 1, so it is only centred.
/// </remarks>
public sealed class StandardScaler(bool sampleStandardDeviation = true) : Scaler
{
    /// <summary>Whether sd divides by n − 1 (true, R's <c>sd</c>) or by n.</summary>
    public bool SampleStandardDeviation { get; } = sampleStandardDeviation;

    /// <summary>The training mean of each feature.</summary>
    public IReadOnlyList<double> Mean => Centers;

    /// <summary>The training standard deviation of each feature (1 for a constant feature).</summary>
    public IReadOnlyList<double> StandardDeviation => Scales;

    /// <summary>A scaler with saved parameters (e.g. <see cref="Mean"/> and <see cref="StandardDeviation"/> of one fitted on training rows).</summary>
    public static StandardScaler FromParameters(IReadOnlyList<double> mean, IReadOnlyList<double> standardDeviation,
        IReadOnlyList<string>? featureNames = null, bool sampleStandardDeviation = true)
    {
        var scaler = new StandardScaler(sampleStandardDeviation);
        scaler.SetParameters(mean, standardDeviation, new double[mean.Count], featureNames);
        return scaler;
    }

    protected override (double Center, double Scale, double Offset) FitFeature(double[] values, int feature, string featureName)
    {
        if (SampleStandardDeviation && values.Length < 2)
            throw new NeuriteException($"The sample standard deviation of {featureName} needs at least 2 training values; received {values.Length}. Pass more training rows or use StandardScaler(sampleStandardDeviation: false).");
        double sd = Statistics.StandardDeviation(values, SampleStandardDeviation);
        return (Statistics.Mean(values), sd == 0 ? 1 : sd, 0);
    }
}
