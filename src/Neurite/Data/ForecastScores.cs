namespace Neurite.Data;

/// <summary>
/// Forecast accuracy in the units of the series, with its persistence baseline beside it. Build with
/// <see cref="Compute(WindowSet, double[,], IReadOnlyList{double}, int)"/>, or use the single scores.
/// </summary>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="Rmse">Root mean squared error.</param>
/// <param name="Mape">Mean absolute percentage error, in percent; NaN when an actual value is 0.</param>
/// <param name="Mase">Mean absolute scaled error against the in-sample one-step naive error of the training series.</param>
/// <param name="SkillScore">1 − MSE/MSE(persistence): 1 is perfect, 0 no better than persistence, negative worse.</param>
/// <param name="PersistenceMae">MAE of the persistence baseline on the same samples.</param>
/// <param name="PersistenceRmse">RMSE of the persistence baseline on the same samples.</param>
public sealed record ForecastScores(double Mae, double Rmse, double Mape, double Mase, double SkillScore, double PersistenceMae, double PersistenceRmse)
{
    /// <summary>
    /// All scores of <paramref name="predicted"/> against <paramref name="windows"/>' actual targets, with
    /// the persistence baseline of the same windows and MASE scaled on <paramref name="trainingSeries"/>.
    /// Pass predictions and series in the same units as the windows' target (inverse-transform first
    /// to report in original units).
    /// </summary>
    public static ForecastScores Compute(WindowSet windows, double[,] predicted, IReadOnlyList<double> trainingSeries, int seasonLength = 1)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return Compute(Flatten(windows.Actual), Flatten(predicted), Flatten(ForecastBaselines.Persistence(windows)), trainingSeries, seasonLength);
    }

    /// <summary>As <see cref="Compute(WindowSet, double[,], IReadOnlyList{double}, int)"/> for a model's (N, horizon) output tensor.</summary>
    public static ForecastScores Compute(WindowSet windows, Tensor predicted, IReadOnlyList<double> trainingSeries, int seasonLength = 1)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return Compute(Flatten(windows.Actual), Flatten(predicted), Flatten(ForecastBaselines.Persistence(windows)), trainingSeries, seasonLength);
    }

    /// <summary>All scores from flat actual, predicted and persistence values.</summary>
    public static ForecastScores Compute(IReadOnlyList<double> actual, IReadOnlyList<double> predicted, IReadOnlyList<double> persistence,
        IReadOnlyList<double> trainingSeries, int seasonLength = 1)
    {
        bool anyZero = actual.Any(a => a == 0);
        return new ForecastScores(
            MeanAbsoluteError(actual, predicted),
            RootMeanSquaredError(actual, predicted),
            anyZero ? double.NaN : MeanAbsolutePercentageError(actual, predicted),
            MeanAbsoluteScaledError(actual, predicted, trainingSeries, seasonLength),
            Skill(actual, predicted, persistence),
            MeanAbsoluteError(actual, persistence),
            RootMeanSquaredError(actual, persistence));
    }

    /// <summary>MAE = (1/n) Σ |yᵢ − ŷᵢ|.</summary>
    public static double MeanAbsoluteError(IReadOnlyList<double> actual, IReadOnlyList<double> predicted)
    {
        Check(actual, predicted);
        double sum = 0;
        for (int i = 0; i < actual.Count; i++) sum += Math.Abs(actual[i] - predicted[i]);
        return sum / actual.Count;
    }

    /// <summary>RMSE = √((1/n) Σ (yᵢ − ŷᵢ)²).</summary>
    public static double RootMeanSquaredError(IReadOnlyList<double> actual, IReadOnlyList<double> predicted) =>
        Math.Sqrt(MeanSquaredError(actual, predicted));

    /// <summary>MSE = (1/n) Σ (yᵢ − ŷᵢ)².</summary>
    public static double MeanSquaredError(IReadOnlyList<double> actual, IReadOnlyList<double> predicted)
    {
        Check(actual, predicted);
        double sum = 0;
        for (int i = 0; i < actual.Count; i++) sum += (actual[i] - predicted[i]) * (actual[i] - predicted[i]);
        return sum / actual.Count;
    }

    /// <summary>MAPE = (100/n) Σ |(yᵢ − ŷᵢ)/yᵢ|, in percent.</summary>
    /// <exception cref="NeuriteException">An actual value is 0 (the percentage is undefined); use MAE or MASE instead.</exception>
    public static double MeanAbsolutePercentageError(IReadOnlyList<double> actual, IReadOnlyList<double> predicted)
    {
        Check(actual, predicted);
        double sum = 0;
        for (int i = 0; i < actual.Count; i++)
        {
            if (actual[i] == 0)
                throw new NeuriteException($"Actual value {i} is 0, so its percentage error is undefined. Use MAE or MASE for series that reach 0, or score in original units (inverse-transform standardised values first).");
            sum += Math.Abs((actual[i] - predicted[i]) / actual[i]);
        }
        return 100 * sum / actual.Count;
    }

    /// <summary>
    /// MASE (Hyndman &amp; Koehler 2006) = MAE / q, with q = (1/(T − m)) Σₜ₌ₘ₊₁ᵀ |yₜ − yₜ₋ₘ| the in-sample
    /// MAE of the seasonal naive forecast (m = 1: persistence) on the training series. Below 1 beats that naive forecast.
    /// </summary>
    public static double MeanAbsoluteScaledError(IReadOnlyList<double> actual, IReadOnlyList<double> predicted, IReadOnlyList<double> trainingSeries, int seasonLength = 1)
    {
        ArgumentNullException.ThrowIfNull(trainingSeries);
        if (seasonLength < 1 || trainingSeries.Count <= seasonLength)
            throw new NeuriteException($"MASE needs a training series longer than the season ({seasonLength}); received {trainingSeries.Count} values and seasonLength={seasonLength}.");
        double sum = 0;
        for (int t = seasonLength; t < trainingSeries.Count; t++) sum += Math.Abs(trainingSeries[t] - trainingSeries[t - seasonLength]);
        double scale = sum / (trainingSeries.Count - seasonLength);
        if (scale == 0)
            throw new NeuriteException("The training series never changes over one season, so MASE's scale is 0. Use MAE for a constant series.");
        return MeanAbsoluteError(actual, predicted) / scale;
    }

    /// <summary>Skill score = 1 − MSE(predicted)/MSE(reference); against persistence it says how much of the naive error the model removes.</summary>
    public static double Skill(IReadOnlyList<double> actual, IReadOnlyList<double> predicted, IReadOnlyList<double> reference)
    {
        double referenceMse = MeanSquaredError(actual, reference);
        if (referenceMse == 0)
            throw new NeuriteException("The reference forecast is perfect (MSE 0), so a skill score relative to it is undefined.");
        return 1 - MeanSquaredError(actual, predicted) / referenceMse;
    }

    /// <summary>The values of a (N, H) forecast in row-major order.</summary>
    public static double[] Flatten(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var flat = new double[values.Length];
        int k = 0;
        foreach (var v in values) flat[k++] = v;
        return flat;
    }

    /// <summary>The values of a tensor (e.g. model.Predict output) in row-major order, as doubles.</summary>
    public static double[] Flatten(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.ToArray().Select(v => (double)v).ToArray();
    }

    private static void Check(IReadOnlyList<double> actual, IReadOnlyList<double> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.Count != predicted.Count)
            throw new NeuriteException($"Got {actual.Count} actual values but {predicted.Count} predictions. Pass one prediction per actual value, in the same order.");
        if (actual.Count == 0)
            throw new NeuriteException("There are no values to score. Pass at least one actual value and its prediction.");
    }
}
