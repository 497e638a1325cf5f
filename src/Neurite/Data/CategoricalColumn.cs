namespace Neurite.Data;

/// <summary>
/// A factor in R's sense: each row holds an integer code into <see cref="Levels"/>, -1 when missing.
/// Code <c>k</c> is R's <c>as.numeric(x) - 1</c>, the form Keras's <c>to_categorical</c> expects.
/// </summary>
public sealed class CategoricalColumn : Column
{
    private readonly int[] _codes;
    private readonly string[] _levels;

    /// <summary>Copies <paramref name="codes"/> (each -1 or an index into <paramref name="levels"/>) and <paramref name="levels"/>.</summary>
    public CategoricalColumn(string name, IEnumerable<int> codes, IEnumerable<string> levels) : base(name)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(levels);
        _codes = codes.ToArray();
        _levels = levels.ToArray();
        if (_levels.Distinct(StringComparer.Ordinal).Count() != _levels.Length)
            throw new ArgumentException($"Column '{name}' has duplicate levels [{string.Join(", ", _levels)}]. Pass each level once.", nameof(levels));
        for (int i = 0; i < _codes.Length; i++)
            if (_codes[i] < -1 || _codes[i] >= _levels.Length)
                throw new ArgumentException($"Column '{name}' row {i} has code {_codes[i]}, but codes must be -1 (missing) or 0..{_levels.Length - 1} for its {_levels.Length} levels.", nameof(codes));
    }

    private CategoricalColumn(string name, int[] codes, string[] levels, bool _) : base(name)
    {
        _codes = codes;
        _levels = levels;
    }

    internal static CategoricalColumn Wrap(string name, int[] codes, string[] levels) => new(name, codes, levels, false);

    /// <summary>A column from text values (null = missing) with levels in the given <paramref name="order"/>.</summary>
    public static CategoricalColumn FromValues(string name, IEnumerable<string?> values, LevelOrder order = LevelOrder.Sorted)
    {
        var list = values.ToList();
        var levels = OrderLevels(list.Where(v => v is not null).Select(v => v!).Distinct(StringComparer.Ordinal), order);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < levels.Length; i++) index[levels[i]] = i;
        var codes = list.Select(v => v is null ? -1 : index[v]).ToArray();
        return Wrap(name, codes, levels);
    }

    internal static string[] OrderLevels(IEnumerable<string> distinctInAppearanceOrder, LevelOrder order)
    {
        var levels = distinctInAppearanceOrder.ToArray();
        if (order == LevelOrder.FirstAppearance) return levels;
        var numbers = new double[levels.Length];
        bool allNumeric = true;
        for (int i = 0; i < levels.Length && allNumeric; i++)
            allNumeric = TextValues.TryParseNumber(levels[i], out numbers[i]);
        if (allNumeric)
            Array.Sort(numbers, levels);
        else
            Array.Sort(levels, StringComparer.Ordinal);
        return levels;
    }

    public override int Length => _codes.Length;
    public override ColumnKind Kind => ColumnKind.Categorical;

    /// <summary>The codes without copying: 0..Levels.Count-1, or -1 when missing.</summary>
    public ReadOnlySpan<int> Codes => _codes;

    /// <summary>The level names; code k names <c>Levels[k]</c>.</summary>
    public IReadOnlyList<string> Levels => _levels;

    /// <summary>The level of row <paramref name="row"/>, or <c>null</c> when missing.</summary>
    public string? this[int row] => _codes[row] < 0 ? null : _levels[_codes[row]];

    /// <summary>A copy of the codes.</summary>
    public int[] ToCodes() => (int[])_codes.Clone();

    /// <summary>How many rows hold each level (R's <c>table(x)</c>), indexed by code.</summary>
    public int[] LevelCounts()
    {
        var counts = new int[_levels.Length];
        foreach (var c in _codes)
            if (c >= 0) counts[c]++;
        return counts;
    }

    /// <summary>Rows of level <paramref name="level"/> counted; 0 when the level is not in <see cref="Levels"/>.</summary>
    public int Count(string level)
    {
        int code = Array.IndexOf(_levels, level);
        return code < 0 ? 0 : LevelCounts()[code];
    }

    public override bool IsMissing(int row) => _codes[row] < 0;

    /// <remarks>Levels are kept even when no gathered row uses them, as R keeps a factor's levels on subsetting.</remarks>
    public override Column Gather(IReadOnlyList<int> rows)
    {
        var codes = new int[rows.Count];
        for (int i = 0; i < codes.Length; i++) codes[i] = _codes[rows[i]];
        return Wrap(Name, codes, _levels);
    }

    public override Column Rename(string name) => Wrap(name, _codes, _levels);

    public override string? Format(int row) => this[row];
}
