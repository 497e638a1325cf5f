using ScottPlot;
using ScottPlot.TickGenerators;

namespace Neurite.Plots;

/// <summary>
/// Report charts rendered headless to PNG bytes. Every method takes plain arrays so this project stands
/// alone, validates its input (ArgumentException naming the parameter and the lengths seen) and renders
/// all text with the bundled DejaVu Sans.
/// </summary>
public static partial class Charts
{
    /// <summary>Default image width in pixels.</summary>
    public const int DefaultWidth = 800;

    /// <summary>Default image height in pixels.</summary>
    public const int DefaultHeight = 500;

    private static readonly Color TrainingColor = Color.FromHex("#1f77b4");
    private static readonly Color ValidationColor = Color.FromHex("#ff7f0e");
    private static readonly Color ActualColor = Color.FromHex("#404040");
    private static readonly Color ForecastColor = Color.FromHex("#d62728");
    private static readonly Color BaselineColor = Color.FromHex("#2ca02c");

    /// <summary>
    /// Training history in the style of Keras/R <c>plot(history)</c>: one panel per metric stacked vertically,
    /// each with the training series and, when present, its <c>val_</c> counterpart, against the 1-based epoch.
    /// </summary>
    /// <param name="history">Metric name to one value per epoch, e.g. "loss", "val_loss", "accuracy", "val_accuracy".
    /// Non-finite values (a diverged loss) are left out of the line rather than rejected.</param>
    /// <param name="title">Drawn above the top panel; empty for none.</param>
    public static byte[] History(IReadOnlyDictionary<string, IReadOnlyList<double>> history, string title,
        int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(history);
        Guard.Text(title, nameof(title));
        Guard.ImageSize(width, height);
        var panels = GroupHistoryPanels(history);

        var plots = new List<Plot>();
        for (int p = 0; p < panels.Count; p++)
        {
            var panel = panels[p];
            var plot = NewPlot(p == 0 ? title : "");
            AddHistorySeries(plot, panel.Training, "training", TrainingColor);
            AddHistorySeries(plot, panel.Validation, "validation", ValidationColor);
            plot.YLabel(panel.Metric);
            plot.XLabel(p == panels.Count - 1 ? "epoch" : "");
            plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
            // Keeps the data areas of all panels aligned whatever the width of their tick labels.
            plot.Axes.Left.MinimumSize = 80;
            var reference = panel.Training ?? panel.Validation!;
            bool falling = LastFinite(reference) < FirstFinite(reference);
            plot.ShowLegend(falling ? Alignment.UpperRight : Alignment.LowerRight);
            plots.Add(plot);
        }

        var multiplot = new Multiplot();
        multiplot.Reset(plots[0]);
        foreach (var plot in plots.Skip(1))
            multiplot.AddPlot(plot);
        if (plots.Count > 1)
            multiplot.SharedAxes.ShareX(plots);
        return multiplot.Render(width, height).GetImageBytes(ImageFormat.Png);
    }

    /// <summary>Points coloured by category with a legend (e.g. iris petal length against width by species).</summary>
    /// <param name="groups">Category of each point; categories are coloured in order of first appearance.</param>
    public static byte[] Scatter(double[] x, double[] y, string[] groups, string title, string xLabel, string yLabel,
        int width = DefaultWidth, int height = DefaultHeight)
    {
        Guard.NotEmpty(x, nameof(x));
        Guard.NotEmpty(y, nameof(y));
        Guard.NotEmpty(groups, nameof(groups));
        Guard.SameLength(x, nameof(x), y, nameof(y));
        Guard.SameLength(x, nameof(x), groups, nameof(groups));
        Guard.Finite(x, nameof(x));
        Guard.Finite(y, nameof(y));
        for (int i = 0; i < groups.Length; i++)
        {
            if (groups[i] is null)
                throw new ArgumentException($"'groups'[{i}] is null; give every point a category name.", nameof(groups));
        }
        Guard.Text(title, nameof(title));
        Guard.Text(xLabel, nameof(xLabel));
        Guard.Text(yLabel, nameof(yLabel));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        var palette = new ScottPlot.Palettes.Category10();
        var categories = groups.Distinct(StringComparer.Ordinal).ToList();
        for (int c = 0; c < categories.Count; c++)
        {
            var indices = Enumerable.Range(0, groups.Length).Where(i => groups[i] == categories[c]).ToArray();
            var markers = plot.Add.Markers(
                indices.Select(i => x[i]).ToArray(), indices.Select(i => y[i]).ToArray(),
                MarkerShape.FilledCircle, 7, palette.GetColor(c));
            markers.LegendText = categories[c];
        }
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
        return Render(plot, width, height);
    }

    /// <summary>Points coloured by a continuous value (Viridis) with a colour bar (e.g. a price coloured by volume).</summary>
    public static byte[] ScatterColoredByValue(double[] x, double[] y, double[] colorValues, string title,
        string xLabel, string yLabel, string colorLabel, int width = DefaultWidth, int height = DefaultHeight)
    {
        Guard.NotEmpty(x, nameof(x));
        Guard.NotEmpty(y, nameof(y));
        Guard.NotEmpty(colorValues, nameof(colorValues));
        Guard.SameLength(x, nameof(x), y, nameof(y));
        Guard.SameLength(x, nameof(x), colorValues, nameof(colorValues));
        Guard.Finite(x, nameof(x));
        Guard.Finite(y, nameof(y));
        Guard.Finite(colorValues, nameof(colorValues));
        Guard.Text(title, nameof(title));
        Guard.Text(xLabel, nameof(xLabel));
        Guard.Text(yLabel, nameof(yLabel));
        Guard.Text(colorLabel, nameof(colorLabel));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        IColormap colormap = new ScottPlot.Colormaps.Viridis();
        double min = colorValues.Min(), max = colorValues.Max();
        if (max == min)
        {
            // A constant value still needs a non-empty colour bar range.
            min -= 0.5;
            max += 0.5;
        }

        // One Markers plottable per colour band instead of one per point keeps thousands of points fast;
        // 64 bands are finer than the eye separates along the colour map.
        const int bandCount = 64;
        var bandX = Enumerable.Range(0, bandCount).Select(_ => new List<double>()).ToArray();
        var bandY = Enumerable.Range(0, bandCount).Select(_ => new List<double>()).ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            int band = Math.Min((int)((colorValues[i] - min) / (max - min) * bandCount), bandCount - 1);
            bandX[band].Add(x[i]);
            bandY[band].Add(y[i]);
        }
        for (int band = 0; band < bandCount; band++)
        {
            if (bandX[band].Count == 0)
                continue;
            var color = colormap.GetColor((band + 0.5) / bandCount);
            plot.Add.Markers(bandX[band].ToArray(), bandY[band].ToArray(), MarkerShape.FilledCircle, 6, color);
        }

        var colorBar = plot.Add.ColorBar(new FixedColorAxis(colormap, new ScottPlot.Range(min, max)));
        colorBar.Label = colorLabel;
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return Render(plot, width, height);
    }

    /// <summary>
    /// The whole real series as a line with the forecast (and optionally a baseline such as persistence)
    /// drawn over the test period, which is shaded.
    /// </summary>
    /// <param name="baseline">Baseline forecast at <paramref name="forecastX"/>; null to leave it out.</param>
    /// <param name="bands">Prediction intervals at <paramref name="forecastX"/> (lower and upper bounds), shaded behind the lines.</param>
    public static byte[] SeriesWithForecast(double[] x, double[] actual, double[] forecastX, double[] forecast,
        string title, string yLabel, double[]? baseline = null, string baselineName = "persistence",
        string xLabel = "time step", int width = DefaultWidth, int height = DefaultHeight,
        IReadOnlyList<(double[] Lower, double[] Upper, string Name)>? bands = null)
    {
        Guard.NotEmpty(x, nameof(x));
        Guard.NotEmpty(actual, nameof(actual));
        Guard.SameLength(x, nameof(x), actual, nameof(actual));
        Guard.NotEmpty(forecastX, nameof(forecastX));
        Guard.NotEmpty(forecast, nameof(forecast));
        Guard.SameLength(forecastX, nameof(forecastX), forecast, nameof(forecast));
        if (baseline is not null)
            Guard.SameLength(forecastX, nameof(forecastX), baseline, nameof(baseline));
        Guard.Finite(x, nameof(x));
        Guard.Finite(actual, nameof(actual));
        Guard.Finite(forecastX, nameof(forecastX));
        Guard.Finite(forecast, nameof(forecast));
        if (baseline is not null)
            Guard.Finite(baseline, nameof(baseline));
        foreach (var band in bands ?? [])
        {
            Guard.SameLength(forecastX, nameof(forecastX), band.Lower, nameof(bands));
            Guard.SameLength(forecastX, nameof(forecastX), band.Upper, nameof(bands));
            Guard.Finite(band.Lower, nameof(bands));
            Guard.Finite(band.Upper, nameof(bands));
            Guard.Text(band.Name, nameof(bands));
        }
        Guard.Text(title, nameof(title));
        Guard.Text(yLabel, nameof(yLabel));
        Guard.Text(baselineName, nameof(baselineName));
        Guard.Text(xLabel, nameof(xLabel));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        var testPeriod = plot.Add.HorizontalSpan(forecastX.Min(), forecastX.Max(), Color.FromHex("#000000").WithAlpha(0.06));
        testPeriod.LineWidth = 0;
        testPeriod.LegendText = "test period";

        // Widest band first, so the narrower ones are drawn over it.
        int shade = 0;
        foreach (var band in (bands ?? []).OrderByDescending(b => b.Upper.Zip(b.Lower, (u, l) => u - l).Sum()))
        {
            var fill = plot.Add.FillY(forecastX, band.Lower, band.Upper);
            fill.FillColor = ForecastColor.WithAlpha(shade++ == 0 ? 0.12 : 0.22);
            fill.LineWidth = 0;
            fill.LegendText = band.Name;
        }

        var actualLine = plot.Add.ScatterLine(x, actual, ActualColor);
        actualLine.LineWidth = 1.5f;
        actualLine.LegendText = "actual";

        if (baseline is not null)
        {
            var baselineLine = plot.Add.ScatterLine(forecastX, baseline, BaselineColor);
            baselineLine.LineWidth = 1.5f;
            baselineLine.LinePattern = LinePattern.Dashed;
            baselineLine.LegendText = baselineName;
        }

        var forecastLine = plot.Add.ScatterLine(forecastX, forecast, ForecastColor);
        forecastLine.LineWidth = 2f;
        forecastLine.LegendText = "forecast";

        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        // Outside the data area: a series can pass through any corner.
        plot.ShowLegend(Edge.Right);
        return Render(plot, width, height);
    }

    /// <summary>Predicted against actual values with the y = x line of a perfect model; both axes share one range.</summary>
    /// <param name="unitsLabel">Units of the values, shown in both axis labels; empty for none.</param>
    public static byte[] PredictedVsActual(double[] actual, double[] predicted, string title, string unitsLabel,
        int width = DefaultWidth, int height = DefaultHeight)
    {
        Guard.NotEmpty(actual, nameof(actual));
        Guard.NotEmpty(predicted, nameof(predicted));
        Guard.SameLength(actual, nameof(actual), predicted, nameof(predicted));
        Guard.Finite(actual, nameof(actual));
        Guard.Finite(predicted, nameof(predicted));
        Guard.Text(title, nameof(title));
        Guard.Text(unitsLabel, nameof(unitsLabel));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        double low = Math.Min(actual.Min(), predicted.Min());
        double high = Math.Max(actual.Max(), predicted.Max());
        double pad = high > low ? (high - low) * 0.05 : 1.0;
        low -= pad;
        high += pad;

        var identity = plot.Add.Line(low, low, high, high);
        identity.Color = ForecastColor;
        identity.LineWidth = 1.5f;
        identity.LinePattern = LinePattern.Dashed;
        identity.LegendText = "y = x (perfect prediction)";

        var points = plot.Add.Markers(actual, predicted, MarkerShape.FilledCircle, 6, TrainingColor.WithAlpha(0.7));
        points.LegendText = "test samples";

        string units = unitsLabel.Length == 0 ? "" : $" ({unitsLabel})";
        plot.XLabel("actual" + units);
        plot.YLabel("predicted" + units);
        plot.Axes.SetLimits(low, high, low, high);
        plot.ShowLegend(Alignment.UpperLeft);
        return Render(plot, width, height);
    }

    /// <summary>
    /// Autocorrelation by lag (from lag 0) as thin bars, with the approximate 95% band ±1.96/√n of a white-noise
    /// series as dashed lines, like R's <c>acf()</c> plot.
    /// </summary>
    /// <param name="acf">Autocorrelation at lags 0, 1, 2, ...</param>
    /// <param name="sampleCount">Length n of the series the autocorrelation was computed from.</param>
    public static byte[] Acf(double[] acf, int sampleCount, string title, int width = DefaultWidth, int height = DefaultHeight)
    {
        Guard.NotEmpty(acf, nameof(acf));
        Guard.Finite(acf, nameof(acf));
        if (sampleCount < 1)
            throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount,
                $"'sampleCount' is {sampleCount}; pass the length of the series the autocorrelation came from (at least 1).");
        Guard.Text(title, nameof(title));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        var bars = plot.Add.Bars(Enumerable.Range(0, acf.Length).Select(lag => (double)lag).ToArray(), acf);
        foreach (var bar in bars.Bars)
        {
            bar.Size = 0.2;
            bar.FillColor = TrainingColor;
            bar.LineWidth = 0;
        }

        double bound = 1.96 / Math.Sqrt(sampleCount);
        var zero = plot.Add.HorizontalLine(0, 1f, Colors.Black);
        zero.ExcludeFromLegend = true;
        var upper = plot.Add.HorizontalLine(bound, 1.5f, ForecastColor, LinePattern.Dashed);
        upper.LegendText = $"95% band ±1.96/√n = ±{bound:0.###} (n = {sampleCount})";
        var lower = plot.Add.HorizontalLine(-bound, 1.5f, ForecastColor, LinePattern.Dashed);
        lower.ExcludeFromLegend = true;

        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
        plot.XLabel("lag");
        plot.YLabel("ACF");
        plot.Axes.SetLimitsX(-0.7, acf.Length - 0.3);
        double yLow = Math.Min(Math.Min(acf.Min(), -bound), 0);
        double yHigh = Math.Max(Math.Max(acf.Max(), bound), 0);
        double yPad = (yHigh - yLow) * 0.05;
        plot.Axes.SetLimitsY(yLow - yPad, yHigh + yPad);
        plot.ShowLegend(Alignment.UpperRight);
        return Render(plot, width, height);
    }

    private static Plot NewPlot(string title)
    {
        ChartFonts.EnsureRegistered();
        var plot = new Plot();
        plot.Font.Set(ChartFonts.FamilyName);
        if (title.Length > 0)
            plot.Title(title);
        return plot;
    }

    private static byte[] Render(Plot plot, int width, int height) => plot.GetImageBytes(width, height, ImageFormat.Png);

    private sealed record HistoryPanel(string Metric, IReadOnlyList<double>? Training, IReadOnlyList<double>? Validation);

    private static List<HistoryPanel> GroupHistoryPanels(IReadOnlyDictionary<string, IReadOnlyList<double>> history)
    {
        if (history.Count == 0)
            throw new ArgumentException(
                "'history' has no metrics (0 series); pass at least one, e.g. \"loss\" with one value per epoch.", nameof(history));
        foreach (var (metric, values) in history)
        {
            if (values is null || values.Count == 0)
                throw new ArgumentException(
                    $"'history' series \"{metric}\" is empty (length 0); every metric needs one value per epoch.", nameof(history));
        }

        const string validationPrefix = "val_";
        var panels = new List<HistoryPanel>();
        foreach (var (metric, values) in history)
        {
            if (metric.StartsWith(validationPrefix, StringComparison.Ordinal))
            {
                string trainingName = metric[validationPrefix.Length..];
                if (!history.ContainsKey(trainingName))
                    panels.Add(new HistoryPanel(trainingName, null, values));
                continue;
            }
            history.TryGetValue(validationPrefix + metric, out var validation);
            if (validation is not null && validation.Count != values.Count)
                throw new ArgumentException(
                    $"'history' series \"{metric}\" has length {values.Count} but \"{validationPrefix}{metric}\" has length " +
                    $"{validation.Count}; both record one value per epoch and must have equal lengths.", nameof(history));
            panels.Add(new HistoryPanel(metric, values, validation));
        }
        return panels;
    }

    private static void AddHistorySeries(Plot plot, IReadOnlyList<double>? values, string legend, Color color)
    {
        if (values is null)
            return;
        var epochs = new List<double>();
        var finite = new List<double>();
        for (int i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i]))
                continue;
            epochs.Add(i + 1);
            finite.Add(values[i]);
        }
        var series = plot.Add.ScatterLine(epochs.ToArray(), finite.ToArray(), color);
        series.LineWidth = 1.5f;
        series.MarkerShape = MarkerShape.FilledCircle;
        series.MarkerSize = values.Count <= 60 ? 5 : 0;
        series.LegendText = legend;
    }

    private static double FirstFinite(IReadOnlyList<double> values) => values.FirstOrDefault(double.IsFinite);

    private static double LastFinite(IReadOnlyList<double> values) => values.LastOrDefault(double.IsFinite);

    /// <summary>Lets a colour bar show a value range that no single plottable owns (the banded markers).</summary>
    private sealed class FixedColorAxis(IColormap colormap, ScottPlot.Range range) : IHasColorAxis
    {
        public IColormap Colormap { get; set; } = colormap;

        public ScottPlot.Range GetRange() => range;
    }
}
