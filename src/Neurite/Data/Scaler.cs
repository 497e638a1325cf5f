namespace Neurite.Data;

/// <summary>
/// A per-feature affine rescaling x′ = (x − center)/scale + offset, fitted on training rows only and
/// then applied unchanged to validation and test rows, so no statistic of the held-out rows leaks
/// into the inputs. <see cref="InverseTransform(IReadOnlyList{double}, int)"/> maps forecasts back to
/// the original units. Missing values (NaN) are skipped by Fit and stay NaN.
/// </summary>
public abstract class Scaler
{
    private double[]? _center, _scale, _offset;

    /// <summary>Column names when fitted on a <see cref="Table"/>, else <c>null</c>.</summary>
    public IReadOnlyList<string>? FeatureNames { get; private set; }

    /// <summary>Whether Fit has run.</summary>
    public bool IsFitted => _center is not null;

    /// <summary>Number of features fitted.</summary>
    public int FeatureCount => _center?.Length ?? 0;

    /// <summary>Computes (center, scale, offset) for one feature from its non-missing values.</summary>
    protected abstract (double Center, double Scale, double Offset) FitFeature(double[] values, int feature, string featureName);

    /// <summary>Called before the features are fitted, so a subclass can size the statistics it keeps.</summary>
    protected virtual void BeginFit(int featureCount) { }

    /// <summary>Fits one feature on <paramref name="values"/> (the training part of a series).</summary>
    public Scaler Fit(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return FitColumns([values.ToArray()], null);
    }

    /// <summary>Fits one feature per column of a (rows, features) matrix of training rows.</summary>
    public Scaler Fit(double[,] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var columns = new double[rows.GetLength(1)][];
        for (int j = 0; j < columns.Length; j++)
        {
            columns[j] = new double[rows.GetLength(0)];
            for (int i = 0; i < columns[j].Length; i++) columns[j][i] = rows[i, j];
        }
        return FitColumns(columns, null);
    }

    /// <summary>Fits one feature per entry of the last axis of <paramref name="x"/> ((N, F) or (N, T, F)).</summary>
    public Scaler Fit(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int f = x.Dim(-1), n = x.Size / Math.Max(f, 1);
        var columns = new double[f][];
        var span = x.Span;
        for (int j = 0; j < f; j++)
        {
            columns[j] = new double[n];
            for (int i = 0; i < n; i++) columns[j][i] = span[i * f + j];
        }
        return FitColumns(columns, null);
    }

    /// <summary>Fits the named numeric columns of <paramref name="training"/> (pass the training rows only).</summary>
    public Scaler Fit(Table training, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (columns.Length == 0)
            throw new NeuriteException("Fit(Table) needs the names of the columns to scale. Pass them after the table, e.g. Fit(train, \"price\", \"vol\").");
        return FitColumns(columns.Select(c => training.Numeric(c).ToArray()).ToArray(), columns);
    }

    private Scaler FitColumns(double[][] columns, string[]? names)
    {
        int f = columns.Length;
        var center = new double[f];
        var scale = new double[f];
        var offset = new double[f];
        BeginFit(f);
        for (int j = 0; j < f; j++)
        {
            string name = names?[j] ?? $"feature {j}";
            var present = columns[j].Where(v => !double.IsNaN(v)).ToArray();
            if (present.Length == 0)
                throw new NeuriteException($"Cannot fit {GetType().Name} on {name}: it has no non-missing values. Pass training rows that contain data.");
            (center[j], scale[j], offset[j]) = FitFeature(present, j, name);
        }
        (_center, _scale, _offset, FeatureNames) = (center, scale, offset, names);
        return this;
    }

    /// <summary>Restores parameters saved from a fitted scaler (e.g. next to a model), checking them first.</summary>
    protected void SetParameters(IReadOnlyList<double> center, IReadOnlyList<double> scale, IReadOnlyList<double> offset, IReadOnlyList<string>? names)
    {
        int f = center.Count;
        if (scale.Count != f || offset.Count != f || (names is not null && names.Count != f))
            throw new NeuriteException($"{GetType().Name} parameters must have one value per feature; received {f} centres, {scale.Count} scales, {offset.Count} offsets{(names is null ? "" : $" and {names.Count} names")}. Pass lists of equal length.");
        for (int j = 0; j < f; j++)
            if (!double.IsFinite(center[j]) || !double.IsFinite(offset[j]) || !double.IsFinite(scale[j]) || scale[j] <= 0)
                throw new NeuriteException($"{GetType().Name} parameters of feature {j} are not usable (centre {center[j]}, scale {scale[j]}, offset {offset[j]}); scales must be finite and positive. Pass the values of a fitted scaler.");
        (_center, _scale, _offset, FeatureNames) = (center.ToArray(), scale.ToArray(), offset.ToArray(), names?.ToArray());
    }

    /// <summary>x′ = (x − center)/scale + offset for feature <paramref name="feature"/>.</summary>
    public double[] Transform(IReadOnlyList<double> values, int feature = 0) => Map(values, feature, inverse: false);

    /// <summary>x = (x′ − offset)·scale + center: back to the original units.</summary>
    public double[] InverseTransform(IReadOnlyList<double> values, int feature = 0) => Map(values, feature, inverse: true);

    /// <summary>Inverse transform with the parameters of the named column (after Fit(Table, …)).</summary>
    public double[] InverseTransform(IReadOnlyList<double> values, string column) => Map(values, FeatureIndex(column), inverse: true);

    /// <summary>Transforms every feature of a (rows, features) matrix.</summary>
    public double[,] Transform(double[,] rows) => Map(rows, inverse: false);

    /// <summary>Inverse of <see cref="Transform(double[,])"/>.</summary>
    public double[,] InverseTransform(double[,] rows) => Map(rows, inverse: true);

    /// <summary>Transforms along the last axis of <paramref name="x"/>, which must have FeatureCount entries.</summary>
    public Tensor Transform(Tensor x) => Map(x, inverse: false);

    /// <summary>Inverse of <see cref="Transform(Tensor)"/>.</summary>
    public Tensor InverseTransform(Tensor x) => Map(x, inverse: true);

    /// <summary>Every element of <paramref name="forecast"/> mapped back with the parameters of one feature, e.g. an (N, horizon) price forecast.</summary>
    public Tensor InverseTransform(Tensor forecast, int feature)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        var values = Map(forecast.ToArray().Select(v => (double)v).ToArray(), feature, inverse: true);
        return Tensor.FromArray(values, [.. forecast.Shape]);
    }

    /// <summary>Every element of <paramref name="forecast"/> mapped back with the parameters of the named column.</summary>
    public Tensor InverseTransform(Tensor forecast, string column) => InverseTransform(forecast, FeatureIndex(column));

    /// <summary>The table with each fitted column replaced by its transformed values.</summary>
    public Table Transform(Table table) => MapTable(table, inverse: false);

    /// <summary>The table with each fitted column mapped back to original units.</summary>
    public Table InverseTransform(Table table) => MapTable(table, inverse: true);

    private double Apply(double v, int j, bool inverse) =>
        inverse ? (v - _offset![j]) * _scale![j] + _center![j] : (v - _center![j]) / _scale![j] + _offset![j];

    private double[] Map(IReadOnlyList<double> values, int feature, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(values);
        RequireFitted();
        if ((uint)feature >= (uint)FeatureCount)
            throw new NeuriteException($"Feature {feature} does not exist; the scaler was fitted on {FeatureCount} feature(s). Pass an index from 0 to {FeatureCount - 1}.");
        var result = new double[values.Count];
        for (int i = 0; i < result.Length; i++) result[i] = Apply(values[i], feature, inverse);
        return result;
    }

    private double[,] Map(double[,] rows, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(rows);
        RequireFeatures(rows.GetLength(1));
        var result = new double[rows.GetLength(0), rows.GetLength(1)];
        for (int i = 0; i < rows.GetLength(0); i++)
            for (int j = 0; j < rows.GetLength(1); j++)
                result[i, j] = Apply(rows[i, j], FeatureCount == 1 ? 0 : j, inverse);
        return result;
    }

    private Tensor Map(Tensor x, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(x);
        int f = x.Dim(-1);
        RequireFeatures(f);
        var src = x.Span;
        var data = new float[src.Length];
        for (int i = 0; i < data.Length; i++) data[i] = (float)Apply(src[i], FeatureCount == 1 ? 0 : i % f, inverse);
        return new Tensor(data, [.. x.Shape]);
    }

    private Table MapTable(Table table, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(table);
        RequireFitted();
        if (FeatureNames is null)
            throw new NeuriteException("This scaler was fitted on numbers, not on table columns, so it does not know which columns to transform. Fit it with Fit(trainTable, columnNames...).");
        for (int j = 0; j < FeatureNames.Count; j++)
            table = table.WithColumn(NumericColumn.Wrap(FeatureNames[j], Map(table.Numeric(FeatureNames[j]).ToArray(), j, inverse)));
        return table;
    }

    private int FeatureIndex(string column)
    {
        RequireFitted();
        int j = FeatureNames is null ? -1 : FeatureNames.ToList().IndexOf(column);
        if (j < 0)
            throw new NeuriteException($"The scaler has no feature named '{column}'; it was fitted on [{string.Join(", ", FeatureNames ?? [])}]. Fit it on the table column first.");
        return j;
    }

    private void RequireFeatures(int count)
    {
        RequireFitted();
        if (count != FeatureCount && FeatureCount != 1)
            throw new NeuriteException($"The data has {count} feature(s) on its last axis, but the scaler was fitted on {FeatureCount}. Pass data with the same features, in the same order, as in Fit, or use InverseTransform(forecast, feature) for one feature.");
    }

    private void RequireFitted()
    {
        if (!IsFitted)
            throw new NeuriteException($"This {GetType().Name} has not been fitted. Call Fit on the training rows first.");
    }

    /// <summary>The fitted center of each feature.</summary>
    protected IReadOnlyList<double> Centers => _center ?? throw new NeuriteException($"This {GetType().Name} has not been fitted. Call Fit on the training rows first.");

    /// <summary>The fitted scale of each feature.</summary>
    protected IReadOnlyList<double> Scales => _scale ?? throw new NeuriteException($"This {GetType().Name} has not been fitted. Call Fit on the training rows first.");
}
