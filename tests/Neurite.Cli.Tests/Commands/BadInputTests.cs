namespace Neurite.Cli.Tests.Commands;

/// <summary>Every problem a user can cause: one line naming cause and fix, exit code 2, nothing written.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private const string TwoClasses = "x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n9,a\n10,b\n";

    /// <summary>Runs with --out and --save in the kit's folder and checks the error line and that neither was written.</summary>
    private string Fails(params string[] args)
    {
        string report = _kit.PathOf("report-" + Guid.NewGuid().ToString("N"));
        string model = _kit.PathOf("model-" + Guid.NewGuid().ToString("N") + ".keras");
        bool trains = args[0] is "classify" or "forecast";
        string[] all = trains ? [.. args, "--out", report, "--save", model] : args;
        var (code, output, error) = CommandTestKit.Run(all);
        Assert.Equal(2, code);
        // Progress lines may precede it (on standard error when standard output carries data); the error is one line, the last.
        var lines = error.TrimEnd().Split('\n');
        string last = lines[^1];
        Assert.StartsWith($"neurite {args[0]}: ", last);
        Assert.DoesNotContain(lines[..^1], l => l.StartsWith("neurite", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
        Assert.False(Directory.Exists(report), "the report folder was written");
        Assert.False(File.Exists(model) || File.Exists(model + ".neurite.json"), "the model was written");
        Assert.DoesNotContain("{", output);
        return last;
    }

    [Fact]
    public void Missing_file() =>
        Assert.Contains("does not exist", Fails("classify", _kit.PathOf("absent.csv"), "--target", "y"));

    [Fact]
    public void Ragged_csv()
    {
        string data = _kit.Write("ragged.csv", "x,y\n1,a\n2,b,extra\n3,a\n");
        string error = Fails("classify", data, "--target", "y");
        Assert.Contains("ragged.csv(3", error);
        Assert.Contains("line 3", error);
    }

    [Fact]
    public void Empty_file_is_not_a_csv() =>
        Assert.Contains("empty.csv", Fails("classify", _kit.Write("empty.csv", ""), "--target", "y"));

    [Fact]
    public void Unknown_target_column_lists_the_columns() =>
        Assert.Contains("--target 'label' is not a column of", Fails("classify", _kit.Write("t.csv", TwoClasses), "--target", "label"));

    [Fact]
    public void Unknown_feature_column() =>
        Assert.Contains("--features 'z' is not a column", Fails("classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--features", "x,z"));

    [Fact]
    public void Target_with_one_class()
    {
        // The only "b" row has a missing feature, so the complete rows hold one class.
        string error = Fails("classify", _kit.Write("one.csv", "x,y\n1,a\n2,a\n3,a\n4,a\n5,a\n6,a\n7,a\nNA,b\n"), "--target", "y");
        Assert.Contains("only one class ('a') in the 7 complete rows", error);
    }

    [Fact]
    public void Target_with_only_missing_values() =>
        Assert.Contains("only missing values", Fails("classify", _kit.Write("na.csv", "x,y\n1,NA\n2,NA\n3,\n"), "--target", "y"));

    [Fact]
    public void Text_column_as_a_forecast_feature()
    {
        var lines = Enumerable.Range(0, 60).Select(i => $"{i},{(i % 2 == 0 ? "up" : "down")}");
        string data = _kit.Write("text.csv", "value,mood\n" + string.Join("\n", lines) + "\n");
        string error = Fails("forecast", data, "--column", "value", "--features", "mood");
        Assert.Contains("'mood'", error);
        Assert.Contains("holds text", error);
        Assert.Contains("leave 'mood' out of --features", error);
    }

    [Fact]
    public void Too_few_rows_for_the_forecaster()
    {
        string data = _kit.Write("short.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 15)) + "\n");
        string error = Fails("forecast", data, "--column", "value");
        Assert.Contains("15 complete rows", error);
        Assert.Contains("needs 23 training rows", error);
        Assert.Contains("Give at least 29 rows", error);
    }

    [Fact]
    public void A_lookback_longer_than_a_quarter_of_the_training_rows() =>
        Assert.Contains("--lookback 20 is more than a quarter of the 48 training rows", Fails("forecast",
            _kit.Write("s.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 60)) + "\n"), "--column", "value", "--lookback", "20"));

    [Fact]
    public void Stateful_is_refused_with_the_reason() =>
        Assert.Contains("--stateful is no longer offered", Fails("forecast", _kit.Write("s.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 60)) + "\n"),
            "--column", "value", "--stateful"));

    [Fact]
    public void Infinite_value()
    {
        string data = _kit.Write("inf.csv", "x,y\n1,a\n1e999,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n");
        string error = Fails("classify", data, "--target", "y");
        Assert.Contains("infinite value", error);
        Assert.Contains("line 3", error);
    }

    [Fact]
    public void A_typo_that_makes_a_number_column_text_is_named()
    {
        string data = _kit.Write("typo.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 30)) + "\n12.5x\n" + string.Join("\n", Enumerable.Range(0, 30)) + "\n");
        string error = Fails("forecast", data, "--column", "value");
        Assert.Contains("'12.5x' on line 32", error);
    }

    [Fact]
    public void An_inf_spelled_as_r_and_numpy_write_it_is_an_infinite_value()
    {
        string data = _kit.Write("inf-word.csv", "value\n" + string.Join("\n", Enumerable.Range(0, 30)) + "\n-inf\n" + string.Join("\n", Enumerable.Range(0, 30)) + "\n");
        string error = Fails("forecast", data, "--column", "value");
        Assert.Contains("infinite value", error);
        Assert.Contains("line 32", error);
    }

    [Fact]
    public void Forecasting_a_text_column() =>
        Assert.Contains("holds text", Fails("forecast", _kit.Write("t.csv", TwoClasses), "--column", "y"));

    [Fact]
    public void Save_path_without_keras_extension()
    {
        var (code, _, error) = CommandTestKit.Run("classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--save", _kit.PathOf("model.h5"), "--out", _kit.PathOf("r"));
        Assert.Equal(2, code);
        Assert.Contains("does not end in .keras", error);
        Assert.False(Directory.Exists(_kit.PathOf("r")));
    }

    [Fact]
    public void Test_fraction_out_of_range() =>
        Assert.Contains("--test-fraction must lie between 0 and 1", Fails("classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--test-fraction", "1.5"));

    [Fact]
    public void Bad_numbers_in_options_are_usage_errors()
    {
        var (code, _, error) = CommandTestKit.Run("forecast", "x.csv", "--column", "v", "--lookback", "0");
        Assert.Equal(2, code);
        Assert.Contains("--lookback must be a positive whole number; received '0'", error);
        Assert.Contains("neurite forecast --help", error);
        var missing = CommandTestKit.Run("classify", "x.csv");
        Assert.Equal(2, missing.Code);
        Assert.Contains("--target", missing.Error);
    }

    [Fact]
    public void A_model_file_that_is_not_one()
    {
        string fake = _kit.Write("fake.keras", "this is not a zip archive");
        string error = Fails("predict", fake, _kit.Write("t.csv", TwoClasses));
        Assert.Contains("fake.keras", error);
        Assert.Contains("does not exist", Fails("summary", _kit.PathOf("none.keras")));
    }

    [Fact]
    public void A_model_without_its_preprocessing_file_or_with_a_broken_one()
    {
        string model = TrainSmallClassifier();
        File.Move(model + ".neurite.json", model + ".moved");
        Assert.Contains("has no preprocessing file", Fails("predict", model, _kit.Write("t.csv", TwoClasses)));
        File.WriteAllText(model + ".neurite.json", "{ not json");
        Assert.Contains("cannot be read", Fails("evaluate", model, _kit.Write("t.csv", TwoClasses)));
    }

    [Fact]
    public void A_model_that_does_not_match_the_data_columns()
    {
        string model = TrainSmallClassifier();
        Assert.Contains("has no column 'x'", Fails("predict", model, _kit.Write("other.csv", "a,b\n1,2\n")));
        Assert.Matches("is 'c' on line 3 of .*, a class the model does not know", Fails("evaluate", model, _kit.Write("newclass.csv", "x,y\n1,a\n2,c\n")));
        // A sidecar from another model: the shapes disagree.
        string other = _kit.PathOf("other.keras");
        var trained = CommandTestKit.Run("classify", _kit.Write("wide.csv", "x,z,y\n1,1,a\n2,0,b\n3,1,a\n4,0,b\n5,1,a\n6,0,b\n7,1,a\n8,0,b\n9,1,a\n10,0,b\n"), "--target", "y",
            "--epochs", "1", "--out", _kit.PathOf("r2"), "--save", other);
        Assert.True(trained.Code == 0, trained.Error);
        File.Copy(other + ".neurite.json", model + ".neurite.json", overwrite: true);
        Assert.Contains("do not belong together", Fails("predict", model, _kit.Write("wide2.csv", "x,z\n1,1\n")));
    }

    private string TrainSmallClassifier()
    {
        string model = _kit.PathOf("small.keras");
        var (code, _, error) = CommandTestKit.Run("classify", _kit.Write("train.csv", TwoClasses), "--target", "y", "--epochs", "1", "--out", _kit.PathOf("r"), "--save", model);
        Assert.True(code == 0, error);
        return model;
    }
}
