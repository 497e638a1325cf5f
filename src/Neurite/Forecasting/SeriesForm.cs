namespace Neurite.Forecasting;

/// <summary>How a window of the series is turned into a model's inputs and targets.</summary>
public enum SeriesFormKind
{
    /// <summary>Standardised levels, (y − μ)/σ with the training mean and sd: for series that return to a mean.</summary>
    Level,

    /// <summary>Changes from the window's last value, (y − yₜ)/s with s the training mean absolute change: trend-free.</summary>
    Difference,

    /// <summary>Log-ratios to the window's last value, log(y/yₜ)/s: for positive series that grow by percentages.</summary>
    Ratio,
}

/// <summary>
/// A window form with its training statistics. Every input and target is relative to what is known at the
/// window's origin t (or to training statistics), so a trending series keeps its windows in the training range
/// under <see cref="SeriesFormKind.Difference"/> and <see cref="SeriesFormKind.Ratio"/>.
/// </summary>
public sealed record SeriesForm(SeriesFormKind Kind, double Center, double Scale)
{
    /// <summary>The form's statistics from the training values (any window of them may later be read).</summary>
    public static SeriesForm FromTraining(SeriesFormKind kind, IReadOnlyList<double> training)
    {
        int n = training.Count;
        switch (kind)
        {
            case SeriesFormKind.Level:
            {
                double mean = training.Average();
                double sd = Math.Sqrt(training.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, n - 1));
                return new SeriesForm(kind, mean, sd > 0 ? sd : 1);
            }
            case SeriesFormKind.Difference:
                return new SeriesForm(kind, 0, PositiveOrOne(MeanAbsoluteChange(training, v => v)));
            default:
                if (training.Any(v => !(v > 0)))
                    throw new NeuriteException("The ratio form needs a series of positive values.");
                return new SeriesForm(kind, 0, PositiveOrOne(MeanAbsoluteChange(training, Math.Log)));
        }
    }

    /// <summary>Whether this form can read the series (the ratio form needs positive values).</summary>
    public static bool Allows(SeriesFormKind kind, IReadOnlyList<double> values) => kind != SeriesFormKind.Ratio || values.All(v => v > 0);

    /// <summary>Whether inputs and targets are taken relative to the window's last value.</summary>
    public bool Anchored => Kind != SeriesFormKind.Level;

    /// <summary>The value in the form's units, before anchoring.</summary>
    public double Transform(double y) => Kind switch
    {
        SeriesFormKind.Level => (y - Center) / Scale,
        SeriesFormKind.Difference => y / Scale,
        _ => Math.Log(y) / Scale,
    };

    /// <summary>Inverse of <see cref="Transform"/>.</summary>
    public double Inverse(double z) => Kind switch
    {
        SeriesFormKind.Level => Center + z * Scale,
        SeriesFormKind.Difference => z * Scale,
        _ => Math.Exp(z * Scale),
    };

    /// <summary>The anchor of the window whose last known value is y[origin], in the form's units.</summary>
    public double Anchor(IReadOnlyList<double> y, int origin) => Anchored ? Transform(y[origin]) : 0;

    /// <summary>Writes the <paramref name="lookback"/> inputs of the window ending at <paramref name="origin"/>.</summary>
    public void Inputs(IReadOnlyList<double> y, int origin, int lookback, Span<double> destination)
    {
        double anchor = Anchor(y, origin);
        for (int i = 0; i < lookback; i++) destination[i] = Transform(y[origin - lookback + 1 + i]) - anchor;
    }

    /// <summary>The target of step k from <paramref name="origin"/> in the form's units.</summary>
    public double Target(IReadOnlyList<double> y, int origin, int k) => Transform(y[origin + k]) - Anchor(y, origin);

    /// <summary>A forecast in the form's units back in the series' units.</summary>
    public double Value(IReadOnlyList<double> y, int origin, double z) => Inverse(Anchor(y, origin) + z);

    private static double MeanAbsoluteChange(IReadOnlyList<double> values, Func<double, double> f)
    {
        if (values.Count < 2) return 0;
        double sum = 0;
        for (int i = 1; i < values.Count; i++) sum += Math.Abs(f(values[i]) - f(values[i - 1]));
        return sum / (values.Count - 1);
    }

    private static double PositiveOrOne(double v) => v > 0 && double.IsFinite(v) ? v : 1;
}
