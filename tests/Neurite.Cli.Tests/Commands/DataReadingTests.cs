using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Neurite.Cli.Tests.Commands;

/// <summary>How the data commands read a user's file: kinds, missing tokens, delimiters, dates, sizes and levels.</summary>
public sealed class DataReadingTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static string Lines(string header, IEnumerable<string> rows) => header + "\n" + string.Join("\n", rows) + "\n";

    /// <summary>x separates the classes; line numbers in the file are the row index + 2.</summary>
    private static IEnumerable<string> Rows(int count, Func<int, string> extra) =>
        Enumerable.Range(0, count).Select(i => $"{(i % 2 == 0 ? 2 + i % 5 : -2 - i % 5)},{extra(i)},{(i % 2 == 0 ? "a" : "b")}");

    private string UsageError(params string[] args)
    {
        bool trains = args[0] is "classify" or "forecast";
        string report = _kit.PathOf("never-" + Guid.NewGuid().ToString("N"));
        var (code, output, error) = CommandTestKit.Run(trains ? [.. args, "--out", report] : args);
        Assert.True(code == CliApp.UsageError, $"exit code {code}: {error}");
        var lines = error.TrimEnd().Split('\n');
        Assert.Single(lines, l => l.StartsWith("neurite", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
        Assert.False(Directory.Exists(report), "the report was written");
        return lines[^1];
    }

    private (string Output, string Error) Succeeds(params string[] args)
    {
        var (code, output, error) = CommandTestKit.Run(args);
        Assert.True(code == 0, $"exit code {code}: {error}");
        return (output, error);
    }

    // ---------- item 6: stray tokens and learned kinds ----------

    [Fact]
    public void One_stray_token_in_a_number_column_is_named_with_its_line_and_can_be_read_as_missing()
    {
        string data = _kit.Write("stray.csv", Lines("x,z,y", Rows(40, i => i == 15 ? "?" : (i * 0.5).ToString(CultureInfo.InvariantCulture))));
        string error = UsageError("classify", data, "--target", "y", "--epochs", "1");
        Assert.Contains("Column 'z' is read as text because of the value '?' on line 17", error);
        Assert.Contains("--missing '?'", error);

        var (output, _) = Succeeds("classify", data, "--target", "y", "--epochs", "1", "--missing", "?", "--out", _kit.PathOf("r"), "--json");
        Assert.Equal(1, CommandTestKit.Json(output).GetProperty("dropped_incomplete_rows").GetInt32());
    }

    [Fact]
    public void Text_columns_of_the_training_stay_text_in_new_files_and_number_columns_stay_numbers()
    {
        // Codes 01 and 02 read as categories in training must not become the numbers 1 and 2 when predicting.
        string train = _kit.Write("train.csv", Lines("x,code,y", Rows(40, i => i % 2 == 0 ? "01" : "02")));
        string model = _kit.PathOf("m.keras");
        Succeeds("classify", train, "--target", "y", "--categorical", "code", "--epochs", "1", "--out", _kit.PathOf("r"), "--save", model);
        var (_, error) = Succeeds("predict", model, _kit.Write("new.csv", "x,code\n3,01\n-3,02\n"), "--out", _kit.PathOf("p.csv"));
        Assert.DoesNotContain("never saw", error);
        var recipe = JsonNode.Parse(File.ReadAllText(model + ".neurite.json"))!;
        var code = recipe["classify"]!["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "code")!;
        Assert.Equal(["01", "02"], code["levels"]!.AsArray().Select(l => l!.GetValue<string>()));

        string stray = UsageError("predict", model, _kit.Write("stray.csv", "x,code\n3,01\nabc,02\n"));
        Assert.Contains("line 3", stray);
        Assert.Contains("'abc'", stray);
        Assert.Contains("--missing", stray);
    }

    [Fact]
    public void An_error_about_a_wide_file_lists_a_few_columns_and_counts_the_rest()
    {
        string header = string.Join(",", Enumerable.Range(0, 300).Select(j => $"column{j}"));
        string error = UsageError("classify", _kit.Write("wide.csv", header + "\n" + string.Join(",", Enumerable.Range(0, 300)) + "\n"), "--target", "label");
        Assert.Contains("its 300 columns are [column0, ", error);
        Assert.Contains("(290 more)", error);
        Assert.True(error.Length < 400, $"{error.Length} characters: {error}");
    }

    // ---------- item 13: levels from the training rows ----------

    [Fact]
    public void One_hot_levels_come_from_the_training_rows_and_unseen_test_values_are_counted()
    {
        // Sixteen colours that occur once each, on lines 2-17; the rest are red or blue.
        string data = _kit.Write("colours.csv", Lines("x,colour,y", Rows(60, i => i < 16 ? $"rare{i}" : i % 3 == 0 ? "red" : "blue")));
        string model = _kit.PathOf("m.keras");
        string report = _kit.PathOf("r");
        var (output, error) = Succeeds("classify", data, "--target", "y", "--epochs", "1", "--out", report, "--save", model, "--json");

        var split = File.ReadAllLines(Path.Combine(report, "predictions.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => int.Parse(f[0], CultureInfo.InvariantCulture), f => f[1]);
        var colourOfLine = File.ReadAllLines(data).Skip(1).Select((l, i) => (Line: i + 2, Colour: l.Split(',')[1])).ToArray();
        var trainColours = colourOfLine.Where(c => split[c.Line] == "train").Select(c => c.Colour).Distinct().Order(StringComparer.Ordinal).ToArray();
        int unseenTestRows = colourOfLine.Count(c => split[c.Line] == "test" && !trainColours.Contains(c.Colour));
        Assert.True(unseenTestRows > 0, "the split put no rare colour in the test rows, so this test shows nothing");

        var recipe = JsonNode.Parse(File.ReadAllText(model + ".neurite.json"))!;
        var levels = recipe["classify"]!["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "colour")!["levels"]!.AsArray().Select(l => l!.GetValue<string>());
        Assert.Equal(trainColours, levels);
        Assert.Equal(unseenTestRows, CommandTestKit.Json(output).GetProperty("test_rows_with_unseen_values").GetInt32());
        Assert.Contains($"{unseenTestRows} rows of {data} hold text values the model never saw", error);
    }

    // ---------- item 19: the scaler's statistics ----------

    [Fact]
    public void The_saved_scaler_statistics_are_the_training_rows_mean_and_sample_sd()
    {
        string data = _kit.SeparableTable();
        string model = _kit.PathOf("m.keras");
        string report = _kit.PathOf("r");
        Succeeds("classify", data, "--target", "label", "--epochs", "1", "--out", report, "--save", model);
        var trainLines = File.ReadAllLines(Path.Combine(report, "predictions.csv")).Skip(1).Select(l => l.Split(','))
            .Where(f => f[1] == "train").Select(f => int.Parse(f[0], CultureInfo.InvariantCulture)).ToHashSet();
        var rows = File.ReadAllLines(data);
        var recipe = JsonNode.Parse(File.ReadAllText(model + ".neurite.json"))!["classify"]!["features"]!.AsArray();
        foreach (var (name, field) in new[] { ("x1", 0), ("x2", 1) })
        {
            var values = trainLines.Select(line => double.Parse(rows[line - 1].Split(',')[field], CultureInfo.InvariantCulture)).ToArray();
            double mean = values.Sum() / values.Length;
            double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
            var feature = recipe.Single(f => f!["name"]!.GetValue<string>() == name)!;
            Assert.Equal(105, values.Length);
            Assert.Equal(mean, feature["mean"]!.GetValue<double>(), 12);
            Assert.Equal(sd, feature["sd"]!.GetValue<double>(), 12);
        }
    }

    // ---------- item 8: dates ----------

    private string DatedSeries(string name, string format, Func<int, DateTime, string>? dateText = null, int rows = 60)
    {
        var start = new DateTime(2021, 1, 1);
        return _kit.Write(name, Lines("day,value", Enumerable.Range(0, rows).Select(t =>
            $"{dateText?.Invoke(t, start.AddDays(t)) ?? start.AddDays(t).ToString(format, CultureInfo.InvariantCulture)},{(10 + Math.Sin(t)).ToString(CultureInfo.InvariantCulture)}")));
    }

    [Fact]
    public void Dates_written_as_digits_are_read_with_their_format()
    {
        string data = DatedSeries("digits.csv", "yyyyMMdd");
        string model = _kit.PathOf("digits.keras");
        var (output, _) = Succeeds("forecast", data, "--column", "value", "--date", "day", "--date-format", "yyyyMMdd", "--lookback", "3", "--units", "4",
            "--epochs", "1", "--out", _kit.PathOf("r"), "--save", model, "--json");
        Assert.Equal(60, CommandTestKit.Json(output).GetProperty("rows").GetInt32());
        // The saved model reads the digits as dates too: its last origin is the last date, 1 March.
        var (predictions, _) = Succeeds("predict", model, data);
        Assert.Contains("\n2021-03-01,1,", predictions);
    }

    [Fact]
    public void A_bad_date_is_named_on_its_own_line()
    {
        string data = DatedSeries("bad.csv", "yyyy-MM-dd", (t, d) => t == 38 ? "2021-02-30" : null!);
        string error = UsageError("forecast", data, "--column", "value", "--date", "day", "--lookback", "3");
        Assert.Contains("'2021-02-30'", error);
        Assert.Contains("line 40", error);
        Assert.DoesNotContain("line 2,", error);
        Assert.Contains("--date-format", error);
    }

    [Fact]
    public void Duplicate_dates_are_refused_naming_the_first_duplicate()
    {
        // Lines 12 and 13 share 2021-01-11 (row 11 repeats row 10's date), and so do 30 and 31.
        string data = DatedSeries("dupes.csv", "yyyy-MM-dd", (t, d) => (t == 11 || t == 29 ? d.AddDays(-1) : d).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        string error = UsageError("forecast", data, "--column", "value", "--date", "day", "--lookback", "3");
        Assert.Contains("has 2021-01-11 on lines 12 and 13", error);
    }

    // ---------- item 10: delimiters, encodings, binary, empty columns ----------

    [Fact]
    public void A_semicolon_file_gets_a_delimiter_hint_and_reads_with_the_option()
    {
        string data = _kit.Write("semi.csv", Lines("x;z;y", Rows(40, i => (i * 0.5).ToString(CultureInfo.InvariantCulture)).Select(r => r.Replace(',', ';'))));
        string error = UsageError("classify", data, "--target", "y");
        Assert.Contains("pass --delimiter ';'", error);
        var (output, _) = Succeeds("classify", data, "--target", "y", "--delimiter", ";", "--epochs", "1", "--out", _kit.PathOf("r"), "--json");
        Assert.Equal(40, CommandTestKit.Json(output).GetProperty("rows").GetInt32());
    }

    [Fact]
    public void A_tab_separated_file_reads_with_delimiter_tab()
    {
        string data = _kit.Write("tabs.tsv", Lines("x\tz\ty", Rows(40, i => (i * 0.5).ToString(CultureInfo.InvariantCulture)).Select(r => r.Replace(',', '\t'))));
        Assert.Contains("pass --delimiter tab", UsageError("classify", data, "--target", "y"));
        Succeeds("classify", data, "--target", "y", "--delimiter", "tab", "--epochs", "1", "--out", _kit.PathOf("r"));
    }

    [Fact]
    public void Utf16_without_a_byte_order_mark_is_reported_as_such()
    {
        string path = _kit.PathOf("utf16.csv");
        File.WriteAllBytes(path, new UnicodeEncoding(bigEndian: false, byteOrderMark: false).GetBytes(Lines("x,y", Rows(20, _ => "0").Select(r => r.Split(',')[0] + "," + r.Split(',')[2]))));
        Assert.Contains("looks like UTF-16 text (little-endian) without a byte-order mark", UsageError("classify", path, "--target", "y"));
    }

    [Fact]
    public void A_binary_file_is_reported_as_not_text()
    {
        var bytes = new byte[4096];
        new System.Random(1).NextBytes(bytes);
        bytes[7] = 0;
        string path = _kit.PathOf("data.csv");
        File.WriteAllBytes(path, bytes);
        Assert.Contains("is not text: it holds binary data", UsageError("classify", path, "--target", "y"));
    }

    [Fact]
    public void A_feature_column_with_only_missing_values_is_named()
    {
        string data = _kit.Write("empty-column.csv", Lines("x,z,y", Rows(20, _ => "NA")));
        string error = UsageError("classify", data, "--target", "y");
        Assert.Contains("The feature column 'z' has only missing values", error);
        Assert.Contains("--exclude z", error);
    }

    // ---------- item 5: sizes and memory ----------

    [Fact]
    public void A_column_of_ids_is_refused_with_a_way_to_leave_it_out()
    {
        string data = _kit.Write("ids.csv", Lines("x,id,y", Rows(30, i => $"customer-{i}")));
        string error = UsageError("classify", data, "--target", "y");
        Assert.Contains("'id' holds a different text value in every one of its 30 rows", error);
        Assert.Contains("--exclude id", error);
        Succeeds("classify", data, "--target", "y", "--exclude", "id", "--epochs", "1", "--out", _kit.PathOf("r"));
    }

    [Fact]
    public void An_mlp_too_big_for_memory_is_refused_with_the_figure()
    {
        string data = _kit.Write("t.csv", Lines("x,z,y", Rows(20, i => i.ToString(CultureInfo.InvariantCulture))));
        string error = UsageError("classify", data, "--target", "y", "--hidden", "100000,100000,100000");
        Assert.Matches(@"needs about [0-9.]+ GiB of memory", error);
        Assert.Contains("smaller --hidden", error);
    }

    [Fact]
    public void A_forecaster_too_big_for_memory_is_refused_with_the_figure()
    {
        // 50,000 rows allow --lookback 10,000; 25 networks of 4,096 units joined read 10,000 values each:
        // the joined first layer alone is 10,000 x 25 x 4,096 floats, about 3.7 TiB.
        string data = DatedSeries("s.csv", "yyyy-MM-dd", rows: 50_000);
        string error = UsageError("forecast", data, "--column", "value", "--units", "4096", "--ensemble", "25", "--lookback", "10000");
        Assert.Matches(@"needs about [0-9.]+ GiB of memory for 25 network\(s\) of 4096 units reading 10000 values", error);
        Assert.Contains("Use a smaller --lookback, --horizon, --units or --ensemble", error);
    }

    [Theory]
    [InlineData("2147483647", "--lookback 2147483647 is too large")]
    [InlineData("30000", "--lookback 30000 is more than a quarter of the 48 training rows")]
    public void A_lookback_longer_than_the_series_is_refused_without_overflow(string lookback, string expected)
    {
        string error = UsageError("forecast", DatedSeries("s.csv", "yyyy-MM-dd"), "--column", "value", "--lookback", lookback);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("-2147", error);
    }

    [Fact]
    public void An_array_longer_than_dotnet_arrays_hold_is_refused_whatever_the_memory()
    {
        // 50,000 x 50,000 weights: 2.5e9 values, beyond Array.MaxLength (about 2.147e9) however much memory there is.
        var e = Assert.Throws<Neurite.Cli.Commands.UserInputException>(() =>
            Neurite.Cli.Commands.MemoryCheck.RequireArray(50_000.0 * 50_000, "a weight matrix", "Use smaller layers."));
        Assert.Contains("2500000000 values for a weight matrix, more than the 2147483591 one array can hold. Use smaller layers.", e.Message);
        Neurite.Cli.Commands.MemoryCheck.RequireArray(Array.MaxLength, "an array that just fits", "");
    }
}
