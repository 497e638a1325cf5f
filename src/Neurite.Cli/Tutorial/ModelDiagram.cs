using Neurite.Layers;
using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>Turns a built model into the columns of <see cref="Charts.NetworkDiagram"/>.</summary>
internal static class ModelDiagram
{
    /// <summary>
    /// The input column (one node per input feature), then one column per layer that has units, sized by the
    /// last axis of its output. Dropout layers are left out: they add no nodes, only switch some off while training.
    /// </summary>
    public static List<DiagramLayer> Layers(Sequential model, int inputUnits)
    {
        var columns = new List<DiagramLayer> { new("input", "Input", inputUnits, null) };
        foreach (Layer layer in model.Layers)
        {
            if (layer is Dropout) continue;
            string? activation = layer.GetConfig().TryGetValue("activation", out var a) ? a as string : null;
            columns.Add(new DiagramLayer(layer.Name, layer.ClassName, layer.OutputShape[^1], activation));
        }
        return columns;
    }

    public static byte[] Draw(Sequential model, string title, IReadOnlyList<string> inputNames) =>
        Charts.NetworkDiagram(Layers(model, inputNames.Count), title, inputNames,
            width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight);
}
