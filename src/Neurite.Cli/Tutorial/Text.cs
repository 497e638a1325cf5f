using System.Globalization;
using System.Text;
using Neurite.Data;

namespace Neurite.Cli.Tutorial;

/// <summary>Number and table formatting in R's console style, culture-independent.</summary>
internal static class Text
{
    public static string Num(double value, string format = "0.0000") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>R's print of <c>evaluate()</c>'s list: <c>$loss</c> then <c>[1] value</c> for each score.</summary>
    public static string Score(IReadOnlyDictionary<string, double> score)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in score)
            text.Append('$').Append(name).AppendLine().Append("[1] ").Append(Num(value, "0.0000000")).AppendLine().AppendLine();
        return text.ToString().TrimEnd() + Environment.NewLine;
    }

    /// <summary>R's <c>head(table)</c>: the first rows with a 1-based row number, columns right-aligned.</summary>
    public static string Head(Table table, int rows = 6)
    {
        int n = Math.Min(rows, table.RowCount);
        var columns = table.Columns;
        var cells = columns.Select(c => Enumerable.Range(0, n).Select(r => c.Format(r) ?? "NA").ToArray()).ToArray();
        int rowNameWidth = n.ToString(CultureInfo.InvariantCulture).Length;
        var widths = columns.Select((c, j) => Math.Max(c.Name.Length, cells[j].Max(v => v.Length))).ToArray();
        var text = new StringBuilder();
        text.Append(new string(' ', rowNameWidth));
        for (int j = 0; j < columns.Count; j++) text.Append(' ').Append(columns[j].Name.PadLeft(widths[j]));
        text.AppendLine();
        for (int r = 0; r < n; r++)
        {
            text.Append((r + 1).ToString(CultureInfo.InvariantCulture).PadRight(rowNameWidth));
            for (int j = 0; j < columns.Count; j++) text.Append(' ').Append(cells[j][r].PadLeft(widths[j]));
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>R's <c>summary()</c> of numeric columns, one line per statistic.</summary>
    public static string Summary(IReadOnlyList<(string Name, NumericSummary Summary)> columns)
    {
        string[] labels = ["Min.   :", "1st Qu.:", "Median :", "Mean   :", "3rd Qu.:", "Max.   :"];
        var text = new StringBuilder();
        text.AppendLine(string.Join("  ", columns.Select(c => c.Name.PadLeft(10).PadRight(labels[0].Length + 10))));
        for (int i = 0; i < labels.Length; i++)
        {
            text.AppendLine(string.Join("  ", columns.Select(c =>
            {
                var s = c.Summary;
                double v = i switch { 0 => s.Min, 1 => s.FirstQuartile, 2 => s.Median, 3 => s.Mean, 4 => s.ThirdQuartile, _ => s.Max };
                return labels[i] + Num(v, "0.00000").PadLeft(10);
            })));
        }
        return text.ToString();
    }
}
