using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Neurite.Layers;
using Neurite.Optimizers;
using PureHDF;

namespace Neurite.IO;

/// <summary>
/// Keras model files: the Keras 3 <c>.keras</c> archive (read and write), Keras 2 full-model
/// <c>.h5</c> files (read here, written by <see cref="LegacyH5Files"/>), and weights-only
/// <c>.weights.h5</c> files (read and write).
/// </summary>
internal static class KerasFiles
{
    private const string KerasVersionWritten = "3.8.0";

    // ---------- whole models ----------

    public static void Save(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        model.SyncHostFromBackend();
        if (path.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase))
            throw new ModelFileException(path, "names a weights-only file; Save writes whole models to .keras. Use SaveWeights for .weights.h5, or give the path a .keras extension.");
        if (path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase))
        {
            RequireBuilt(model, path, "Save");
            LegacyH5Files.Save(model, path);
            return;
        }
        if (!path.EndsWith(".keras", StringComparison.OrdinalIgnoreCase))
            throw new ModelFileException(path, $"has the extension '{Path.GetExtension(path)}'; Save writes the Keras 3 format to a .keras file name, or the Keras 2 format to a .h5 file name. Use e.g. \"model.keras\".");
        RequireBuilt(model, path, "Save");
        byte[] config = Encoding.UTF8.GetBytes(ModelConfig(model, path).ToJsonString());
        byte[] metadata = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["keras_version"] = KerasVersionWritten,
            ["date_saved"] = DateTime.Now.ToString("yyyy-MM-dd@HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        }.ToJsonString());
        byte[] weights = WeightsFileBytes(model, path);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            AddStored(zip, "metadata.json", metadata);
            AddStored(zip, "config.json", config);
            AddStored(zip, "model.weights.h5", weights);
        });
    }

    private static void AddStored(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var s = entry.Open();
        s.Write(bytes);
    }

    private static JsonObject ModelConfig(Sequential model, string path)
    {
        var first = model.Layers[0];
        var layers = new JsonArray
        {
            new JsonObject
            {
                ["module"] = "keras.layers",
                ["class_name"] = "InputLayer",
                ["config"] = new JsonObject
                {
                    ["batch_shape"] = KerasJson.ShapeJson(model.FixedBatchSize, first.InputShape),
                    ["dtype"] = "float32",
                    ["sparse"] = false,
                    ["name"] = "input_layer",
                },
                ["registered_name"] = null,
            },
        };
        foreach (var layer in model.Layers) layers.Add(LayerCodec.ToKeras3(layer, path));
        var root = new JsonObject
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject
            {
                ["name"] = model.Name,
                ["trainable"] = true,
                ["dtype"] = "float32",
                ["layers"] = layers,
                ["build_input_shape"] = KerasJson.ShapeJson(model.FixedBatchSize, first.InputShape),
            },
            ["registered_name"] = null,
            ["build_config"] = new JsonObject { ["input_shape"] = KerasJson.ShapeJson(model.FixedBatchSize, first.InputShape) },
        };
        if (model.Loss is not null && model.Optimizer is not null)
        {
            try { root["compile_config"] = CompileCodec.ToKeras3(model.Loss, model.Optimizer, model.MetricNames); }
            catch (ModelFileException) { throw; }
            catch (NeuriteException e) { throw new ModelFileException(path, e.Message); }
        }
        return root;
    }

    public static Sequential Load(string path)
    {
        byte[] bytes = ReadFile(path);
        if (KerasArchive.HasZipSignature(bytes)) return LoadKeras(path, bytes);
        if (Hdf5Reading.HasHdf5Signature(bytes)) return LoadLegacyH5(path, bytes);
        throw new ModelFileException(path, "is neither a Keras 3 .keras archive (zip) nor a Keras 2 .h5 file (HDF5): its first bytes match neither signature. Check the path; the file may be truncated or of another kind.");
    }

    private static Sequential LoadKeras(string path, byte[] bytes)
    {
        using var archive = KerasArchive.Open(path, bytes, "config.json", "model.weights.h5");
        byte[] configBytes = archive.Read("config.json", ModelFileLimits.MaxConfigBytes);
        // The weights' declared size bounds the model the config may build, so an absurd config fails before allocating.
        long weightsLength = archive.DeclaredLength("model.weights.h5", ModelFileLimits.MaxFileBytes);
        var json = new KerasJson(path + "!config.json");
        var root = json.Object(KerasJson.Parse(json.File, configBytes, "config.json"), "config.json");
        var model = ModelFromConfig(json, root, KerasGeneration.Keras3, "config.json", weightsLength, "the archive member model.weights.h5");
        var warnings = new List<string>();
        var compiled = CompileCodec.FromKeras3(json, root["compile_config"] as JsonObject, warnings);
        if (compiled is not null) model.Compile(compiled.Loss, compiled.Optimizer, compiled.Metrics);
        using var h5 = Hdf5Reading.Open(path + "!model.weights.h5", archive.Read("model.weights.h5", ModelFileLimits.MaxFileBytes));
        ReadKeras3Weights(h5, model, loadOptimizer: true);
        model.LoadWarnings = warnings;
        return model;
    }

    private static Sequential LoadLegacyH5(string path, byte[] bytes)
    {
        using var h5 = Hdf5Reading.Open(path, bytes);
        string? configText = h5.StringAttribute(h5.Root, "model_config", "the file root", ModelFileLimits.MaxConfigBytes);
        if (configText is null)
        {
            string hint = h5.Group(h5.Root, "layers") is not null || h5.HasAttribute(h5.Root, "layer_names")
                ? "It holds weights only: build the model in code and call LoadWeights."
                : "It is not a Keras model file.";
            throw new ModelFileException(path, $"the HDF5 file has no 'model_config' attribute, so it holds no architecture. {hint}");
        }
        string? version = h5.StringAttribute(h5.Root, "keras_version", "the file root", 64);
        var generation = KerasVersions.Of(version);
        var json = new KerasJson(path + "@model_config");
        var root = json.Object(KerasJson.Parse(json.File, Encoding.UTF8.GetBytes(configText), "model_config"), "model_config");
        var model = ModelFromConfig(json, root, generation, "model_config", bytes.Length, "the file");
        string? training = h5.StringAttribute(h5.Root, "training_config", "the file root", ModelFileLimits.MaxConfigBytes);
        var warnings = new List<string>();
        if (training is not null)
        {
            var tjson = new KerasJson(path + "@training_config");
            var compiled = CompileCodec.FromKeras2(tjson, KerasJson.Parse(tjson.File, Encoding.UTF8.GetBytes(training), "training_config") as JsonObject, warnings);
            if (compiled is not null) model.Compile(compiled.Loss, compiled.Optimizer, compiled.Metrics);
        }
        var weights = h5.Group(h5.Root, "model_weights")
            ?? throw new ModelFileException(path, "has a model_config but no 'model_weights' group, so it holds no weights. Re-save the model with its weights.");
        ReadLegacyWeights(h5, weights, model);
        LegacyH5Files.ReadOptimizer(h5, model, version, warnings);
        model.LoadWarnings = warnings;
        return model;
    }

    /// <summary>Builds the Sequential described by a Keras config (Keras 3 or 2, list or dict form), checking sizes before allocating.</summary>
    private static Sequential ModelFromConfig(KerasJson json, JsonObject root, KerasGeneration generation, string where, long weightBytes, string weightHolder)
    {
        string className = json.String(root, "class_name", where);
        if (className != "Sequential")
            throw json.Error($"{where}.class_name is '{className}'; Neurite loads Sequential models only (a linear stack of layers). Rebuild the model with keras.Sequential.");
        JsonArray layerList;
        string modelName = "sequential";
        (int? Batch, int[] Dims)? inputShape = null;
        var configNode = root["config"];
        if (configNode is JsonArray bare) layerList = bare;
        else
        {
            var config = json.Object(configNode, $"{where}.config");
            layerList = json.Array(config["layers"], $"{where}.config.layers");
            modelName = json.OptionalString(config, "name", $"{where}.config") ?? modelName;
            if (config["build_input_shape"] is JsonArray bis) inputShape = json.Shape(bis, $"{where}.config.build_input_shape");
        }
        if (root["build_config"] is JsonObject bc && bc["input_shape"] is JsonArray bcs) inputShape ??= json.Shape(bcs, $"{where}.build_config.input_shape");
        if (layerList.Count > ModelFileLimits.MaxLayers)
            throw json.Error($"{where} lists {layerList.Count} layers, more than ModelFileLimits.MaxLayers ({ModelFileLimits.MaxLayers}).");

        var entries = new List<(string ClassName, JsonObject Config, string Where)>();
        for (int i = 0; i < layerList.Count; i++)
        {
            string lw = $"{where} layer {i}";
            var entry = json.Object(layerList[i], lw);
            string cls = json.String(entry, "class_name", lw);
            var config = json.Object(entry, "config", lw);
            if (cls == "InputLayer")
            {
                if (entries.Count > 0) throw json.Error($"{lw} is an InputLayer after other layers; a Sequential has at most one, first.");
                var shapeNode = config["batch_shape"] ?? config["batch_input_shape"];
                if (shapeNode is not null) inputShape = json.Shape(shapeNode, $"{lw}.config.batch_shape");
                continue;
            }
            if (entries.Count == 0 && config["batch_input_shape"] is JsonArray bis) inputShape = json.Shape(bis, $"{lw}.config.batch_input_shape");
            entries.Add((cls, config, lw));
        }
        if (entries.Count == 0) throw json.Error($"{where} has no layers.");
        if (inputShape is not { } shape)
            throw json.Error($"{where} gives no input shape (no InputLayer batch_shape, batch_input_shape or build_input_shape), so the weights' shapes cannot be checked. Save the model after building it.");

        var layers = new List<Layer>();
        var rng = new System.Random(0); // initial values are overwritten by the file's weights; a private generator keeps NeuriteRandom's sequence untouched
        int[] current = shape.Dims;
        long total = 0, buffers = 0;
        foreach (var (cls, config, lw) in entries)
        {
            bool first = layers.Count == 0;
            var layer = LayerCodec.FromKeras(json, cls, config, lw, generation, first ? shape.Dims : null, first ? shape.Batch : null);
            total += WeightCount(layer, current);
            if (total > ModelFileLimits.MaxTotalWeights)
                throw json.Error($"the layers up to '{layer.Name}' need {total} weights, more than ModelFileLimits.MaxTotalWeights ({ModelFileLimits.MaxTotalWeights}). Raise the limit if the file is trusted.");
            if (total > weightBytes / 4)
                throw json.Error($"the layers up to '{layer.Name}' need {total} weights ({total * 4} bytes as float32), but {weightHolder} holds only {weightBytes} bytes. The config does not belong to these weights, or the file is truncated.");
            // A declared batch size makes recurrent layers reserve their per-batch buffers as they are built.
            if (shape.Batch is int batch && layer is RecurrentLayer recurrent && current.Length == 2)
            {
                buffers += (long)batch * (current[0] + 1L) * (2L * current[1] + 8L * recurrent.Units);
                if (buffers > ModelFileLimits.MaxBatchBufferFloats || (long)batch * current[0] > int.MaxValue)
                    throw json.Error($"the input declares a fixed batch of {batch} rows of {current[0]} steps, for which the layers up to '{layer.Name}' would reserve about {buffers} floats of per-batch buffers, more than ModelFileLimits.MaxBatchBufferFloats ({ModelFileLimits.MaxBatchBufferFloats}). Use a smaller batch size in the input's batch_shape, or raise the limit if the file is trusted.");
            }
            try { layer.Build(current, rng); }
            catch (NeuriteException e) { throw json.Error($"layer '{layer.Name}' cannot take inputs of shape {ShapeText.Format(current, null)}: {e.Message}"); }
            current = layer.OutputShape.ToArray();
            layers.Add(layer);
        }
        Sequential model;
        try { model = new Sequential(layers, modelName); }
        catch (NeuriteException e) { throw json.Error(e.Message); }
        if (model.IsStateful && model.FixedBatchSize is null)
            throw json.Error($"{where} has stateful layers but no fixed batch size (the input's batch dimension is null), and a stateful layer keeps one state per batch row. Give the input a batch size in batch_shape / batch_input_shape.");
        return model;
    }

    /// <summary>The number of weights <paramref name="layer"/> will allocate for <paramref name="input"/>, computed before building it.</summary>
    private static long WeightCount(Layer layer, int[] input)
    {
        long f = input[^1];
        return layer switch
        {
            Dense d => f * d.Units + (d.UseBias ? d.Units : 0),
            Lstm r => 4L * r.Units * (f + r.Units + (r.UseBias ? 1 : 0)),
            Gru r => 3L * r.Units * (f + r.Units + (r.UseBias ? (r.ResetAfter ? 2 : 1) : 0)),
            SimpleRnn r => (long)r.Units * (f + r.Units + (r.UseBias ? 1 : 0)),
            _ => 0,
        };
    }

    // ---------- weights ----------

    public static void SaveWeights(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!path.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase))
            throw new ModelFileException(path, "must end in .weights.h5, as Keras 3 requires for weights-only files. Use e.g. \"model.weights.h5\" (or Save with .keras for the whole model).");
        RequireBuilt(model, path, "SaveWeights");
        model.SyncHostFromBackend();
        byte[] bytes = WeightsFileBytes(model, path);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    public static void LoadWeights(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireBuilt(model, path, "LoadWeights");
        // The optimizer's slots a weights-only file lacks stay the trained ones: home first, then taken up again.
        model.SyncHostFromBackend();
        try
        {
            ReadWeightsInto(model, path);
        }
        finally
        {
            model.HostWritten();
        }
    }

    private static void ReadWeightsInto(Sequential model, string path)
    {
        byte[] bytes = ReadFile(path);
        if (KerasArchive.HasZipSignature(bytes))
        {
            byte[] inner;
            using (var archive = KerasArchive.Open(path, bytes, "model.weights.h5")) inner = archive.Read("model.weights.h5", ModelFileLimits.MaxFileBytes);
            using var kh5 = Hdf5Reading.Open(path + "!model.weights.h5", inner);
            ReadKeras3Weights(kh5, model, loadOptimizer: true);
            return;
        }
        using var h5 = Hdf5Reading.Open(path, bytes);
        if (h5.Group(h5.Root, "layers") is not null) ReadKeras3Weights(h5, model, loadOptimizer: true);
        else if (h5.Group(h5.Root, "model_weights") is { } mw) ReadLegacyWeights(h5, mw, model);
        else if (h5.HasAttribute(h5.Root, "layer_names")) ReadLegacyWeights(h5, h5.Root, model);
        else throw new ModelFileException(path, "holds no Keras weights (no 'layers' group, 'model_weights' group or 'layer_names' attribute).");
    }

    private static byte[] WeightsFileBytes(Sequential model, string path)
    {
        var layersGroup = new H5Group();
        var groupNames = LayerCodec.WeightGroupNames(model.Layers);
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            var vars = new H5Group();
            var group = new H5Group { ["vars"] = vars };
            vars.Attributes["name"] = layer.Name;
            var target = vars;
            if (LayerCodec.CellName(layer) is string cellName)
            {
                target = new H5Group();
                target.Attributes["name"] = cellName;
                group["cell"] = new H5Group { ["vars"] = target };
            }
            for (int j = 0; j < layer.Parameters.Count; j++)
                target[j.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Dataset(layer.Parameters[j].Value.ToArray(), layer.Parameters[j].Shape);
            layersGroup[groupNames[i]] = group;
        }
        var modelVars = new H5Group();
        modelVars.Attributes["name"] = model.Name;
        var file = new H5File { ["layers"] = layersGroup, ["vars"] = modelVars };
        if (model.Optimizer is { } optimizer && model.Loss is not null)
        {
            var optVars = new H5Group
            {
                ["0"] = new H5Dataset(optimizer.Iterations),
                ["1"] = new H5Dataset((float)optimizer.LearningRate),
            };
            optVars.Attributes["name"] = CompileCodec.KerasName(optimizer);
            int index = 2;
            foreach (var (p, slot) in CompileCodec.SlotOrder(optimizer, model.TrainableParameters))
                optVars[(index++).ToString(System.Globalization.CultureInfo.InvariantCulture)] = Dataset(optimizer.GetSlots(p)[slot].AsSpan(0, p.Value.Size).ToArray(), p.Shape);
            file["optimizer"] = new H5Group { ["vars"] = optVars };
        }
        using var ms = new MemoryStream();
        try { file.Write(ms); }
        catch (Exception e) when (e is not NeuriteException)
        {
            throw new ModelFileException(path, $"writing the HDF5 weights failed ({e.GetType().Name}: {e.Message}).", e);
        }
        return ms.ToArray();
    }

    private static H5Dataset Dataset(float[] values, IReadOnlyList<int> shape) =>
        new(values, fileDims: shape.Select(d => (ulong)d).ToArray());

    /// <summary>Reads <c>layers/&lt;group&gt;[/cell]/vars/&lt;i&gt;</c> and, if present and the model is compiled, <c>optimizer/vars</c>.</summary>
    private static void ReadKeras3Weights(Hdf5Reading h5, Sequential model, bool loadOptimizer)
    {
        var layersGroup = h5.Group(h5.Root, "layers")
            ?? throw new ModelFileException(h5.File, "has no 'layers' group, so it holds no Keras 3 weights. The file is damaged or of another kind.");
        var groupNames = LayerCodec.WeightGroupNames(model.Layers);
        long needed = model.Layers.Sum(l => l.CountParams()) * 4;
        if (needed > h5.Length)
            throw new ModelFileException(h5.File, $"is {h5.Length} bytes, too small for the model's {needed / 4} float32 weights. The file is truncated or belongs to a smaller model.");
        var values = new List<(Layer Layer, List<Tensor> Weights)>();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            if (layer.Parameters.Count == 0) continue;
            string groupPath = LayerCodec.CellName(layer) is null ? $"{groupNames[i]}/vars" : $"{groupNames[i]}/cell/vars";
            var vars = h5.Group(layersGroup, groupPath)
                ?? throw new ModelFileException(h5.File, $"has no group 'layers/{groupPath}' for layer '{layer.Name}' ({layer.ClassName}). The file belongs to a different architecture.");
            int present = h5.CountChildren(vars, $"layers/{groupPath}");
            if (present != layer.Parameters.Count)
                throw new ModelFileException(h5.File, $"'layers/{groupPath}' holds {present} variables, but layer '{layer.Name}' ({layer.ClassName}) has {layer.Parameters.Count} ({string.Join(", ", layer.Parameters.Select(p => p.Name))}). The file belongs to a different architecture.");
            var weights = new List<Tensor>();
            for (int j = 0; j < layer.Parameters.Count; j++)
            {
                var p = layer.Parameters[j];
                string where = $"'layers/{groupPath}/{j}' ({p.Name} of layer '{layer.Name}')";
                var d = h5.Dataset(vars, j.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    ?? throw new ModelFileException(h5.File, $"has no dataset {where}.");
                weights.Add(new Tensor(h5.ReadWeight(d, p.Shape, where), p.Shape.ToArray()));
            }
            values.Add((layer, weights));
        }
        (Optimizer, long, double, List<(Parameter, int, float[])>)? optimizerState = null;
        if (loadOptimizer && model.Optimizer is { } optimizer && h5.Group(h5.Root, "optimizer/vars") is { } optVars)
            optimizerState = ReadOptimizer(h5, optVars, optimizer, model.TrainableParameters);
        // Nothing changes until every tensor is read and checked, so a bad file leaves the model as it was.
        foreach (var (layer, weights) in values) layer.SetWeights(weights);
        if (optimizerState is var (opt, iterations, learningRate, slots))
        {
            opt.Iterations = iterations;
            opt.LearningRate = learningRate;
            foreach (var (p, slot, data) in slots) data.CopyTo(opt.GetSlots(p)[slot], 0);
        }
    }

    private static (Optimizer, long, double, List<(Parameter, int, float[])>) ReadOptimizer(Hdf5Reading h5, PureHDF.IH5Group optVars, Optimizer optimizer, IReadOnlyList<Parameter> trainable)
    {
        var order = CompileCodec.SlotOrder(optimizer, trainable);
        int present = h5.CountChildren(optVars, "optimizer/vars");
        if (present != order.Count + 2)
            throw new ModelFileException(h5.File, $"'optimizer/vars' holds {present} variables, but a {optimizer.Name} optimizer for this model's {trainable.Count} trainable weights has {order.Count + 2} (iterations, learning rate, then its slots). The optimizer state belongs to another optimizer or architecture; compile the model with the optimizer it was saved with.");
        var iterationsSet = h5.Dataset(optVars, "0") ?? throw new ModelFileException(h5.File, "has no 'optimizer/vars/0' (iterations).");
        double iterations = h5.ReadScalar(iterationsSet, "'optimizer/vars/0' (iterations)");
        if (!(iterations >= 0 && iterations <= long.MaxValue / 2 && iterations == Math.Floor(iterations)))
            throw new ModelFileException(h5.File, $"'optimizer/vars/0' (iterations) is {iterations}; it must be a whole number of at least 0.");
        var lrSet = h5.Dataset(optVars, "1") ?? throw new ModelFileException(h5.File, "has no 'optimizer/vars/1' (learning rate).");
        double lr = h5.ReadScalar(lrSet, "'optimizer/vars/1' (learning rate)");
        if (!(lr >= 0 && double.IsFinite(lr)))
            throw new ModelFileException(h5.File, $"'optimizer/vars/1' (learning rate) is {lr}; it must be a finite number of at least 0.");
        // The file keeps the rate as float32; keep the configured double when it rounds to the same float, so resumed training is bit-identical.
        double learningRate = (float)optimizer.LearningRate == (float)lr ? optimizer.LearningRate : lr;
        var slots = new List<(Parameter, int, float[])>();
        for (int k = 0; k < order.Count; k++)
        {
            var (p, slot) = order[k];
            string name = (k + 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var d = h5.Dataset(optVars, name) ?? throw new ModelFileException(h5.File, $"has no 'optimizer/vars/{name}'.");
            slots.Add((p, slot, h5.ReadWeight(d, p.Shape, $"'optimizer/vars/{name}' (optimizer slot {slot} of weight '{p.Name}')")));
        }
        return (optimizer, (long)iterations, learningRate, slots);
    }

    /// <summary>
    /// Keras 2 layout: <c>layer_names</c> lists the layers in order, each group's <c>weight_names</c>
    /// the datasets in order; layers with weights are matched to the model's by position, as Keras does.
    /// </summary>
    private static void ReadLegacyWeights(Hdf5Reading h5, PureHDF.IH5Group weightsGroup, Sequential model)
    {
        var withWeights = model.Layers.Where(l => l.Parameters.Count > 0).ToList();
        var names = h5.StringArrayAttribute(weightsGroup, "layer_names", "model_weights", ModelFileLimits.MaxLayers)
            ?? throw new ModelFileException(h5.File, "'model_weights' has no 'layer_names' attribute, so its layers cannot be matched.");
        var fileLayers = new List<(string Name, string[] WeightNames, PureHDF.IH5Group Group)>();
        foreach (var name in names)
        {
            var group = h5.Group(weightsGroup, name) ?? throw new ModelFileException(h5.File, $"lists layer '{name}' in layer_names but has no group for it.");
            var weightNames = h5.StringArrayAttribute(group, "weight_names", $"layer group '{name}'", 64) ?? [];
            if (weightNames.Length > 0) fileLayers.Add((name, weightNames, group));
        }
        if (fileLayers.Count != withWeights.Count)
            throw new ModelFileException(h5.File, $"has weights for {fileLayers.Count} layers ({string.Join(", ", fileLayers.Select(f => f.Name))}), but the model has {withWeights.Count} layers with weights ({string.Join(", ", withWeights.Select(l => l.Name))}). The file belongs to a different architecture.");
        long needed = withWeights.Sum(l => l.CountParams()) * 4;
        if (needed > h5.Length)
            throw new ModelFileException(h5.File, $"is {h5.Length} bytes, too small for the model's {needed / 4} float32 weights. The file is truncated.");
        var values = new List<(Layer, List<Tensor>)>();
        for (int i = 0; i < withWeights.Count; i++)
        {
            var layer = withWeights[i];
            var (fileName, weightNames, group) = fileLayers[i];
            if (weightNames.Length != layer.Parameters.Count)
                throw new ModelFileException(h5.File, $"layer '{fileName}' has {weightNames.Length} weights ({string.Join(", ", weightNames)}), but the model's layer '{layer.Name}' ({layer.ClassName}) has {layer.Parameters.Count}. The file belongs to a different architecture.");
            var weights = new List<Tensor>();
            for (int j = 0; j < weightNames.Length; j++)
            {
                var p = layer.Parameters[j];
                string where = $"'{fileName}/{weightNames[j]}' ({p.Name} of layer '{layer.Name}')";
                var d = h5.Dataset(group, weightNames[j]) ?? throw new ModelFileException(h5.File, $"has no dataset {where}.");
                weights.Add(new Tensor(h5.ReadWeight(d, p.Shape, where), p.Shape.ToArray()));
            }
            values.Add((layer, weights));
        }
        foreach (var (layer, weights) in values) layer.SetWeights(weights);
    }

    // ---------- helpers ----------

    private static void RequireBuilt(Sequential model, string path, string what)
    {
        if (!model.IsBuilt)
            throw new ModelFileException(path, $"cannot be used by {what} because model '{model.Name}' is not built, so its weights do not exist yet. Give the first layer an inputShape, or call Build/Fit first.");
    }

    internal static byte[] ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new ModelFileException(path, $"does not exist (looked in '{info.FullName}'). Check the path and the working directory ({Environment.CurrentDirectory}).");
        if (info.Length > ModelFileLimits.MaxFileBytes)
            throw new ModelFileException(path, $"is {info.Length} bytes, more than the limit of {ModelFileLimits.MaxFileBytes} (ModelFileLimits.MaxFileBytes).");
        try { return File.ReadAllBytes(path); }
        catch (IOException e) { throw new ModelFileException(path, $"cannot be read: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new ModelFileException(path, $"cannot be read: {e.Message}", e); }
    }
}
