using System.Globalization;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary>Reading a user's CSV and checking its columns, with errors that say what to change.</summary>
internal static class DataFile
{
    /// <summary>How to read a user's CSV: the options that change the reader, and the column kinds a model fixed.</summary>
    public sealed record ReadSettings
    {
        /// <summary>The field separator (--delimiter).</summary>
        public char Delimiter { get; init; } = ',';

        /// <summary>Tokens that mean "missing" besides the reader's defaults (--missing).</summary>
        public IReadOnlyList<string> Missing { get; init; } = [];

        /// <summary>The format of date columns; null for yyyy-MM-dd.</summary>
        public string? DateFormat { get; init; }

        /// <summary>Kinds given rather than guessed: the --date column, --categorical columns, a model's feature kinds.</summary>
        public IReadOnlyDictionary<string, ColumnKind> Kinds { get; init; } = new Dictionary<string, ColumnKind>();
    }

    /// <summary>
    /// Reads <paramref name="path"/>, taking columns written in <paramref name="dateFormat"/> (default yyyy-MM-dd) as dates;
    /// a missing file or one that is not a CSV ends in a one-line error.
    /// </summary>
    public static Table Read(string path, string? dateFormat = null) => Read(path, new ReadSettings { DateFormat = dateFormat });

    /// <summary>Reads <paramref name="path"/> as <paramref name="settings"/> say; every way it can fail ends in a one-line error.</summary>
    public static Table Read(string path, ReadSettings settings)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new UserInputException("No data file was given. Pass the path of a CSV file with a header row, e.g. data.csv.");
        if (Directory.Exists(path))
            throw new UserInputException($"'{path}' is a folder, not a CSV file. Pass the path of the CSV file itself.");
        if (!File.Exists(path))
            throw new UserInputException($"The data file '{path}' does not exist (looked in '{Path.GetFullPath(path)}'). Check the path and the working directory.");
        var options = new CsvOptions
        {
            Separator = settings.Delimiter,
            MissingValues = [.. CsvOptions.Default.MissingValues, .. settings.Missing],
            DateFormat = settings.DateFormat ?? CsvOptions.Default.DateFormat,
            ColumnKinds = settings.Kinds,
            IgnoreAbsentColumns = true,
        };
        try
        {
            // A pipe (e.g. <(zcat data.csv.gz)) can be read once only, so only a regular file is looked at first.
            bool regular = OutputFile.KindOf(path) == OutputFile.Kind.Regular;
            if (regular) RequireText(path);
            return Table.ReadCsv(path, options);
        }
        catch (CsvFormatException e)
        {
            string hint = OutputFile.KindOf(path) == OutputFile.Kind.Regular ? DelimiterHint(path, settings.Delimiter) : "";
            // The reader's fix speaks of CsvOptions; a kind this command fixed gets a fix in terms of its options.
            string? fix = e.ColumnName is { } name && settings.Kinds.TryGetValue(name, out var kind) ? kind switch
            {
                ColumnKind.Date => $"Correct the date, or give the file's date format with --date-format (now {options.DateFormat}).",
                ColumnKind.Numeric => $"The model was trained on numbers in '{name}': correct the value, or if it marks a missing value pass --missing with it.",
                _ => null,
            } : null;
            string message = fix is not null && e.Message.EndsWith(e.Fix, StringComparison.Ordinal) ? e.Message[..^e.Fix.Length] + fix : e.Message;
            throw new UserInputException($"{message}{hint}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"The data file '{path}' cannot be read: {e.Message} Check that it exists and that you may read it.");
        }
    }

    /// <summary>
    /// Refuses a file that is not UTF-8 or BOM-marked text, judged by its first 64 KiB: NUL bytes mostly in every
    /// other position are UTF-16 without a byte-order mark, NUL bytes elsewhere a binary file.
    /// </summary>
    private static void RequireText(string path)
    {
        var head = new byte[64 * 1024];
        int length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, length);
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            return;
        int zeros = bytes.Count((byte)0);
        if (zeros == 0) return;
        int evenZeros = 0, oddZeros = 0;
        for (int i = 0; i < bytes.Length; i++)
            if (bytes[i] == 0) { if (i % 2 == 0) evenZeros++; else oddZeros++; }
        // UTF-16 puts a NUL beside every ASCII character, always on the same side; text in other scripts has fewer.
        int half = bytes.Length / 2;
        if (Math.Max(evenZeros, oddZeros) >= half * 0.3 && Math.Min(evenZeros, oddZeros) <= Math.Max(evenZeros, oddZeros) / 20)
            throw new UserInputException($"The data file '{path}' looks like UTF-16 text ({(oddZeros > evenZeros ? "little" : "big")}-endian) without a byte-order mark, which cannot be told from binary data for sure. Save it as UTF-8 (or UTF-16 with a byte-order mark) and pass it again.");
        throw new UserInputException($"The data file '{path}' is not text: it holds binary data (NUL bytes, the first at byte {bytes.IndexOf((byte)0)}). Pass a CSV file (comma-separated, with a header row).");
    }

    /// <summary>
    /// A hint, or "", when the first line of the file holds another common separator (';', tab, '|') more often than
    /// <paramref name="delimiter"/>: a file from a spreadsheet in a comma-decimal locale, or a TSV.
    /// </summary>
    public static string DelimiterHint(string path, char delimiter)
    {
        string? first;
        try
        {
            using var reader = new StreamReader(path);
            first = reader.ReadLine();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
        if (first is null) return "";
        int used = first.Count(c => c == delimiter);
        var (best, count) = new[] { ',', ';', '\t', '|' }.Where(c => c != delimiter).Select(c => (c, first.Count(x => x == c))).MaxBy(p => p.Item2);
        if (count == 0 || count <= used) return "";
        string option = best == '\t' ? "--delimiter tab" : $"--delimiter '{best}'";
        return $" Its header line holds {count} {(best == '\t' ? "tab" : $"'{best}'")} character{(count == 1 ? "" : "s")}: if they separate the fields, pass {option}.";
    }

    /// <summary>Reading settings for a series: the --date column read as dates in its format, never guessed as numbers (yyyyMMdd).</summary>
    public static ReadSettings SeriesReadSettings(string? dateColumn, string dateFormat, char delimiter, IReadOnlyList<string> missing) => new()
    {
        Delimiter = delimiter,
        Missing = missing,
        DateFormat = dateFormat,
        Kinds = dateColumn is null ? new Dictionary<string, ColumnKind>() : new Dictionary<string, ColumnKind> { [dateColumn] = ColumnKind.Date },
    };

    /// <summary>
    /// Refuses a date that appears twice: rows of several series in one file would be interleaved into one. Names the
    /// first repeated date (in time order) and both its lines.
    /// </summary>
    public static void RequireDistinctDates(DateColumn dates, IReadOnlyList<int> timeOrder, string file)
    {
        for (int k = 1; k < timeOrder.Count; k++)
        {
            int previous = timeOrder[k - 1], current = timeOrder[k];
            if (dates[current] is null || dates[current] != dates[previous]) continue;
            var (first, second) = previous < current ? (previous, current) : (current, previous);
            throw new UserInputException($"The date column '{dates.Name}' has {dates.Format(first)} on lines {first + 2} and {second + 2} of {file}; a series needs one row per date. If the file holds several series, keep one series' rows (or give one row per date, e.g. their total), then run again.");
        }
    }

    /// <summary>Parses --delimiter: one character, or the word tab.</summary>
    public static char ParseDelimiter(string? text)
    {
        if (text is null) return ',';
        if (text is "tab" or "\\t" or "\t") return '\t';
        if (text.Length == 1 && text[0] is not ('"' or '\r' or '\n')) return text[0];
        throw new UserInputException($"--delimiter must be one character (or the word tab); received '{text}'. Use e.g. --delimiter ';' or --delimiter tab.");
    }

    /// <summary>
    /// The date format to read with: <paramref name="format"/> (a .NET custom format such as dd/MM/yyyy), or yyyy-MM-dd
    /// when null. A format that cannot write and read back a date is refused with examples.
    /// </summary>
    public static string CheckDateFormat(string? format)
    {
        if (format is null) return "yyyy-MM-dd";
        var probe = new DateTime(2021, 3, 14, 15, 9, 26);
        bool usable;
        try
        {
            string text = probe.ToString(format, CultureInfo.InvariantCulture);
            usable = format.Contains('y') && format.Contains('M') && format.Contains('d')
                && DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var back) && back.Date == probe.Date;
        }
        catch (FormatException)
        {
            usable = false;
        }
        if (!usable)
            throw new UserInputException($"--date-format '{format}' is not a date format that names the year, month and day. Use .NET's letters, e.g. dd/MM/yyyy, MM/dd/yyyy, yyyy-MM-dd HH:mm:ss or d.M.yyyy.");
        return format;
    }

    /// <summary>The column named <paramref name="name"/>, or an error listing the columns the file has.</summary>
    public static Column RequireColumn(Table table, string name, string option, string file)
    {
        if (table.Contains(name)) return table[name];
        var similar = table.ColumnNames.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        string hint = similar is null ? "" : $" Did you mean '{similar}'? Names are case-sensitive.";
        string columns = table.ColumnCount == 1 ? $"its only column is [{table.ColumnNames[0]}]" : $"its {table.ColumnCount} columns are [{ShortList(table.ColumnNames)}]";
        string delimiter = table.ColumnCount == 1 && OutputFile.KindOf(file) == OutputFile.Kind.Regular ? DelimiterHint(file, '\0') : "";
        throw new UserInputException($"{option} '{name}' is not a column of {file}; {columns}.{hint} Use one of those names.{delimiter}");
    }

    /// <summary>
    /// The column as numbers. A column the reader took as text is refused, naming the first value that is not a
    /// number, since one typo ("inf", "1,5") turns a whole column into text.
    /// </summary>
    public static NumericColumn RequireNumeric(Table table, string name, string role, string fix, string file)
    {
        var column = table[name];
        switch (column)
        {
            case NumericColumn numeric:
                return numeric;
            case CategoricalColumn text:
            {
                var levels = text.Levels;
                int numberLike = levels.Count(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                string? bad = levels.FirstOrDefault(l => !double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                int line = bad is null ? 0 : FirstLineOf(text, bad);
                if (numberLike > 0 && bad is not null)
                    throw new UserInputException($"Column '{name}' ({role}) is read as text because of the value '{bad}' on line {line} of {file}, which is not a number. Correct that value, or if '{bad}' marks a missing value pass --missing '{bad}'.");
                throw new UserInputException($"Column '{name}' ({role}) holds text such as '{levels.FirstOrDefault()}', not numbers. {fix}");
            }
            default:
                throw new UserInputException($"Column '{name}' ({role}) holds dates, not numbers. {fix}");
        }
    }

    /// <summary>
    /// Refuses a text column that is mostly numbers: a few stray tokens ("?", "n/a", "12.5x") turned a numeric column
    /// into text, which would one-hot encode every number as its own category. Names the first such token and its line.
    /// </summary>
    public static void RequireNotStrayText(CategoricalColumn column, string file)
    {
        var counts = column.LevelCounts();
        var levels = column.Levels;
        long numbers = 0, others = 0;
        for (int l = 0; l < levels.Count; l++)
            if (TextIsNumber(levels[l])) numbers += counts[l]; else others += counts[l];
        if (others == 0 || numbers < others) return;
        string bad = levels.First(l => !TextIsNumber(l));
        var strays = levels.Where(l => !TextIsNumber(l)).ToArray();
        throw new UserInputException($"Column '{column.Name}' is read as text because of the value '{bad}' on line {FirstLineOf(column, bad)} of {file}, though {numbers} of its {numbers + others} values are numbers ({strays.Length} value{(strays.Length == 1 ? "" : "s")} that {(strays.Length == 1 ? "is" : "are")} not: {ShortList(strays.Select(v => $"'{v}'").ToArray(), 5)}). If '{bad}' marks a missing value pass --missing '{bad}'; if the column holds categories pass --categorical {column.Name}; otherwise correct the value.");
    }

    private static bool TextIsNumber(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>Refuses infinite values, which no scaler or network can use (NaN is read as missing).</summary>
    public static void RequireFinite(NumericColumn column, string file)
    {
        var values = column.Values;
        for (int i = 0; i < values.Length; i++)
            if (double.IsInfinity(values[i]))
                throw new UserInputException($"Column '{column.Name}' has the infinite value {Format(values[i])} on line {i + 2} of {file}. Replace it with a finite number, or leave it empty (or NA) to mark it missing.");
    }

    /// <summary>1-based line of the first row holding <paramref name="level"/> (line 1 is the header).</summary>
    private static int FirstLineOf(CategoricalColumn column, string level)
    {
        for (int i = 0; i < column.Length; i++)
            if (column[i] == level) return i + 2;
        return 0;
    }

    /// <summary>The first few names, so that a message about a wide file or a column of many levels stays short.</summary>
    public static string ShortList(IReadOnlyList<string> items, int shown = 10) =>
        items.Count <= shown ? string.Join(", ", items) : string.Join(", ", items.Take(shown)) + $", ... ({items.Count - shown} more)";

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Parses "8,5" into [8, 5]: positive whole numbers separated by commas.</summary>
    public static int[] ParseSizes(string text, string option, string example)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1 || sizes[i] > 100_000)
                throw new UserInputException($"{option} must be positive whole numbers separated by commas; received '{text}'. Use e.g. {option} {example}.");
        return sizes;
    }

    /// <summary>Feature names from "--features a,b c" (commas or separate words), without duplicates.</summary>
    public static string[] ParseNames(IEnumerable<string>? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Writes a text file so that it is either the old file or the complete new one (see <see cref="OutputFile"/>).</summary>
    public static void WriteAtomically(string path, string content) => OutputFile.WriteText(path, content, "--out");

    /// <summary>Quotes a CSV field when it needs it.</summary>
    public static string CsvField(string? value)
    {
        if (value is null) return "";
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
