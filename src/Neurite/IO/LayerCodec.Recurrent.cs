using System.Text.Json.Nodes;
using Neurite.Layers;

namespace Neurite.IO;

internal static partial class LayerCodec
{
    // Recurrent layers arrive with the 'recurrent' branch; until then they are not saved or loaded.
    private static bool TryRecurrentToKeras3(Layer layer, JsonObject config, string file) => false;

    private static Layer? RecurrentFrom(KerasJson json, string className, JsonObject c, string where, KerasGeneration generation,
        string name, int[]? inputShape, int? batchSize) => null;
}
