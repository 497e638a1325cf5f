namespace Neurite.Data;

/// <summary>R's summary statistics, with R's definitions, for checking data against printed output.</summary>
public static class Statistics
{
    /// <summary>Arithmetic mean.</summary>
    public static double Mean(IReadOnlyList<double> values)
    {
        RequireComplete(values, nameof(Mean));
        double sum = 0;
        foreach (var v in values) sum += v;
        return sum / values.Count;
    }

    /// <summary>
    /// Variance: Σ(xᵢ − x̄)² / (n − 1) when <paramref name="sample"/> (R's <c>var</c>), else divided by n.
    /// </summary>
    public static double Variance(IReadOnlyList<double> values, bool sample = true)
    {
        RequireComplete(values, nameof(Variance));
        int n = values.Count;
        if (sample && n < 2)
            throw new NeuriteException($"The sample variance needs at least 2 values; received {n}. Pass more values or use sample: false.");
        double mean = Mean(values), sum = 0;
        foreach (var v in values) sum += (v - mean) * (v - mean);
        return sum / (sample ? n - 1 : n);
    }

    /// <summary>Standard deviation, √<see cref="Variance"/>; the sample version is R's <c>sd</c>.</summary>
    public static double StandardDeviation(IReadOnlyList<double> values, bool sample = true) => Math.Sqrt(Variance(values, sample));

    /// <summary>
    /// Quantile with R's default definition (<c>quantile(type = 7)</c>): with the values sorted as
    /// x₍₁₎ ≤ … ≤ x₍ₙ₎, h = (n − 1)·p + 1 and Q(p) = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
    /// </summary>
    public static double Quantile(IReadOnlyList<double> values, double p)
    {
        RequireComplete(values, nameof(Quantile));
        if (p is < 0 or > 1 || double.IsNaN(p))
            throw new NeuriteException($"A quantile probability must lie in [0, 1]; received p={p}.");
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return SortedQuantile(sorted, p);
    }

    private static double SortedQuantile(double[] sorted, double p)
    {
        double h = (sorted.Length - 1) * p;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>R's <c>summary()</c> of a numeric vector: min, quartiles (type 7), mean, max.</summary>
    public static NumericSummary Summary(IReadOnlyList<double> values)
    {
        RequireComplete(values, nameof(Summary));
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return new NumericSummary(sorted[0], SortedQuantile(sorted, 0.25), SortedQuantile(sorted, 0.5), Mean(values),
            SortedQuantile(sorted, 0.75), sorted[^1]);
    }

    /// <summary>
    /// Sample autocorrelation as R's <c>acf</c> computes it: with x̄ the mean of all n values,
    /// r(k) = Σₜ₌₁ⁿ⁻ᵏ (xₜ − x̄)(xₜ₊ₖ − x̄) / Σₜ₌₁ⁿ (xₜ − x̄)², for k = 0..lagMax (so r(0) = 1). Both sums
    /// divide by n in R's definition (the biased estimator), which cancels in the ratio.
    /// </summary>
    /// <param name="values">The series, without missing values.</param>
    /// <param name="lagMax">Largest lag; by default R's ⌊10·log₁₀ n⌋, capped at n − 1.</param>
    public static double[] Acf(IReadOnlyList<double> values, int? lagMax = null)
    {
        RequireComplete(values, nameof(Acf));
        int n = values.Count;
        if (n < 2)
            throw new NeuriteException($"The autocorrelation needs at least 2 values; received {n}.");
        int maxLag = Math.Min(lagMax ?? (int)Math.Floor(10 * Math.Log10(n)), n - 1);
        if (maxLag < 0)
            throw new NeuriteException($"lagMax must be non-negative; received {lagMax}.");
        double mean = Mean(values);
        var centered = values.Select(v => v - mean).ToArray();
        double denominator = 0;
        foreach (var c in centered) denominator += c * c;
        if (denominator == 0)
            throw new NeuriteException("The series is constant, so its autocorrelation is undefined (0/0). Pass a series that varies.");
        var acf = new double[maxLag + 1];
        for (int k = 0; k <= maxLag; k++)
        {
            double sum = 0;
            for (int t = 0; t + k < n; t++) sum += centered[t] * centered[t + k];
            acf[k] = sum / denominator;
        }
        return acf;
    }

    private static void RequireComplete(IReadOnlyList<double> values, string operation)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            throw new NeuriteException($"{operation} needs at least one value; received none.");
        for (int i = 0; i < values.Count; i++)
            if (double.IsNaN(values[i]))
                throw new NeuriteException($"{operation} received a missing value (NaN) at position {i}. Remove missing values first (Table.DropIncomplete).");
    }
}

/// <summary>R's <c>summary()</c> line for a numeric vector.</summary>
public sealed record NumericSummary(double Min, double FirstQuartile, double Median, double Mean, double ThirdQuartile, double Max);
