using System.Globalization;

namespace Neurite.Data;

/// <summary>A column of calendar dates; <c>null</c> marks a missing value.</summary>
public sealed class DateColumn : Column
{
    private readonly DateTime?[] _values;

    /// <summary>Copies <paramref name="values"/>; <c>null</c> means missing.</summary>
    public DateColumn(string name, IEnumerable<DateTime?> values) : base(name)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = values.ToArray();
    }

    private DateColumn(string name, DateTime?[] values, bool _) : base(name) => _values = values;

    internal static DateColumn Wrap(string name, DateTime?[] values) => new(name, values, false);

    public override int Length => _values.Length;
    public override ColumnKind Kind => ColumnKind.Date;

    /// <summary>The values without copying; <c>null</c> is missing.</summary>
    public ReadOnlySpan<DateTime?> Values => _values;

    /// <summary>The date of row <paramref name="row"/>, or <c>null</c> when missing.</summary>
    public DateTime? this[int row] => _values[row];

    /// <summary>A copy of the values.</summary>
    public DateTime?[] ToArray() => (DateTime?[])_values.Clone();

    public override bool IsMissing(int row) => _values[row] is null;

    public override Column Gather(IReadOnlyList<int> rows)
    {
        var values = new DateTime?[rows.Count];
        for (int i = 0; i < values.Length; i++) values[i] = _values[rows[i]];
        return Wrap(Name, values);
    }

    public override Column Rename(string name) => Wrap(name, _values);

    public override string? Format(int row) => _values[row]?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
