using Neurite.Cli.Tutorial;

namespace Neurite.Cli.Commands;

/// <summary>Accuracy, per-class precision and recall, and the majority-class baseline of a set of predictions.</summary>
internal sealed class ClassScores
{
    public ClassScores(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, string[] classes, int majorityClass)
    {
        Confusion = ConfusionTable.From(actual, predicted, classes);
        Classes = classes;
        MajorityClass = majorityClass;
        int n = actual.Count;
        Accuracy = n == 0 ? double.NaN : (double)Confusion.Correct / n;
        MajorityAccuracy = n == 0 ? double.NaN : (double)actual.Count(a => a == majorityClass) / n;
        Precision = new double[classes.Length];
        Recall = new double[classes.Length];
        Support = new int[classes.Length];
        for (int c = 0; c < classes.Length; c++)
        {
            int predictedAsC = Enumerable.Range(0, classes.Length).Sum(a => Confusion.Counts[a, c]);
            Support[c] = Confusion.RowTotal(c);
            Precision[c] = predictedAsC == 0 ? double.NaN : (double)Confusion.Counts[c, c] / predictedAsC;
            Recall[c] = Support[c] == 0 ? double.NaN : (double)Confusion.Counts[c, c] / Support[c];
        }
    }

    public ConfusionTable Confusion { get; }
    public string[] Classes { get; }
    public int MajorityClass { get; }
    public double Accuracy { get; }

    /// <summary>Accuracy of always answering the majority class (of the training rows).</summary>
    public double MajorityAccuracy { get; }

    public double[] Precision { get; }
    public double[] Recall { get; }
    public int[] Support { get; }

    public string Verdict() =>
        Accuracy > MajorityAccuracy
            ? $"The classifier beats the majority-class baseline: {CommandOutput.Percent(Accuracy)} accuracy against {CommandOutput.Percent(MajorityAccuracy)} for always answering '{Classes[MajorityClass]}'."
            : $"The classifier does not beat the majority-class baseline: {CommandOutput.Percent(Accuracy)} accuracy against {CommandOutput.Percent(MajorityAccuracy)} for always answering '{Classes[MajorityClass]}'. Try more epochs, other features or more rows.";

    public (string[] Header, List<string[]> Rows) PerClassTable()
    {
        var rows = new List<string[]>();
        for (int c = 0; c < Classes.Length; c++)
            rows.Add([Classes[c], CommandOutput.Num(Precision[c], "0.000"), CommandOutput.Num(Recall[c], "0.000"), Support[c].ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return (["class", "precision", "recall", "test rows"], rows);
    }

    public string PerClassText()
    {
        var (header, rows) = PerClassTable();
        int w = Math.Max(5, Classes.Max(c => c.Length));
        var lines = new List<string> { $"{header[0].PadRight(w)}  precision  recall  test rows" };
        lines.AddRange(rows.Select(r => $"{r[0].PadRight(w)}  {r[1],9}  {r[2],6}  {r[3],9}"));
        return string.Join(Environment.NewLine, lines);
    }

    public System.Text.Json.Nodes.JsonObject ToJson()
    {
        var perClass = new System.Text.Json.Nodes.JsonObject();
        for (int c = 0; c < Classes.Length; c++)
            perClass[Classes[c]] = new System.Text.Json.Nodes.JsonObject
            {
                ["precision"] = CommandOutput.Number(Precision[c]),
                ["recall"] = CommandOutput.Number(Recall[c]),
                ["support"] = Support[c],
            };
        return new System.Text.Json.Nodes.JsonObject
        {
            ["accuracy"] = CommandOutput.Number(Accuracy),
            ["majority_class"] = Classes[MajorityClass],
            ["majority_baseline_accuracy"] = CommandOutput.Number(MajorityAccuracy),
            ["beats_majority_baseline"] = Accuracy > MajorityAccuracy,
            ["per_class"] = perClass,
        };
    }
}
