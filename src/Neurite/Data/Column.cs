namespace Neurite.Data;

/// <summary>One named, typed column of a <see cref="Table"/>; immutable.</summary>
public abstract class Column
{
    protected Column(string name)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException("A column needs a non-empty name. Pass the header text of the column.", nameof(name));
        Name = name;
    }

    /// <summary>The header name.</summary>
    public string Name { get; }

    /// <summary>Number of rows.</summary>
    public abstract int Length { get; }

    /// <summary>What the column holds.</summary>
    public abstract ColumnKind Kind { get; }

    /// <summary>Whether row <paramref name="row"/> is missing (NaN, code -1 or null date).</summary>
    public abstract bool IsMissing(int row);

    /// <summary>Number of missing rows (R's <c>sum(is.na(x))</c>).</summary>
    public int MissingCount
    {
        get
        {
            int count = 0;
            for (int i = 0; i < Length; i++)
                if (IsMissing(i)) count++;
            return count;
        }
    }

    /// <summary>A column of the same kind and name holding the given rows, in that order.</summary>
    public abstract Column Gather(IReadOnlyList<int> rows);

    /// <summary>The same values under another name.</summary>
    public abstract Column Rename(string name);

    /// <summary>The value of row <paramref name="row"/> as text, or <c>null</c> when missing.</summary>
    public abstract string? Format(int row);

    public override string ToString() => $"{Name} ({Kind}, {Length} rows, {MissingCount} missing)";
}
