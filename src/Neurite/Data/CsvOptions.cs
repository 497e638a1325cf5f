namespace Neurite.Data;

/// <summary>What a column holds; chosen by inference unless <see cref="CsvOptions.ColumnKinds"/> says otherwise.</summary>
public enum ColumnKind
{
    /// <summary>Numbers (<see cref="NumericColumn"/>), missing as NaN.</summary>
    Numeric,
    /// <summary>Text treated as a factor (<see cref="CategoricalColumn"/>): integer codes into a list of levels.</summary>
    Categorical,
    /// <summary>Calendar dates (<see cref="DateColumn"/>).</summary>
    Date,
}

/// <summary>How the levels of a categorical column are ordered, which fixes its codes and one-hot columns.</summary>
public enum LevelOrder
{
    /// <summary>
    /// Sorted like R's <c>factor()</c>: numerically when every level is a number ("1","2",…,"10"),
    /// otherwise by ordinal string comparison.
    /// </summary>
    Sorted,
    /// <summary>In the order the values first appear in the file.</summary>
    FirstAppearance,
}

/// <summary>Options for <see cref="Table.ReadCsv(string, CsvOptions?)"/>.</summary>
/// <remarks>
/// Column kinds are inferred from the text: <see cref="ColumnKind.Numeric"/> when every non-missing
/// value parses as a number in the invariant culture, <see cref="ColumnKind.Date"/> when every
/// non-missing value matches <see cref="DateFormat"/>, otherwise <see cref="ColumnKind.Categorical"/>.
/// A column whose values are all missing is numeric (all NaN).
/// </remarks>
public sealed record CsvOptions
{
    /// <summary>The field separator.</summary>
    public char Separator { get; init; } = ',';

    /// <summary>
    /// Field texts (after unquoting) that mean "missing", compared exactly; the defaults cover R's
    /// <c>write.csv</c> (<c>NA</c>), Yahoo Finance (<c>null</c>) and pandas (<c>NaN</c>, empty).
    /// </summary>
    public IReadOnlyCollection<string> MissingValues { get; init; } = ["", "NA", "null", "NaN"];

    /// <summary>
    /// Forced kinds by column name, overriding inference, e.g. BreastCancer's ordinal attributes
    /// "1".."10" as <see cref="ColumnKind.Categorical"/>. Every name must exist in the header.
    /// </summary>
    public IReadOnlyDictionary<string, ColumnKind> ColumnKinds { get; init; } = new Dictionary<string, ColumnKind>();

    /// <summary>
    /// Explicit level lists by column name (the column becomes categorical); a value outside its list
    /// is an error. Use it to keep a level that the file happens not to contain.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Levels { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// When true, <see cref="ColumnKinds"/> and <see cref="Levels"/> entries that name a column the header lacks are
    /// ignored instead of refused, for a caller that states kinds for columns it may not find and checks the
    /// columns itself.
    /// </summary>
    public bool IgnoreAbsentColumns { get; init; }

    /// <summary>Level order for categorical columns without an explicit <see cref="Levels"/> list.</summary>
    public LevelOrder LevelOrder { get; init; } = LevelOrder.Sorted;

    /// <summary>The exact date format (invariant culture) for date inference and parsing.</summary>
    public string DateFormat { get; init; } = "yyyy-MM-dd";

    /// <summary>Reads with the defaults.</summary>
    public static CsvOptions Default { get; } = new();
}
