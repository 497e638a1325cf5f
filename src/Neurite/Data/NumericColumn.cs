using System.Globalization;

namespace Neurite.Data;

/// <summary>A column of numbers; NaN marks a missing value (R's <c>NA</c>).</summary>
public sealed class NumericColumn : Column
{
    private readonly double[] _values;

    /// <summary>Copies <paramref name="values"/>; NaN means missing.</summary>
    public NumericColumn(string name, IEnumerable<double> values) : base(name)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = values.ToArray();
    }

    private NumericColumn(string name, double[] values, bool _) : base(name) => _values = values;

    internal static NumericColumn Wrap(string name, double[] values) => new(name, values, false);

    public override int Length => _values.Length;
    public override ColumnKind Kind => ColumnKind.Numeric;

    /// <summary>The values without copying; NaN is missing.</summary>
    public ReadOnlySpan<double> Values => _values;

    /// <summary>The value of row <paramref name="row"/> (NaN when missing).</summary>
    public double this[int row] => _values[row];

    /// <summary>A copy of the values.</summary>
    public double[] ToArray() => (double[])_values.Clone();

    public override bool IsMissing(int row) => double.IsNaN(_values[row]);

    public override Column Gather(IReadOnlyList<int> rows)
    {
        var values = new double[rows.Count];
        for (int i = 0; i < values.Length; i++) values[i] = _values[rows[i]];
        return Wrap(Name, values);
    }

    public override Column Rename(string name) => Wrap(name, _values);

    public override string? Format(int row) =>
        double.IsNaN(_values[row]) ? null : _values[row].ToString("R", CultureInfo.InvariantCulture);
}
