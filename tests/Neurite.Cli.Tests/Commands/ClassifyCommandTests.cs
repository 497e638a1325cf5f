namespace Neurite.Cli.Tests.Commands;

public sealed class ClassifyCommandTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void Classify_beats_the_majority_baseline_on_a_separable_table_and_writes_the_report()
    {
        string data = _kit.SeparableTable();
        string report = _kit.PathOf("report");
        var (code, output, error) = CommandTestKit.Run("classify", data, "--target", "label", "--epochs", "60", "--out", report, "--json");

        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        double accuracy = json.GetProperty("accuracy").GetDouble();
        double majority = json.GetProperty("majority_baseline_accuracy").GetDouble();
        Assert.Equal("a", json.GetProperty("majority_class").GetString());
        Assert.True(accuracy >= majority + 0.2, $"accuracy {accuracy} against majority baseline {majority}");
        Assert.True(json.GetProperty("beats_majority_baseline").GetBoolean());
        Assert.Equal(150, json.GetProperty("train_rows").GetInt32() + json.GetProperty("test_rows").GetInt32());
        // 30% of 150 rows test: round(150 * 0.7) = 105 train.
        Assert.Equal(105, json.GetProperty("train_rows").GetInt32());
        foreach (var file in new[] { "index.html", "history.png", "confusion.png", "predictions.csv" })
            Assert.True(File.Exists(Path.Combine(report, file)), file);
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("Class balance", html);
        Assert.Contains("majority-class baseline", html);
        Assert.Contains("precision", html);
        // Progress went to standard error, so standard output is the JSON object alone.
        Assert.Contains("Training an MLP", error);
    }

    [Fact]
    public void Incomplete_rows_are_dropped_and_counted()
    {
        string data = _kit.Write("gaps.csv", "x,g,y\n1,p,a\n2,q,b\nNA,p,a\n4,,b\n5,p,a\n6,q,b\n7,p,a\n8,q,b\n9,p,a\n10,q,b\n11,p,a\n12,q,b\n13,p,a\n14,q,b\n");
        var (code, output, error) = CommandTestKit.Run("classify", data, "--target", "y", "--epochs", "2", "--out", _kit.PathOf("r"), "--json");
        Assert.True(code == 0, error);
        var json = CommandTestKit.Json(output);
        Assert.Equal(14, json.GetProperty("rows").GetInt32());
        Assert.Equal(2, json.GetProperty("dropped_incomplete_rows").GetInt32());
    }

    [Fact]
    public void Predict_on_the_training_rows_gives_the_classes_classify_reported_and_evaluate_scores_them()
    {
        string data = _kit.SeparableTable();
        string model = _kit.PathOf("model.keras");
        string report = _kit.PathOf("report");
        var trained = CommandTestKit.Run("classify", data, "--target", "label", "--epochs", "20", "--out", report, "--save", model);
        Assert.True(trained.Code == 0, trained.Error);
        Assert.True(File.Exists(model + ".neurite.json"));

        // classify's predictions.csv: line,split,label,predicted for every complete row.
        var expected = File.ReadAllLines(Path.Combine(report, "predictions.csv")).Skip(1)
            .Select(l => l.Split(',')).ToDictionary(f => f[0], f => f[3]);
        string predictions = _kit.PathOf("predicted.csv");
        var predicted = CommandTestKit.Run("predict", model, data, "--out", predictions);
        Assert.True(predicted.Code == 0, predicted.Error);
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("line,predicted,p_a,p_b", lines[0]);
        Assert.Equal(150, lines.Length - 1);
        foreach (var fields in lines.Skip(1).Select(l => l.Split(',')))
            Assert.Equal(expected[fields[0]], fields[1]);

        var toStdout = CommandTestKit.Run("predict", model, data);
        Assert.Equal(0, toStdout.Code);
        Assert.Equal(string.Join("\n", lines) + "\n", toStdout.Output.Replace("\r\n", "\n"));

        var evaluated = CommandTestKit.Run("evaluate", model, data, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Error);
        var json = CommandTestKit.Json(evaluated.Output);
        int agree = expected.Count(kv => kv.Value == File.ReadAllLines(data)[int.Parse(kv.Key) - 1].Split(',')[3]);
        Assert.Equal((double)agree / 150, json.GetProperty("accuracy").GetDouble(), 10);

        var summary = CommandTestKit.Run("summary", model);
        Assert.Equal(0, summary.Code);
        Assert.Contains("Total params:", summary.Output);
        Assert.Contains("Classifier of 'label' into 2 classes: a, b", summary.Output);
    }
}
