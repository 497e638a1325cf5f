using SkiaSharp;

namespace Neurite.Plots.Tests;

public sealed class ChartsTests
{
    private static readonly double[] SmallX = [1, 2, 3, 4, 5, 6];
    private static readonly double[] SmallY = [2.0, 1.5, 4.0, 3.5, 5.0, 4.2];
    private static readonly string[] SmallGroups = ["setosa", "versicolor", "virginica", "setosa", "versicolor", "virginica"];

    private static readonly DiagramLayer[] IrisLayers =
    [
        new("input", "Input", 4, null),
        new("dense_1", "Dense", 8, "relu"),
        new("dense_2", "Dense", 3, "softmax"),
    ];

    /// <summary>Every chart, drawn with the given title and size, so each check runs against all of them.</summary>
    private static readonly Dictionary<string, Func<string, int, int, byte[]>> ChartsByName = new()
    {
        ["History"] = (title, w, h) => Charts.History(
            new Dictionary<string, IReadOnlyList<double>>
            {
                ["loss"] = [1.0, 0.6, 0.4, 0.3],
                ["val_loss"] = [1.1, 0.7, 0.55, 0.5],
                ["accuracy"] = [0.5, 0.7, 0.8, 0.85],
                ["val_accuracy"] = [0.45, 0.65, 0.7, 0.72],
            }, title, w, h),
        ["Scatter"] = (title, w, h) => Charts.Scatter(SmallX, SmallY, SmallGroups, title, "Petal.Length", "Petal.Width", w, h),
        ["ScatterColoredByValue"] = (title, w, h) =>
            Charts.ScatterColoredByValue(SmallX, SmallY, [10, 20, 30, 40, 50, 60], title, "day", "close", "volume", w, h),
        ["SeriesWithForecast"] = (title, w, h) => Charts.SeriesWithForecast(
            SmallX, SmallY, [5, 6], [4.8, 4.5], title, "close", baseline: [3.5, 5.0], width: w, height: h),
        ["PredictedVsActual"] = (title, w, h) => Charts.PredictedVsActual(SmallY, SmallX, title, "EUR", w, h),
        ["Acf"] = (title, w, h) => Charts.Acf([1.0, 0.6, 0.3, 0.1, -0.05], 100, title, w, h),
        ["NetworkDiagram"] = (title, w, h) => Charts.NetworkDiagram(IrisLayers, title, null, w, h),
        ["ConfusionMatrix"] = (title, w, h) =>
            Charts.ConfusionMatrix(new[,] { { 5, 1 }, { 2, 7 } }, ["no", "yes"], title, w, h),
    };

    public static TheoryData<string> AllCharts => new(ChartsByName.Keys);

    public static TheoryData<string> ChartsWithDataFrame => new(ChartsByName.Keys.Where(name => name != "NetworkDiagram"));

    [Theory]
    [MemberData(nameof(AllCharts))]
    public void Chart_is_a_png_of_the_requested_size_with_many_colours(string chart)
    {
        var png = ChartsByName[chart]("A title", 640, 420);

        using var image = new PngInspector(png);
        Assert.Equal(640, image.HeaderWidth);
        Assert.Equal(420, image.HeaderHeight);
        Assert.Equal(640, image.Width);
        Assert.Equal(420, image.Height);
        // Background, text, frame and data colours plus antialiasing: far more than a blank or one-colour image.
        Assert.True(image.DistinctColorCount() > 10, $"{chart}: only {image.DistinctColorCount()} colours");
    }

    [Fact]
    public void Default_size_arguments_give_800_by_500()
    {
        var history = new Dictionary<string, IReadOnlyList<double>> { ["loss"] = [1.0, 0.5] };
        var pngs = new[]
        {
            Charts.History(history, "t"),
            Charts.Scatter(SmallX, SmallY, SmallGroups, "t", "x", "y"),
            Charts.ScatterColoredByValue(SmallX, SmallY, SmallX, "t", "x", "y", "c"),
            Charts.SeriesWithForecast(SmallX, SmallY, [6], [4], "t", "y"),
            Charts.PredictedVsActual(SmallX, SmallY, "t", "u"),
            Charts.Acf([1.0, 0.5], 10, "t"),
            Charts.NetworkDiagram(IrisLayers, "t"),
            Charts.ConfusionMatrix(new[,] { { 1 } }, ["only"], "t"),
        };
        foreach (var png in pngs)
        {
            using var image = new PngInspector(png);
            Assert.Equal((800, 500), (image.HeaderWidth, image.HeaderHeight));
        }
    }

    [Theory]
    [MemberData(nameof(ChartsWithDataFrame))]
    public void Title_text_is_drawn_above_the_data_area(string chart)
    {
        using var titled = new PngInspector(ChartsByName[chart]("Training history of the model", 800, 500));
        using var untitled = new PngInspector(ChartsByName[chart]("", 800, 500));

        Assert.Equal(0, untitled.DarkPixelsAboveDataFrame());
        // A line of 14 px glyphs across ~250 px leaves hundreds of dark pixels; an unloadable font leaves none.
        Assert.True(titled.DarkPixelsAboveDataFrame() > 150,
            $"{chart}: only {titled.DarkPixelsAboveDataFrame()} dark pixels in the title band");
    }

    [Theory]
    [MemberData(nameof(AllCharts))]
    public void Title_glyphs_have_their_own_shapes(string chart)
    {
        // Same layout, different letters: wide W glyphs cover far more pixels than narrow I glyphs. Missing
        // glyphs (boxes or nothing) would make both titles cover the same area.
        using var wide = new PngInspector(ChartsByName[chart]("WWWWWWWWWW", 800, 500));
        using var narrow = new PngInspector(ChartsByName[chart]("IIIIIIIIII", 800, 500));

        int wideDark = wide.CountPixels(PngInspector.IsDark, 200, 0, 600, 30);
        int narrowDark = narrow.CountPixels(PngInspector.IsDark, 200, 0, 600, 30);
        Assert.True(narrowDark > 20, $"{chart}: title 'IIIIIIIIII' left only {narrowDark} dark pixels");
        Assert.True(wideDark > 2 * narrowDark, $"{chart}: 'W' title {wideDark} dark pixels vs 'I' title {narrowDark}");
    }

    [Fact]
    public void Bundled_font_is_what_ScottPlot_resolves()
    {
        ChartFonts.EnsureRegistered();

        Assert.Equal(ChartFonts.FamilyName, ScottPlot.Fonts.Default);
        Assert.Same(ChartFonts.Regular, ScottPlot.Fonts.GetTypeface(ChartFonts.FamilyName, bold: false, italic: false));
        Assert.Same(ChartFonts.Bold, ScottPlot.Fonts.GetTypeface(ChartFonts.FamilyName, bold: true, italic: false));
        Assert.Equal("DejaVu Sans", ChartFonts.Regular.FamilyName);
        Assert.True(ChartFonts.Bold.FontWeight > ChartFonts.Regular.FontWeight);
        // Characters the charts use beyond ASCII: the ± and √ of the ACF band legend.
        Assert.True(ChartFonts.Regular.ContainsGlyphs("Sepal.Length ±√"));
    }

    [Fact]
    public void Prediction_intervals_shade_the_test_period_in_the_forecast_colour()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7, 8], y = [3, 4, 3, 5, 4, 6, 5, 7], fx = [6, 7, 8], f = [5.5, 5.6, 6.4];
        using var plain = new PngInspector(Charts.SeriesWithForecast(x, y, fx, f, "t", "y"));
        using var banded = new PngInspector(Charts.SeriesWithForecast(x, y, fx, f, "t", "y",
            bands: [([3.0, 3.1, 3.9], [8.0, 8.1, 8.9], "95% interval"), ([4.0, 4.1, 4.9], [7.0, 7.1, 7.9], "80% interval")]));
        // Pink: the forecast red (#d62728) at low opacity over white; red dominates, green and blue stay light.
        static bool Pink(SKColor c) => c.Red > 235 && c.Green is > 150 and < 235 && c.Blue is > 150 and < 235 && c.Green - c.Blue < 12;
        int before = plain.CountPixels(Pink, 0, 0, plain.Width, plain.Height), after = banded.CountPixels(Pink, 0, 0, banded.Width, banded.Height);
        Assert.True(after > before + 2000, $"pink pixels: {before} without bands, {after} with");
    }

    [Fact]
    public void Scatter_colours_each_group_differently()
    {
        using var threeGroups = new PngInspector(Charts.Scatter(SmallX, SmallY, SmallGroups, "t", "x", "y"));
        using var oneGroup = new PngInspector(Charts.Scatter(SmallX, SmallY, ["all", "all", "all", "all", "all", "all"], "t", "x", "y"));

        // The first three colours of the Category10 palette (matplotlib's tab10).
        SKColor blue = new(0x1f, 0x77, 0xb4), orange = new(0xff, 0x7f, 0x0e), green = new(0x2c, 0xa0, 0x2c);
        Assert.All(new[] { blue, orange, green }, color => Assert.True(threeGroups.CountColor(color) > 20, $"missing {color}"));
        Assert.True(oneGroup.CountColor(blue) > 20);
        Assert.Equal(0, oneGroup.CountColor(orange));
        Assert.Equal(0, oneGroup.CountColor(green));
    }

    [Fact]
    public void Confusion_matrix_puts_actual_rows_top_down_and_predicted_columns_left_to_right()
    {
        // All samples are actual class 0 predicted as class 2: the only dark cell must be the top-right one.
        var counts = new int[3, 3];
        counts[0, 2] = 40;
        using var image = new PngInspector(Charts.ConfusionMatrix(counts, ["a", "b", "c"], "t"));

        static bool DeepBlue(SKColor c) => c.Blue > 80 && c.Red < 40 && c.Blue > c.Red + 60;
        long sumX = 0, sumY = 0, count = 0;
        for (int y = 0; y < image.Height; y++)
        {
            // Leave out the colour bar at the right edge, which also holds deep blue.
            for (int x = 0; x < image.Width * 3 / 4; x++)
            {
                if (!DeepBlue(image.Pixel(x, y)))
                    continue;
                sumX += x;
                sumY += y;
                count++;
            }
        }
        Assert.True(count > 1000, $"only {count} deep-blue pixels");
        Assert.True(sumX / count > image.Width / 2, $"dark cell centre x {sumX / count} is not right of the middle");
        Assert.True(sumY / count < image.Height / 2, $"dark cell centre y {sumY / count} is not above the middle");
    }

    [Fact]
    public void Network_diagram_writes_input_names_left_of_the_input_nodes()
    {
        string[] names = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"];
        using var named = new PngInspector(Charts.NetworkDiagram(IrisLayers, "Iris", names));
        using var unnamed = new PngInspector(Charts.NetworkDiagram(IrisLayers, "Iris"));

        // Left of the input nodes, between the title and the layer labels, only the names can be dark.
        var inputGreen = new SKColor(0x2c, 0xa0, 0x2c);
        int namedDark = named.CountPixels(PngInspector.IsDark, 0, 60, FindColumnWithMostPixels(named, inputGreen) - 25, 380);
        int unnamedDark = unnamed.CountPixels(PngInspector.IsDark, 0, 60, FindColumnWithMostPixels(unnamed, inputGreen) - 25, 380);
        Assert.Equal(0, unnamedDark);
        Assert.True(namedDark > 200, $"only {namedDark} dark pixels where the input names belong");
    }

    [Fact]
    public void Network_diagram_abbreviates_wide_layers()
    {
        var layers = new[] { new DiagramLayer("input", "Input", 30, null), new DiagramLayer("out", "Dense", 1, null) };
        using var image = new PngInspector(Charts.NetworkDiagram(layers, "t", width: 800, height: 500));
        Assert.Equal(800, image.Width);

        // Count the input nodes down the column through their centres: 10 drawn (5 + ellipsis + 5), not 30.
        var inputGreen = new SKColor(0x2c, 0xa0, 0x2c);
        int column = FindColumnWithMostPixels(image, inputGreen);
        int runs = 0;
        bool inRun = false;
        for (int y = 0; y < image.Height; y++)
        {
            bool green = image.Pixel(column, y) == inputGreen;
            if (green && !inRun)
                runs++;
            inRun = green;
        }
        Assert.Equal(10, runs);
    }

    [Fact]
    public void Network_diagram_rejects_input_names_of_the_wrong_count()
    {
        var error = Assert.Throws<ArgumentException>(() => Charts.NetworkDiagram(IrisLayers, "t", ["a", "b"]));
        Assert.Equal("inputNames", error.ParamName);
        Assert.Contains("2", error.Message);
        Assert.Contains("4 units", error.Message);
    }

    [Fact]
    public void Network_diagram_needs_an_input_and_a_model_layer()
    {
        var error = Assert.Throws<ArgumentException>(() => Charts.NetworkDiagram([IrisLayers[0]], "t"));
        Assert.Equal("layers", error.ParamName);
    }

    public static TheoryData<string, Action, string, string[]> BadInputs => new()
    {
        { "Scatter x/y", () => Charts.Scatter([1, 2, 3], [1, 2], ["a", "a", "a"], "t", "x", "y"), "y", ["3", "2"] },
        { "Scatter groups", () => Charts.Scatter([1, 2, 3], [1, 2, 3], ["a", "a"], "t", "x", "y"), "groups", ["3", "2"] },
        { "Scatter empty", () => Charts.Scatter([], [], [], "t", "x", "y"), "x", ["empty"] },
        { "Scatter NaN", () => Charts.Scatter([1, double.NaN], [1, 2], ["a", "a"], "t", "x", "y"), "x", ["[1]", "NaN"] },
        { "Colored lengths", () => Charts.ScatterColoredByValue([1, 2], [1, 2], [1, 2, 3], "t", "x", "y", "c"), "colorValues", ["2", "3"] },
        { "Colored empty", () => Charts.ScatterColoredByValue([], [], [], "t", "x", "y", "c"), "x", ["empty"] },
        { "Forecast actual", () => Charts.SeriesWithForecast([1, 2, 3], [1, 2], [3], [3], "t", "y"), "actual", ["3", "2"] },
        { "Forecast forecast", () => Charts.SeriesWithForecast([1, 2], [1, 2], [2, 3], [3], "t", "y"), "forecast", ["2", "1"] },
        { "Forecast baseline", () => Charts.SeriesWithForecast([1, 2], [1, 2], [2, 3], [3, 4], "t", "y", [1, 2, 3]), "baseline", ["2", "3"] },
        { "Forecast empty", () => Charts.SeriesWithForecast([1], [1], [], [], "t", "y"), "forecastX", ["empty"] },
        { "Forecast band length", () => Charts.SeriesWithForecast([1, 2], [1, 2], [2, 3], [3, 4], "t", "y", bands: [([1.0], [2.0, 3.0], "80% interval")]), "bands", ["2", "1"] },
        { "Forecast band infinite", () => Charts.SeriesWithForecast([1, 2], [1, 2], [2, 3], [3, 4], "t", "y", bands: [([1.0, 2.0], [2.0, double.PositiveInfinity], "80% interval")]), "bands", ["[1]", "Infinity"] },
        { "PvA lengths", () => Charts.PredictedVsActual([1, 2, 3, 4], [1, 2], "t", "u"), "predicted", ["4", "2"] },
        { "PvA empty", () => Charts.PredictedVsActual([], [], "t", "u"), "actual", ["empty"] },
        { "Acf empty", () => Charts.Acf([], 10, "t"), "acf", ["empty"] },
        { "Acf sample count", () => Charts.Acf([1.0], 0, "t"), "sampleCount", ["0"] },
        { "Confusion labels", () => Charts.ConfusionMatrix(new int[2, 2], ["a", "b", "c"], "t"), "counts", ["2x2", "3"] },
        { "Confusion not square", () => Charts.ConfusionMatrix(new int[2, 3], ["a", "b"], "t"), "counts", ["2x3"] },
        { "Confusion negative", () => Charts.ConfusionMatrix(new[,] { { 1, -1 }, { 0, 1 } }, ["a", "b"], "t"), "counts", ["-1"] },
        { "History empty", () => Charts.History(new Dictionary<string, IReadOnlyList<double>>(), "t"), "history", ["0"] },
        { "History empty series", () => Charts.History(new Dictionary<string, IReadOnlyList<double>> { ["loss"] = [] }, "t"), "history", ["loss", "empty"] },
        {
            "History val length",
            () => Charts.History(new Dictionary<string, IReadOnlyList<double>> { ["loss"] = [1, 2, 3], ["val_loss"] = [1, 2] }, "t"),
            "history", ["3", "2", "val_loss"]
        },
        { "Zero width", () => Charts.Acf([1.0], 10, "t", width: 0), "width", ["0"] },
        { "Negative height", () => Charts.Acf([1.0], 10, "t", height: -5), "height", ["-5"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_throws_naming_the_parameter_and_values(string _, Action draw, string parameter, string[] messageParts)
    {
        var error = Assert.ThrowsAny<ArgumentException>(draw);
        Assert.Equal(parameter, error.ParamName);
        foreach (var part in messageParts)
            Assert.Contains(part, error.Message);
    }

    [Fact]
    public void History_accepts_validation_only_and_non_finite_values()
    {
        var history = new Dictionary<string, IReadOnlyList<double>>
        {
            ["loss"] = [1.0, double.NaN, 0.5],
            ["val_mae"] = [0.9, 0.8, 0.7],
        };
        using var image = new PngInspector(Charts.History(history, "t", 600, 600));
        Assert.Equal((600, 600), (image.Width, image.Height));
    }

    [Fact]
    public void Constant_colour_values_still_render()
    {
        using var image = new PngInspector(Charts.ScatterColoredByValue([1, 2], [3, 4], [7, 7], "t", "x", "y", "c"));
        Assert.True(image.DistinctColorCount() > 10);
    }

    [Fact]
    public void SaveAtomically_writes_the_bytes_and_leaves_no_temporary_file()
    {
        string folder = Path.Combine(Path.GetTempPath(), "neurite-plots-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(folder, "nested", "chart.png");
            Charts.SaveAtomically(path, [1, 2, 3]);
            Charts.SaveAtomically(path, [4, 5]);

            Assert.Equal(new byte[] { 4, 5 }, File.ReadAllBytes(path));
            Assert.Equal(["chart.png"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private static int FindColumnWithMostPixels(PngInspector image, SKColor color)
    {
        int bestColumn = 0, bestCount = -1;
        for (int x = 0; x < image.Width; x++)
        {
            int count = image.CountPixels(pixel => pixel == color, x, 0, x + 1, image.Height);
            if (count > bestCount)
                (bestColumn, bestCount) = (x, count);
        }
        return bestColumn;
    }
}
