namespace Neurite.Data;

/// <summary>
/// A CSV file that cannot become a <see cref="Table"/>: ragged rows, text in a number column, an
/// unknown column name, no header or no data. The message starts with <c>file(line,column)</c>, the way
/// compilers report positions, so editors can jump to the spot.
/// </summary>
public sealed class CsvFormatException : NeuriteException
{
    public CsvFormatException(string file, int line, int column, string? columnName, string problem, string fix)
        : base($"{Position(file, line, column)}: {Describe(line, column, columnName)}: {problem} {fix}")
    {
        File = file;
        Problem = problem;
        Fix = fix;
        Line = line;
        Column = column;
        ColumnName = columnName;
    }

    /// <summary>The file's path or the source name given to <see cref="Table.ReadCsv(TextReader, string, CsvOptions?)"/>.</summary>
    public string File { get; }

    /// <summary>What is wrong at that spot, without the position and the fix.</summary>
    public string Problem { get; }

    /// <summary>How to fix it, in terms of this library's <see cref="CsvOptions"/>; an application may word its own.</summary>
    public string Fix { get; }

    /// <summary>1-based line number in the file (line 1 is the header).</summary>
    public int Line { get; }

    /// <summary>1-based field position in the line; 0 when the column named in <see cref="ColumnName"/> is not in the file.</summary>
    public int Column { get; }

    /// <summary>The header name of <see cref="Column"/>, when the header has one there.</summary>
    public string? ColumnName { get; }

    private static string Position(string file, int line, int column) =>
        column > 0 ? $"{file}({line},{column})" : $"{file}({line})";

    private static string Describe(int line, int column, string? columnName) => (column, columnName) switch
    {
        ( > 0, null) => $"line {line}, column {column}",
        ( > 0, _) => $"line {line}, column {column} '{columnName}'",
        _ => $"line {line}, column '{columnName}'",
    };
}
