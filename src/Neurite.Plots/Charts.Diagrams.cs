using ScottPlot;

namespace Neurite.Plots;

/// <summary>One column of a <see cref="Charts.NetworkDiagram"/>: the input layer or a model layer.</summary>
/// <param name="Name">Layer name, e.g. "dense_1".</param>
/// <param name="Kind">Layer type, e.g. "Input" or "Dense".</param>
/// <param name="Units">Number of nodes (features for the input layer).</param>
/// <param name="Activation">Activation name, or null when the layer has none.</param>
public sealed record DiagramLayer(string Name, string Kind, int Units, string? Activation);

public static partial class Charts
{
    /// <summary>Layers with more units than this are drawn abbreviated.</summary>
    public const int MaxDrawnUnits = 12;

    /// <summary>Nodes drawn on each side of the ellipsis of an abbreviated layer.</summary>
    private const int NodesBesideEllipsis = 5;

    private static readonly Color InputNodeColor = Color.FromHex("#2ca02c");
    private static readonly Color HiddenNodeColor = Color.FromHex("#1f77b4");
    private static readonly Color OutputNodeColor = Color.FromHex("#ff7f0e");
    private static readonly Color EdgeColor = Color.FromHex("#9a9a9a");

    /// <summary>
    /// A layered node diagram of a feed-forward network: the first layer is the input (green), the last the
    /// output (orange), those between hidden (blue); every node is joined to every node of the next layer.
    /// A layer with more than <see cref="MaxDrawnUnits"/> units shows 5 nodes, an ellipsis and 5 nodes, and its
    /// label gives the true count.
    /// </summary>
    /// <param name="layers">Input layer first, then each model layer in order; at least two.</param>
    /// <param name="inputNames">Feature names written beside the input nodes (e.g. "Sepal.Length"); null for none.
    /// When given, there must be one per input unit.</param>
    public static byte[] NetworkDiagram(IReadOnlyList<DiagramLayer> layers, string title,
        IReadOnlyList<string>? inputNames = null, int width = DefaultWidth, int height = DefaultHeight)
    {
        ValidateLayers(layers, inputNames);
        Guard.Text(title, nameof(title));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        plot.HideAxesAndGrid();
        // HideAxesAndGrid hides the title panel as well.
        plot.Axes.Title.IsVisible = title.Length > 0;

        var drawn = layers.Select(layer => DrawnSlots(layer.Units)).ToArray();
        int maxSlots = drawn.Max(slots => slots.Length);
        double nodesTop = (maxSlots - 1) / 2.0 + 0.6;
        double nodesBottom = -(maxSlots - 1) / 2.0 - 0.6;

        // Edges first so the nodes are drawn over their ends.
        for (int l = 0; l + 1 < layers.Count; l++)
        {
            for (int from = 0; from < drawn[l].Length; from++)
            {
                if (drawn[l][from] < 0)
                    continue;
                for (int to = 0; to < drawn[l + 1].Length; to++)
                {
                    if (drawn[l + 1][to] < 0)
                        continue;
                    var edge = plot.Add.Line(l, SlotY(from, drawn[l].Length), l + 1, SlotY(to, drawn[l + 1].Length));
                    edge.Color = EdgeColor.WithAlpha(0.6);
                    edge.LineWidth = 1;
                }
            }
        }

        // Marker sizes are in pixels, so size them from the pixels available per node slot.
        float slotPixels = (float)(height * 0.6 / maxSlots);
        float nodeSize = Math.Clamp(slotPixels * 0.65f, 6f, 30f);
        for (int l = 0; l < layers.Count; l++)
        {
            var color = l == 0 ? InputNodeColor : l == layers.Count - 1 ? OutputNodeColor : HiddenNodeColor;
            var slots = drawn[l];
            var nodeX = new List<double>();
            var nodeY = new List<double>();
            for (int s = 0; s < slots.Length; s++)
            {
                double y = SlotY(s, slots.Length);
                if (slots[s] >= 0)
                {
                    nodeX.Add(l);
                    nodeY.Add(y);
                }
                else
                {
                    // Three dots rather than an ellipsis glyph: a shape needs no font coverage.
                    plot.Add.Markers(new double[] { l, l, l }, new[] { y + 0.25, y, y - 0.25 },
                        MarkerShape.FilledCircle, Math.Max(3f, nodeSize / 5), Colors.Black);
                }
            }
            var nodes = plot.Add.Markers(nodeX.ToArray(), nodeY.ToArray(), MarkerShape.FilledCircle, nodeSize, color);
            nodes.MarkerLineColor = Colors.Black;
            nodes.MarkerLineWidth = 1;

            var label = plot.Add.Text(LayerLabel(layers[l]), l, nodesBottom);
            label.LabelAlignment = Alignment.UpperCenter;
            label.LabelFontSize = 13;
            label.LabelFontColor = Colors.Black;

            if (l == 0 && inputNames is not null)
            {
                for (int s = 0; s < slots.Length; s++)
                {
                    if (slots[s] < 0)
                        continue;
                    var name = plot.Add.Text(inputNames[slots[s]], 0, SlotY(s, slots.Length));
                    name.LabelAlignment = Alignment.MiddleRight;
                    name.OffsetX = -(nodeSize / 2 + 6);
                    name.LabelFontSize = 12;
                    name.LabelFontColor = Colors.Black;
                }
            }
        }

        // Reserve about 80 pixels under the nodes for the (up to four line) layer labels.
        double dataPixels = Math.Max(height - 60.0, 200.0);
        double labelPixels = Math.Min(80.0, dataPixels * 0.4);
        double labelSpace = (nodesTop - nodesBottom) * labelPixels / (dataPixels - labelPixels);
        double left = inputNames is null ? -0.5 : -1.3;
        plot.Axes.SetLimits(left, layers.Count - 0.5, nodesBottom - labelSpace, nodesTop);
        return Render(plot, width, height);
    }

    /// <summary>
    /// Confusion matrix as a heatmap, actual class in rows (top to bottom in <paramref name="labels"/> order) and
    /// predicted class in columns, with each count written in its cell.
    /// </summary>
    public static byte[] ConfusionMatrix(int[,] counts, string[] labels, string title,
        int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(counts);
        Guard.NotEmpty(labels, nameof(labels));
        int rows = counts.GetLength(0), columns = counts.GetLength(1);
        if (rows != columns || rows != labels.Length)
            throw new ArgumentException(
                $"'counts' is {rows}x{columns} but 'labels' has length {labels.Length}; a confusion matrix is square " +
                "with one row and one column per label.", nameof(counts));
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] is null)
                throw new ArgumentException($"'labels'[{i}] is null; give every class a name.", nameof(labels));
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                if (counts[r, c] < 0)
                    throw new ArgumentException(
                        $"'counts'[{r},{c}] is {counts[r, c]}; counts of samples cannot be negative.", nameof(counts));
            }
        }
        Guard.Text(title, nameof(title));
        Guard.ImageSize(width, height);

        var plot = NewPlot(title);
        var intensities = new double[rows, columns];
        int maxCount = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                intensities[r, c] = counts[r, c];
                maxCount = Math.Max(maxCount, counts[r, c]);
            }
        }

        var heatmap = plot.Add.Heatmap(intensities);
        // ScottPlot's Blues runs dark to white; reversed, larger counts are darker as in most confusion matrix plots.
        heatmap.Colormap = new ScottPlot.Colormaps.Blues().Reversed();
        // Row 0 of the intensities is drawn at the top, so actual class 0 sits at y = rows - 1.
        heatmap.Extent = new CoordinateRect(-0.5, columns - 0.5, -0.5, rows - 0.5);
        heatmap.ManualRange = new ScottPlot.Range(0, Math.Max(maxCount, 1));

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                var text = plot.Add.Text(counts[r, c].ToString(System.Globalization.CultureInfo.InvariantCulture), c, rows - 1 - r);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 18;
                text.LabelBold = true;
                // White on the dark half of the colour map, black on the light half, so every count stays legible.
                text.LabelFontColor = maxCount > 0 && counts[r, c] > maxCount * 0.5 ? Colors.White : Colors.Black;
            }
        }

        var positions = Enumerable.Range(0, labels.Length).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, labels);
        plot.Axes.Left.SetTicks(positions, labels.Reverse().ToArray());
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.XLabel("predicted");
        plot.YLabel("actual");
        plot.HideGrid();
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "count";
        return Render(plot, width, height);
    }

    private static void ValidateLayers(IReadOnlyList<DiagramLayer> layers, IReadOnlyList<string>? inputNames)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count < 2)
            throw new ArgumentException(
                $"'layers' has {layers.Count} entries; pass the input layer followed by at least one model layer.", nameof(layers));
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l] ?? throw new ArgumentException($"'layers'[{l}] is null.", nameof(layers));
            if (layer.Units < 1)
                throw new ArgumentException(
                    $"'layers'[{l}] (\"{layer.Name}\") has {layer.Units} units; every layer needs at least one.", nameof(layers));
            if (layer.Name is null || layer.Kind is null)
                throw new ArgumentException($"'layers'[{l}] has a null Name or Kind; give both (use \"\" for none).", nameof(layers));
        }
        if (inputNames is not null && inputNames.Count != layers[0].Units)
            throw new ArgumentException(
                $"'inputNames' has length {inputNames.Count} but the input layer 'layers'[0] has {layers[0].Units} units; " +
                "pass one name per input feature or null.", nameof(inputNames));
        if (inputNames is not null && inputNames.Any(name => name is null))
            throw new ArgumentException("'inputNames' contains null; pass a name for every input feature.", nameof(inputNames));
    }

    /// <summary>Unit index shown in each vertical slot of a layer, -1 for the ellipsis slot.</summary>
    private static int[] DrawnSlots(int units)
    {
        if (units <= MaxDrawnUnits)
            return Enumerable.Range(0, units).ToArray();
        return Enumerable.Range(0, NodesBesideEllipsis)
            .Append(-1)
            .Concat(Enumerable.Range(units - NodesBesideEllipsis, NodesBesideEllipsis))
            .ToArray();
    }

    /// <summary>Slots are one unit apart and centred on y = 0, first slot at the top.</summary>
    private static double SlotY(int slot, int slotCount) => (slotCount - 1) / 2.0 - slot;

    private static string LayerLabel(DiagramLayer layer)
    {
        var lines = new List<string> { layer.Name, layer.Kind, layer.Units == 1 ? "1 unit" : $"{layer.Units} units" };
        if (!string.IsNullOrEmpty(layer.Activation))
            lines.Add(layer.Activation);
        return string.Join('\n', lines.Where(line => line.Length > 0));
    }
}
