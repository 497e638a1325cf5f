using System.Globalization;
using System.Text.Json.Nodes;
using Neurite.Layers;
using Neurite.Optimizers;
using PureHDF;

namespace Neurite.IO;

/// <summary>
/// Keras 2 whole-model <c>.h5</c> files as tf.keras 2.11–2.15's <c>model.save("m.h5")</c> writes
/// them: root attributes <c>keras_version</c>, <c>backend</c>, <c>model_config</c> and
/// <c>training_config</c> (JSON), the <c>model_weights</c> group (<c>layer_names</c>, one group per
/// layer with <c>weight_names</c>), and <c>optimizer_weights</c> (the iteration count, then the
/// slots in the optimizer's variable order). Keras 2 gives hard_sigmoid the meaning Neurite
/// implements, so every model Neurite builds can be saved whole this way.
/// </summary>
internal static class LegacyH5Files
{
    /// <summary>The last Keras 2 release, whose layout is written.</summary>
    public const string KerasVersionWritten = "2.15.0";

    public static void Save(Sequential model, string path)
    {
        var file = ToH5File(model, path);
        using var ms = new MemoryStream();
        try { file.Write(ms); }
        catch (Exception e) when (e is not NeuriteException)
        {
            throw new ModelFileException(path, $"writing the HDF5 file failed ({e.GetType().Name}: {e.Message}).", e);
        }
        AtomicFile.Write(path, stream => stream.Write(ms.GetBuffer(), 0, (int)ms.Length));
    }

    /// <summary>The whole file as PureHDF's writable tree.</summary>
    internal static H5File ToH5File(Sequential model, string path)
    {
        var file = new H5File();
        file.Attributes["keras_version"] = KerasVersionWritten;
        file.Attributes["backend"] = "tensorflow";
        file.Attributes["model_config"] = ModelConfig(model, path).ToJsonString();
        if (model.Loss is not null && model.Optimizer is not null)
            file.Attributes["training_config"] = TrainingConfig(model, path).ToJsonString();

        var weights = new H5Group();
        weights.Attributes["layer_names"] = model.Layers.Select(l => l.Name).ToArray();
        weights.Attributes["backend"] = "tensorflow";
        weights.Attributes["keras_version"] = KerasVersionWritten;
        foreach (var layer in model.Layers)
        {
            var group = new H5Group();
            var names = layer.Parameters.Select(p => WeightName(layer, p)).ToArray();
            // Keras writes a weightless layer's empty list as numpy's empty float64 array.
            group.Attributes["weight_names"] = names.Length == 0 ? Array.Empty<double>() : names;
            for (int j = 0; j < names.Length; j++) Put(group, names[j], Dataset(layer.Parameters[j].Value.ToArray(), layer.Parameters[j].Shape));
            weights[layer.Name] = group;
        }
        file["model_weights"] = weights;

        if (model.Optimizer is { } optimizer && model.Loss is not null)
        {
            var group = new H5Group();
            var names = new List<string> { "iteration:0" };
            Put(group, names[0], new H5Dataset(optimizer.Iterations));
            var owners = new Dictionary<Parameter, Layer>(ReferenceEqualityComparer.Instance);
            foreach (var layer in model.Layers) foreach (var p in layer.Parameters) owners[p] = layer;
            foreach (var (p, slot) in SlotOrder(optimizer, model.TrainableParameters))
            {
                string name = $"{CompileCodec.KerasName(optimizer)}/{SlotName(optimizer, slot)}/{WeightName(owners[p], p)}";
                names.Add(name);
                var slots = optimizer.GetSlots(p);
                float[] values = slot < slots.Count ? slots[slot].AsSpan(0, p.Value.Size).ToArray() : new float[p.Value.Size];
                Put(group, name, Dataset(values, p.Shape));
            }
            group.Attributes["weight_names"] = names.ToArray();
            file["optimizer_weights"] = group;
        }
        return file;
    }

    /// <summary>The weight's Keras 2 name, also its dataset path under the layer's group: <c>dense/kernel:0</c>, <c>lstm/lstm_cell/kernel:0</c>.</summary>
    private static string WeightName(Layer layer, Parameter p) =>
        LayerCodec.CellName(layer) is string cell ? $"{layer.Name}/{cell}/{p.Name}:0" : $"{layer.Name}/{p.Name}:0";

    /// <summary>Adds a dataset at a slash-separated path, creating the groups on the way, as h5py does.</summary>
    private static void Put(H5Group root, string path, H5Dataset dataset)
    {
        var parts = path.Split('/');
        var group = root;
        foreach (var part in parts[..^1])
        {
            if (!group.TryGetValue(part, out var child)) group[part] = child = new H5Group();
            group = (H5Group)child;
        }
        group[parts[^1]] = dataset;
    }

    private static H5Dataset Dataset(float[] values, IReadOnlyList<int> shape) =>
        new(values, fileDims: shape.Select(d => (ulong)d).ToArray());

    /// <summary>The Keras 2 form of the Sequential's config: no module or registered_name, the input as an InputLayer with <c>batch_input_shape</c>.</summary>
    private static JsonObject ModelConfig(Sequential model, string path)
    {
        var first = model.Layers[0];
        var layers = new JsonArray
        {
            new JsonObject
            {
                ["class_name"] = "InputLayer",
                ["config"] = new JsonObject
                {
                    ["batch_input_shape"] = KerasJson.ShapeJson(model.FixedBatchSize, first.InputShape),
                    ["dtype"] = "float32",
                    ["sparse"] = false,
                    ["ragged"] = false,
                    ["name"] = $"{first.Name}_input",
                },
            },
        };
        foreach (var layer in model.Layers)
        {
            var entry = LayerCodec.ToKeras3(layer, path, keras2Meaning: true);
            var config = (JsonObject)Keras2Form(entry["config"])!;
            if (layer is RecurrentLayer)
            {
                // Keras 3 additions that Keras 2's recurrent layers refuse as unknown arguments.
                config.Remove("seed");
                config.Remove("zero_output_for_mask");
                config["time_major"] = false;
            }
            layers.Add(new JsonObject { ["class_name"] = entry["class_name"]!.GetValue<string>(), ["config"] = config });
        }
        return new JsonObject
        {
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject { ["name"] = model.Name, ["layers"] = layers },
        };
    }

    private static JsonObject TrainingConfig(Sequential model, string path)
    {
        JsonObject keras3;
        try { keras3 = CompileCodec.ToKeras3(model.Loss!, model.Optimizer!, model.MetricNames); }
        catch (ModelFileException) { throw; }
        catch (NeuriteException e) { throw new ModelFileException(path, e.Message); }
        var optimizer = (JsonObject)keras3["optimizer"]!;
        var config = (JsonObject)Keras2Form(optimizer["config"])!;
        // Keras 2.11-2.15 optimizers refuse these Keras 3 arguments and take the last two.
        config.Remove("loss_scale_factor");
        config.Remove("gradient_accumulation_steps");
        config["jit_compile"] = false;
        config["is_legacy_optimizer"] = false;
        return new JsonObject
        {
            ["loss"] = Keras2Form(keras3["loss"]),
            ["metrics"] = Keras2Form(keras3["metrics"]),
            ["weighted_metrics"] = null,
            ["loss_weights"] = null,
            ["optimizer_config"] = new JsonObject { ["class_name"] = optimizer["class_name"]!.GetValue<string>(), ["config"] = config },
        };
    }

    /// <summary>A deep copy without Keras 3's <c>module</c> and <c>registered_name</c> keys.</summary>
    private static JsonNode? Keras2Form(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(kv => kv.Key is not ("module" or "registered_name")).Select(kv => KeyValuePair.Create(kv.Key, Keras2Form(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Keras2Form).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>
    /// The slots Keras 2.11+ keeps after the iteration count: Keras 3's order (<see cref="CompileCodec.SlotOrder"/>),
    /// except that SGD keeps a momentum per weight even at momentum 0.
    /// </summary>
    private static List<(Parameter Parameter, int Slot)> SlotOrder(Optimizer optimizer, IReadOnlyList<Parameter> trainable) =>
        optimizer is Sgd { Momentum: 0.0 } ? trainable.Select(p => (p, 0)).ToList() : CompileCodec.SlotOrder(optimizer, trainable);

    private static string SlotName(Optimizer optimizer, int slot) => (optimizer, slot) switch
    {
        (Adam, 0) or (Sgd, 0) => "m",
        (Adam, 1) => "v",
        (Adam, _) => "vhat",
        (RmsProp, 0) => "velocity",
        (RmsProp, 1) => "momentum",
        (RmsProp, _) => "average_gradient",
        (Adagrad, _) => "accumulator",
        _ => $"slot{slot}",
    };

    /// <summary>
    /// Restores <c>optimizer_weights</c> into the compiled model's optimizer when the file has Keras 2.11+'s
    /// layout; other layouts (older Keras orders the slots differently) start the optimizer afresh, with a warning.
    /// </summary>
    public static void ReadOptimizer(Hdf5Reading h5, Sequential model, string? kerasVersion, List<string> warnings)
    {
        if (model.Optimizer is not { } optimizer) return;
        var group = h5.Group(h5.Root, "optimizer_weights");
        if (group is null) return;
        var names = h5.StringArrayAttribute(group, "weight_names", "optimizer_weights", 3 * model.TrainableParameters.Count + 1) ?? [];
        var order = SlotOrder(optimizer, model.TrainableParameters);
        if (!KerasVersions.HasKeras211OptimizerLayout(kerasVersion) || names.Length != order.Count + 1)
        {
            warnings.Add($"optimizer_weights holds {names.Length} variables from Keras {kerasVersion ?? "(no version)"}, not the {order.Count + 1} of Keras 2.11+'s {optimizer.Name} layout Neurite reads, so the optimizer state was not restored: training continues with a fresh {optimizer.Name}.");
            return;
        }
        var iterationSet = h5.Dataset(group, names[0]) ?? throw new ModelFileException(h5.File, $"has no dataset 'optimizer_weights/{names[0]}' (iterations).");
        double iterations = h5.ReadScalar(iterationSet, $"'optimizer_weights/{names[0]}' (iterations)");
        if (!(iterations >= 0 && iterations <= long.MaxValue / 2 && iterations == Math.Floor(iterations)))
            throw new ModelFileException(h5.File, $"'optimizer_weights/{names[0]}' (iterations) is {iterations.ToString(CultureInfo.InvariantCulture)}; it must be a whole number of at least 0.");
        var slots = new List<(Parameter, int, float[])>();
        for (int k = 0; k < order.Count; k++)
        {
            var (p, slot) = order[k];
            string where = $"'optimizer_weights/{names[k + 1]}' (optimizer slot {slot} of weight '{p.Name}')";
            var d = h5.Dataset(group, names[k + 1]) ?? throw new ModelFileException(h5.File, $"has no dataset {where}.");
            slots.Add((p, slot, h5.ReadWeight(d, p.Shape, where)));
        }
        optimizer.Iterations = (long)iterations;
        foreach (var (p, slot, data) in slots)
        {
            var target = optimizer.GetSlots(p);
            if (slot < target.Count) data.CopyTo(target[slot], 0);
        }
    }
}
