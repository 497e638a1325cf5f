namespace Neurite.Data;

/// <summary>
/// A data frame: equally long, named, typed columns (<see cref="NumericColumn"/>,
/// <see cref="CategoricalColumn"/>, <see cref="DateColumn"/>). Immutable; every operation returns a new
/// table that shares the unchanged column data.
/// </summary>
public sealed class Table
{
    private readonly Column[] _columns;
    private readonly Dictionary<string, int> _index;

    /// <summary>A table of the given columns, which must have distinct names and equal lengths.</summary>
    public Table(IEnumerable<Column> columns) : this(columns, null) { }

    internal Table(IEnumerable<Column> columns, string? source)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _columns = columns.ToArray();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int j = 0; j < _columns.Length; j++)
        {
            if (!_index.TryAdd(_columns[j].Name, j))
                throw new ArgumentException($"Two columns are named '{_columns[j].Name}'. Rename one of them (Column.Rename).", nameof(columns));
            if (_columns[j].Length != _columns[0].Length)
                throw new ArgumentException($"Column '{_columns[j].Name}' has {_columns[j].Length} rows but '{_columns[0].Name}' has {_columns[0].Length}. All columns of a table need the same length.", nameof(columns));
        }
        Source = source;
    }

    /// <summary>Reads a CSV file; see <see cref="CsvOptions"/> for missing values and column kinds.</summary>
    /// <exception cref="CsvFormatException">The file is empty, has only a header, has a row with a different number of fields, or a value that does not fit its column's kind.</exception>
    public static Table ReadCsv(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The CSV file '{path}' does not exist (looked in '{Path.GetFullPath(path)}'). Check the path and the working directory.", path);
        using var reader = new StreamReader(path);
        return CsvTableReader.Read(reader, path, options ?? CsvOptions.Default);
    }

    /// <summary>Reads CSV text; <paramref name="sourceName"/> stands for the file in error messages.</summary>
    public static Table ReadCsv(TextReader reader, string sourceName, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        return CsvTableReader.Read(reader, sourceName, options ?? CsvOptions.Default);
    }

    /// <summary>Where the table was read from (file path or source name), or <c>null</c>.</summary>
    public string? Source { get; }

    /// <summary>Number of rows (R's <c>nrow</c>).</summary>
    public int RowCount => _columns.Length == 0 ? 0 : _columns[0].Length;

    /// <summary>Number of columns (R's <c>ncol</c>).</summary>
    public int ColumnCount => _columns.Length;

    /// <summary>The columns in order.</summary>
    public IReadOnlyList<Column> Columns => _columns;

    /// <summary>The column names in order.</summary>
    public IReadOnlyList<string> ColumnNames => _columns.Select(c => c.Name).ToArray();

    /// <summary>Whether a column of that name exists.</summary>
    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>The column named <paramref name="name"/>.</summary>
    public Column this[string name] => _columns[IndexOf(name)];

    /// <summary>The column at position <paramref name="index"/>.</summary>
    public Column this[int index] => _columns[index];

    /// <summary>The numeric column <paramref name="name"/>.</summary>
    public NumericColumn Numeric(string name) => As<NumericColumn>(name, ColumnKind.Numeric);

    /// <summary>The categorical column <paramref name="name"/>.</summary>
    public CategoricalColumn Categorical(string name) => As<CategoricalColumn>(name, ColumnKind.Categorical);

    /// <summary>The date column <paramref name="name"/>.</summary>
    public DateColumn Date(string name) => As<DateColumn>(name, ColumnKind.Date);

    /// <summary>A table of the named columns, in the order given (R's <c>df[, names]</c>).</summary>
    public Table Select(params string[] names) => new(names.Select(n => this[n]), Source);

    /// <summary>A table without the named columns.</summary>
    public Table Drop(params string[] names)
    {
        foreach (var n in names) IndexOf(n);
        return new Table(_columns.Where(c => Array.IndexOf(names, c.Name) < 0), Source);
    }

    /// <summary>This table with <paramref name="column"/> added at the end, or replacing the column of the same name in place.</summary>
    public Table WithColumn(Column column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var columns = (Column[])_columns.Clone();
        if (_index.TryGetValue(column.Name, out int j)) columns[j] = column;
        else columns = [.. columns, column];
        return new Table(columns, Source);
    }

    /// <summary>The given rows, in that order (R's <c>df[rows, ]</c>, 0-based).</summary>
    public Table Rows(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var r in rows)
            if ((uint)r >= (uint)RowCount)
                throw new ArgumentOutOfRangeException(nameof(rows), $"Row {r} is outside the table's {RowCount} rows (0-based). Pass row indices from 0 to {RowCount - 1}.");
        return new Table(_columns.Select(c => c.Gather(rows)), Source);
    }

    /// <summary>The rows whose flag is true (R's <c>df[keep, ]</c>).</summary>
    public Table Where(IReadOnlyList<bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        if (keep.Count != RowCount)
            throw new ArgumentException($"Got {keep.Count} row flags for a table of {RowCount} rows. Pass one flag per row.", nameof(keep));
        var rows = new List<int>();
        for (int i = 0; i < keep.Count; i++)
            if (keep[i]) rows.Add(i);
        return Rows(rows);
    }

    /// <summary>Rows <paramref name="start"/> .. <paramref name="start"/>+<paramref name="count"/>-1.</summary>
    public Table Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > RowCount)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows {start}..{start + count - 1} are outside the table's {RowCount} rows. Pass a range within 0..{RowCount - 1}.");
        return Rows(Enumerable.Range(start, count).ToArray());
    }

    /// <summary>The first <paramref name="count"/> rows (fewer if the table is shorter).</summary>
    public Table Head(int count) => Slice(0, Math.Min(count, RowCount));

    /// <summary>The last <paramref name="count"/> rows (fewer if the table is shorter).</summary>
    public Table Tail(int count)
    {
        int n = Math.Min(count, RowCount);
        return Slice(RowCount - n, n);
    }

    /// <summary>For each row, whether no column is missing there (R's <c>complete.cases</c>).</summary>
    public bool[] CompleteCases()
    {
        var complete = new bool[RowCount];
        for (int i = 0; i < complete.Length; i++)
        {
            complete[i] = true;
            foreach (var c in _columns)
                if (c.IsMissing(i)) { complete[i] = false; break; }
        }
        return complete;
    }

    /// <summary>The rows with no missing value, in order (R's <c>df[complete.cases(df), ]</c> or <c>na.omit</c>).</summary>
    public Table DropIncomplete() => Where(CompleteCases());

    /// <summary>
    /// The named columns as a float32 matrix of shape (rows, columns): numbers as they are and
    /// categorical columns as their codes (0-based). For one-hot inputs use
    /// <see cref="CategoricalEncoding.OneHot(Table, string[])"/>.
    /// </summary>
    /// <exception cref="NeuriteException">A value is missing, or a column holds dates.</exception>
    public Tensor ToTensor(params string[] names)
    {
        if (names.Length == 0) names = _columns.Select(c => c.Name).ToArray();
        var selected = names.Select(n => this[n]).ToArray();
        int rows = RowCount, cols = selected.Length;
        var data = new float[rows * cols];
        for (int j = 0; j < cols; j++)
        {
            var column = selected[j];
            for (int i = 0; i < rows; i++)
            {
                if (column.IsMissing(i))
                    throw new NeuriteException($"Column '{column.Name}' is missing at row {i}, and a tensor cannot hold missing values. Drop incomplete rows first (Table.DropIncomplete) or fill them in.");
                data[i * cols + j] = column switch
                {
                    NumericColumn n => (float)n[i],
                    CategoricalColumn c => c.Codes[i],
                    _ => throw new NeuriteException($"Column '{column.Name}' holds dates, which have no numeric form here. Leave it out of ToTensor, or derive a numeric column (e.g. day index) from it."),
                };
            }
        }
        return new Tensor(data, rows, cols);
    }

    public override string ToString() =>
        $"Table {RowCount} rows × {ColumnCount} columns: {string.Join(", ", _columns.Select(c => $"{c.Name} ({c.Kind})"))}";

    private int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_index.TryGetValue(name, out int j)) return j;
        throw new NeuriteException($"The table has no column named '{name}'. Its columns are [{string.Join(", ", _columns.Select(c => c.Name))}]; names are case-sensitive.");
    }

    private T As<T>(string name, ColumnKind kind) where T : Column
    {
        var c = this[name];
        return c as T ?? throw new NeuriteException($"Column '{name}' is {c.Kind}, not {kind}. Read it as {kind} through CsvOptions.ColumnKinds, or use the accessor for {c.Kind}.");
    }
}
