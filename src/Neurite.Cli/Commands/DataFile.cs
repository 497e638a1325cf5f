using System.Globalization;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary>Reading a user's CSV and checking its columns, with errors that say what to change.</summary>
internal static class DataFile
{
    /// <summary>
    /// Reads <paramref name="path"/>, taking columns written in <paramref name="dateFormat"/> (default yyyy-MM-dd) as dates;
    /// a missing file or one that is not a CSV ends in a one-line error.
    /// </summary>
    public static Table Read(string path, string? dateFormat = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new UserInputException("No data file was given. Pass the path of a CSV file with a header row, e.g. data.csv.");
        if (Directory.Exists(path))
            throw new UserInputException($"'{path}' is a folder, not a CSV file. Pass the path of the CSV file itself.");
        if (!File.Exists(path))
            throw new UserInputException($"The data file '{path}' does not exist (looked in '{Path.GetFullPath(path)}'). Check the path and the working directory.");
        try
        {
            return Table.ReadCsv(path, dateFormat is null ? null : new CsvOptions { DateFormat = dateFormat });
        }
        catch (CsvFormatException e)
        {
            throw new UserInputException($"{e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"The data file '{path}' cannot be read: {e.Message} Check that it exists and that you may read it.");
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new UserInputException($"The data file '{path}' is not text. Pass a CSV file (comma-separated, with a header row).");
        }
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
        throw new UserInputException($"{option} '{name}' is not a column of {file}; its columns are [{string.Join(", ", table.ColumnNames)}].{hint} Use one of those names.");
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
                    throw new UserInputException($"Column '{name}' ({role}) is read as text because of the value '{bad}' on line {line} of {file}, which is not a number. Correct that value, or leave it empty (or NA) to mark it missing.");
                throw new UserInputException($"Column '{name}' ({role}) holds text such as '{levels.FirstOrDefault()}', not numbers. {fix}");
            }
            default:
                throw new UserInputException($"Column '{name}' ({role}) holds dates, not numbers. {fix}");
        }
    }

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
