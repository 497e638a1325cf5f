using nietras.SeparatedValues;

namespace Neurite.Data;

/// <summary>
/// Turns CSV text into a <see cref="Table"/>: Sep splits and unquotes the fields, this class checks the
/// shape of the file and gives every column its kind. All cells are read before any column is typed,
/// because inference needs to see a whole column.
/// </summary>
internal static class CsvTableReader
{
    public static Table Read(TextReader text, string source, CsvOptions options)
    {
        var missing = new HashSet<string>(options.MissingValues, StringComparer.Ordinal);
        string[]? header = null;
        int headerLine = 1;
        var cells = new List<string?[]>();
        var lines = new List<int>();

        // The column-count check is ours, not Sep's, so that the error can name the file and the missing column.
        using (var reader = Sep.New(options.Separator).Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).From(text))
        {
            foreach (var row in reader)
            {
                // Sep 0.17.1 reports LineNumberFrom = 2 for the very first row when HasHeader is false.
                int line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
                if (row.ColCount == 1 && row[0].Span.IsWhiteSpace()) continue; // R's read.csv skips blank lines too
                if (header is null)
                {
                    header = new string[row.ColCount];
                    for (int j = 0; j < header.Length; j++) header[j] = row[j].ToString().Trim();
                    headerLine = line;
                    CheckHeader(source, line, header);
                    continue;
                }
                if (row.ColCount != header.Length)
                    throw Ragged(source, line, row.ColCount, header);
                var values = new string?[header.Length];
                for (int j = 0; j < values.Length; j++)
                {
                    var span = row[j].Span;
                    values[j] = IsMissing(span, missing) ? null : span.ToString();
                }
                cells.Add(values);
                lines.Add(line);
            }
        }

        if (header is null)
            throw new CsvFormatException(source, 1, 1, null, "the file is empty.",
                "A CSV needs a header line naming the columns, then one line per row.");
        if (cells.Count == 0)
            throw new CsvFormatException(source, headerLine + 1, 1, header[0], "the file has a header but no data rows.",
                "Add data lines below the header, or check that the right file was given.");

        CheckOptionNames(source, headerLine, header, options);
        var columns = new Column[header.Length];
        for (int j = 0; j < header.Length; j++)
            columns[j] = BuildColumn(source, header[j], j, cells, lines, options);
        return new Table(columns, source);
    }

    private static bool IsMissing(ReadOnlySpan<char> span, HashSet<string> missing)
    {
        if (missing.Count == 0) return false;
        var lookup = missing.GetAlternateLookup<ReadOnlySpan<char>>();
        return lookup.Contains(span) || lookup.Contains(span.Trim());
    }

    private static void CheckHeader(string source, int line, string[] header)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int j = 0; j < header.Length; j++)
        {
            if (header[j].Length == 0)
                throw new CsvFormatException(source, line, j + 1, null, "the header has an empty column name.",
                    "Give every column a name in the first line.");
            if (seen.TryGetValue(header[j], out int first))
                throw new CsvFormatException(source, line, j + 1, header[j], $"the name '{header[j]}' is already used by column {first + 1}.",
                    "Give every column a distinct name in the first line.");
            seen[header[j]] = j;
        }
    }

    private static CsvFormatException Ragged(string source, int line, int fieldCount, string[] header)
    {
        if (fieldCount < header.Length)
            return new CsvFormatException(source, line, fieldCount + 1, header[fieldCount],
                $"the row has {fieldCount} fields but the header has {header.Length}, so this column and the ones after it are absent.",
                "Add the missing fields (an empty field between separators is read as missing), or fix a stray separator or quote.");
        return new CsvFormatException(source, line, header.Length + 1, null,
            $"the row has {fieldCount} fields but the header has {header.Length}; fields from column {header.Length + 1} on have no name.",
            "Remove the extra fields, quote text that contains the separator, or add the names to the header.");
    }

    private static void CheckOptionNames(string source, int headerLine, string[] header, CsvOptions options)
    {
        if (options.IgnoreAbsentColumns) return;
        foreach (var name in options.ColumnKinds.Keys.Concat(options.Levels.Keys))
            if (Array.IndexOf(header, name) < 0)
                throw new CsvFormatException(source, headerLine, 0, name,
                    $"CsvOptions names the column '{name}', which is not in the header [{string.Join(", ", header)}].",
                    "Spell the name as the header does (names are case-sensitive), or remove it from the options.");
    }

    private static Column BuildColumn(string source, string name, int j, List<string?[]> cells, List<int> lines, CsvOptions options)
    {
        if (options.Levels.TryGetValue(name, out var levels))
            return ParseCategorical(source, name, j, cells, lines, levels);
        ColumnKind kind = options.ColumnKinds.TryGetValue(name, out var forced) ? forced : Infer(j, cells, options);
        return kind switch
        {
            ColumnKind.Numeric => ParseNumeric(source, name, j, cells, lines),
            ColumnKind.Date => ParseDate(source, name, j, cells, lines, options.DateFormat),
            _ => CategoricalColumn.FromValues(name, cells.Select(r => r[j]), options.LevelOrder),
        };
    }

    private static ColumnKind Infer(int j, List<string?[]> cells, CsvOptions options)
    {
        bool numeric = true, date = true;
        foreach (var row in cells)
        {
            var v = row[j];
            if (v is null) continue;
            numeric = numeric && TextValues.TryParseNumber(v, out _);
            date = date && TextValues.TryParseDate(v, options.DateFormat, out _);
            if (!numeric && !date) return ColumnKind.Categorical;
        }
        return numeric ? ColumnKind.Numeric : ColumnKind.Date;
    }

    private static NumericColumn ParseNumeric(string source, string name, int j, List<string?[]> cells, List<int> lines)
    {
        var values = new double[cells.Count];
        for (int i = 0; i < values.Length; i++)
        {
            var v = cells[i][j];
            if (v is null) values[i] = double.NaN;
            else if (!TextValues.TryParseNumber(v, out values[i]))
                throw new CsvFormatException(source, lines[i], j + 1, name, $"'{v}' is not a number, but the column is read as numbers.",
                    "Correct the value, add it to CsvOptions.MissingValues if it means missing, or read the column as Categorical through CsvOptions.ColumnKinds.");
        }
        return NumericColumn.Wrap(name, values);
    }

    private static DateColumn ParseDate(string source, string name, int j, List<string?[]> cells, List<int> lines, string format)
    {
        var values = new DateTime?[cells.Count];
        for (int i = 0; i < values.Length; i++)
        {
            var v = cells[i][j];
            if (v is null) continue;
            if (!TextValues.TryParseDate(v, format, out var d))
                throw new CsvFormatException(source, lines[i], j + 1, name, $"'{v}' is not a date in the format {format}, but the column is read as dates.",
                    "Correct the value, set CsvOptions.DateFormat to the file's format, or read the column as Categorical through CsvOptions.ColumnKinds.");
            values[i] = d;
        }
        return DateColumn.Wrap(name, values);
    }

    /// <summary>The first few items, so that a message about a column of thousands of levels stays one short line.</summary>
    internal static string ShortList(IReadOnlyList<string> items, int shown = 10) =>
        items.Count <= shown ? string.Join(", ", items) : string.Join(", ", items.Take(shown)) + $", ... ({items.Count - shown} more)";

    private static CategoricalColumn ParseCategorical(string source, string name, int j, List<string?[]> cells, List<int> lines, IReadOnlyList<string> levels)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < levels.Count; k++) index[levels[k]] = k;
        var codes = new int[cells.Count];
        for (int i = 0; i < codes.Length; i++)
        {
            var v = cells[i][j];
            if (v is null) { codes[i] = -1; continue; }
            if (!index.TryGetValue(v, out codes[i]))
                throw new CsvFormatException(source, lines[i], j + 1, name, $"'{v}' is not one of the {levels.Count} levels [{ShortList(levels)}] given for this column.",
                    "Add the value to CsvOptions.Levels for this column, or correct the file.");
        }
        return new CategoricalColumn(name, codes, levels);
    }
}
