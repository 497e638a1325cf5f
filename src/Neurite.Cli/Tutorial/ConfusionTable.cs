using System.Globalization;
using System.Text;

namespace Neurite.Cli.Tutorial;

/// <summary>R's <c>table(actual, classes)</c>: counts of each actual class (rows) against each predicted class (columns).</summary>
internal sealed class ConfusionTable
{
    private ConfusionTable(int[,] counts, string[] labels)
    {
        Counts = counts;
        Labels = labels;
    }

    /// <summary>Counts[actual, predicted].</summary>
    public int[,] Counts { get; }

    /// <summary>Class names, index = class code.</summary>
    public string[] Labels { get; }

    public int ClassCount => Labels.Length;

    public static ConfusionTable From(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, string[] labels)
    {
        if (actual.Count != predicted.Count)
            throw new ArgumentException($"There are {actual.Count} actual classes but {predicted.Count} predictions; pass one prediction per test row.");
        var counts = new int[labels.Length, labels.Length];
        for (int i = 0; i < actual.Count; i++) counts[actual[i], predicted[i]]++;
        return new ConfusionTable(counts, labels);
    }

    /// <summary>The class of each one-hot row (R's <c>y %*% 0:(k-1)</c>).</summary>
    public static int[] ClassesOfOneHot(Tensor oneHot)
    {
        int rows = oneHot.Dim(0), width = oneHot.Dim(1);
        var span = oneHot.Span;
        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int found = -1;
            for (int c = 0; c < width; c++)
                if (span[r * width + c] == 1f) found = c;
            classes[r] = found >= 0 ? found : throw new ArgumentException($"Row {r} of the one-hot labels has no 1; every row must name its class.");
        }
        return classes;
    }

    public int RowTotal(int actual) => Enumerable.Range(0, ClassCount).Sum(p => Counts[actual, p]);

    public int Correct => Enumerable.Range(0, ClassCount).Sum(c => Counts[c, c]);

    public int Total => Enumerable.Range(0, ClassCount).Sum(RowTotal);

    /// <summary>
    /// The table as R prints it (class codes as headers, "classes" over the predicted columns), with each row's
    /// total and the class name added on the right so the split is visible at a glance.
    /// </summary>
    public string Format()
    {
        int width = Math.Max(4, Total.ToString(CultureInfo.InvariantCulture).Length + 1);
        var text = new StringBuilder();
        string indent = new(' ', 4);
        text.Append(indent).Append("   classes").AppendLine();
        text.Append(indent);
        for (int p = 0; p < ClassCount; p++) text.Append(p.ToString(CultureInfo.InvariantCulture).PadLeft(width));
        text.Append("   total").AppendLine();
        for (int a = 0; a < ClassCount; a++)
        {
            text.Append(a.ToString(CultureInfo.InvariantCulture).PadLeft(indent.Length - 1)).Append(' ');
            for (int p = 0; p < ClassCount; p++) text.Append(Counts[a, p].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            text.Append(RowTotal(a).ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append("   ").Append(Labels[a]).AppendLine();
        }
        return text.ToString();
    }

    /// <summary>Header and rows for the HTML report.</summary>
    public (string[] Header, List<string[]> Rows) ToReportTable()
    {
        string[] header = ["actual \\ predicted", .. Labels, "total"];
        var rows = new List<string[]>();
        for (int a = 0; a < ClassCount; a++)
        {
            var row = new List<string> { Labels[a] };
            for (int p = 0; p < ClassCount; p++) row.Add(Counts[a, p].ToString(CultureInfo.InvariantCulture));
            row.Add(RowTotal(a).ToString(CultureInfo.InvariantCulture));
            rows.Add([.. row]);
        }
        return (header, rows);
    }
}
