using System.Globalization;
using System.Security.Cryptography;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary>A series read from a table: its values in time order, a label per value (date or line), the feature columns' values on the same rows, and how many rows were dropped.</summary>
internal sealed record ForecastSeries(double[] Values, string[] Labels, int Dropped, double[][] Features)
{
    /// <summary>Magnitudes above this leave no room for differences between values (they would overflow).</summary>
    public const double LargestMagnitude = 1e307;

    /// <summary>
    /// The numeric <paramref name="column"/> and <paramref name="features"/> in time order: by <paramref name="date"/>
    /// when given, as the file has them otherwise; rows with a missing value or date are dropped and counted.
    /// </summary>
    public static ForecastSeries Read(Table table, string column, string? date, string dateFormat, string file, string role, IReadOnlyList<string>? features = null)
    {
        DataFile.RequireColumn(table, column, role, file);
        var values = DataFile.RequireNumeric(table, column, "the --column to forecast", "Pick a --column of numbers to forecast.", file);
        if (values.MissingCount == table.RowCount)
            throw new UserInputException($"The column '{column}' has only missing values in {file}. Pick a --column that holds the series.");
        var columns = new List<NumericColumn> { values };
        foreach (var name in features ?? [])
        {
            DataFile.RequireColumn(table, name, "--features", file);
            columns.Add(DataFile.RequireNumeric(table, name, "a --features column", $"The forecaster reads numbers only; leave '{name}' out of --features.", file));
        }
        foreach (var c in columns)
        {
            DataFile.RequireFinite(c, file);
            for (int i = 0; i < c.Length; i++)
                if (!c.IsMissing(i) && Math.Abs(c[i]) > LargestMagnitude)
                    throw new UserInputException($"Column '{c.Name}' has the value {c[i].ToString("R", CultureInfo.InvariantCulture)} on line {i + 2} of {file}, beyond ±1e307, where the change from one value to the next can overflow. Rescale the column (e.g. divide it by 1e300) and forecast that.");
        }

        // Rows in time order: by the date column when there is one, as the file has them otherwise.
        int[] order = Enumerable.Range(0, table.RowCount).ToArray();
        DateColumn? dates = null;
        if (date is not null)
        {
            var dateColumn = DataFile.RequireColumn(table, date, "--date", file);
            dates = dateColumn as DateColumn ?? throw new UserInputException(
                $"--date column '{date}' does not hold dates written as {dateFormat} (e.g. '{dateColumn.Format(0)}' on line 2 of {file}). Give their format with --date-format (e.g. --date-format dd/MM/yyyy), or leave --date out to keep the rows in file order.");
            order = order.OrderBy(i => dates[i] ?? DateTime.MaxValue).ToArray();
            DataFile.RequireDistinctDates(dates, order, file);
        }
        var rows = order.Where(i => columns.All(c => !c.IsMissing(i)) && (dates is null || !dates.IsMissing(i))).ToArray();
        var labels = rows.Select(i => dates is null ? (i + 2).ToString(CultureInfo.InvariantCulture) : dates.Format(i)!).ToArray();
        return new ForecastSeries(rows.Select(i => values[i]).ToArray(), labels, table.RowCount - rows.Length,
            columns.Skip(1).Select(c => rows.Select(i => c[i]).ToArray()).ToArray());
    }

    /// <summary>SHA-256 of the first <paramref name="count"/> values' bits, to recognise the training rows in another file.</summary>
    public static string Hash(IReadOnlyList<double> values, int count)
    {
        var bytes = new byte[8 * count];
        for (int i = 0; i < count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(8 * i), values[i]);
        return Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }
}
