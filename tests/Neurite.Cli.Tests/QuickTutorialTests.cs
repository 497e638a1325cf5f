using System.Text.RegularExpressions;
using SkiaSharp;

namespace Neurite.Cli.Tests;

public sealed class QuickTutorialTests(QuickTutorialFixture run) : IClassFixture<QuickTutorialFixture>
{
    // Every picture the tutorial shows, plus the network diagrams and confusion heat maps.
    private static readonly string[] ExpectedPlots =
    [
        "iris-species.png", "iris-network.png", "iris-history.png", "iris-confusion.png",
        "breast-cancer-network.png", "breast-cancer-history.png", "breast-cancer-confusion.png",
        "ibex-series.png", "ibex-acf.png", "ibex-network.png", "ibex-history.png", "ibex-forecast.png", "ibex-predicted-vs-actual.png",
    ];

    [Fact]
    public void Every_plot_is_a_png_of_plausible_size_with_more_than_one_colour()
    {
        Assert.Equal(ExpectedPlots.Order(), run.Result.PlotFiles.Order());
        foreach (var name in ExpectedPlots)
        {
            string path = Path.Combine(run.Folder, name);
            Assert.True(File.Exists(path), $"{name} was not written");
            using var bitmap = SKBitmap.Decode(path);
            Assert.True(bitmap is not null, $"{name} does not decode as an image");
            Assert.InRange(bitmap.Width, 400, 4000);
            Assert.InRange(bitmap.Height, 300, 4000);
            var colours = new HashSet<SKColor>();
            for (int y = 0; y < bitmap.Height && colours.Count < 3; y += 7)
                for (int x = 0; x < bitmap.Width; x += 7)
                    colours.Add(bitmap.GetPixel(x, y));
            Assert.True(colours.Count > 1, $"{name} is a single colour");
        }
    }

    [Fact]
    public void The_report_embeds_every_plot_and_holds_the_scores()
    {
        string html = File.ReadAllText(Path.Combine(run.Folder, "index.html"));
        foreach (var name in ExpectedPlots)
        {
            Assert.Contains($"data-file=\"{name}\"", html);
            Assert.Contains($"href=\"{name}\"", html);
        }
        // Offline: images are inline and nothing is fetched from elsewhere.
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("data:image/png;base64,", html);

        var iris = run.Result.ClassificationScores[0];
        var cancer = run.Result.ClassificationScores[1];
        Assert.Contains($"test loss {iris["loss"]:0.0000}, accuracy {iris["accuracy"]:0.0000}", html);
        Assert.Contains($"test loss {cancer["loss"]:0.0000}, accuracy {cancer["accuracy"]:0.0000}", html);
        Assert.Contains($"test MAE {run.Result.LstmMae:0.0}", html);
        Assert.Contains($"{run.Result.PersistenceMae:0.0} (persistence)", html);
        Assert.Matches("(better than the LSTM|The LSTM is better than persistence|tie)", html);
    }

    [Fact]
    public void The_console_shows_the_three_summary_tables_with_the_tutorials_totals()
    {
        Assert.Contains("Total params: 15\n", Normalise(run.Console));
        Assert.Contains("Total params: 777\n", Normalise(run.Console));
        Assert.Contains("Total params: 71,451\n", Normalise(run.Console));
        // The tutorial's per-layer counts: dense 720, 45, 12; lstm 41200, 30200; dense 51.
        foreach (var row in new[] { @"\(None, 3\)\s+15", @"\(None, 8\)\s+720", @"\(None, 5\)\s+45", @"\(None, 2\)\s+12",
                                    @"\(50, 10, 100\)\s+41200", @"\(50, 50\)\s+30200", @"\(50, 1\)\s+51" })
            Assert.Matches(row, run.Console);
    }

    [Fact]
    public void The_confusion_tables_have_the_tutorials_test_split_as_row_totals()
    {
        var tables = ConfusionRowTotals(Normalise(run.Console));
        Assert.Equal(2, tables.Count);
        Assert.Equal([20, 12, 15], tables[0]);   // iris test rows: setosa, versicolor, virginica
        Assert.Equal([127, 75], tables[1]);      // breast-cancer test rows: benign, malignant
    }

    [Fact]
    public void The_console_reports_the_lstm_progress_and_both_test_maes_with_a_verdict()
    {
        Assert.Matches(@"lstm epoch 3/3 - loss: \d+\.\d{4}", run.Console);
        Assert.Matches(@"Test MAE, LSTM: +\d+\.\d index points", run.Console);
        Assert.Matches(@"Test MAE, persistence: +\d+\.\d index points", run.Console);
        Assert.Contains("Report: ", run.Console);
        Assert.Contains("The whole run took", run.Console);
    }

    private static string Normalise(string text) => text.Replace("\r\n", "\n");

    // Each table starts with a "classes" line and a header ending in "total"; rows follow until a line that is not a row.
    private static List<int[]> ConfusionRowTotals(string console)
    {
        var lines = console.Split('\n');
        var tables = new List<int[]>();
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            if (lines[i].Trim() != "classes" || !lines[i + 1].TrimEnd().EndsWith("total", StringComparison.Ordinal)) continue;
            var totals = new List<int>();
            for (int j = i + 2; j < lines.Length; j++)
            {
                var m = Regex.Match(lines[j], @"^\s*\d+((?:\s+\d+)+)\s+[A-Za-z]+\s*$");
                if (!m.Success) break;
                var numbers = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
                // The counts of a row must add up to the total printed beside them.
                Assert.Equal(numbers[^1], numbers[..^1].Sum());
                totals.Add(numbers[..^1].Sum());
            }
            tables.Add([.. totals]);
        }
        return tables;
    }
}
