using System.Text.Json.Nodes;
using Neurite.Activations;
using Neurite.Initializers;
using Neurite.Layers;

namespace Neurite.IO;

/// <summary>
/// Converts layers to and from Keras layer configs (the entries of a Sequential's <c>layers</c>),
/// and names their weight groups as Keras's weights files do.
/// </summary>
internal static partial class LayerCodec
{
    public static IReadOnlyList<string> SupportedClasses { get; } = ["InputLayer", "Dense", "Dropout", "Activation", "LSTM", "GRU", "SimpleRNN"];

    // ---------- saving ----------

    /// <summary>
    /// The Keras 3 entry of <paramref name="layer"/>: module, class_name, config, registered_name, build_config.
    /// <paramref name="keras2Meaning"/> allows hard_sigmoid, for the Keras 2 files built from this entry.
    /// </summary>
    public static JsonObject ToKeras3(Layer layer, string file, bool keras2Meaning = false)
    {
        var config = new JsonObject
        {
            ["name"] = layer.Name,
            ["trainable"] = layer.Trainable,
            ["dtype"] = "float32",
        };
        if (!SupportedClasses.Contains(layer.ClassName) || layer.ClassName == "InputLayer")
            throw new ModelFileException(file, $"layer '{layer.Name}' ({layer.ClassName}) cannot be saved: Keras files hold {string.Join(", ", SupportedClasses.Skip(1))} layers.");
        foreach (var (key, value) in layer.Config.Entries())
            config[key] = value switch
            {
                null => null,
                ActivationFunction f => ActivationName(f.Name, layer, file, keras2Meaning),
                Initializer i => InitializerToJson(i),
                string name when key.EndsWith("activation", StringComparison.Ordinal) => ActivationName(name, layer, file, keras2Meaning),
                string text => text,
                bool flag => flag,
                int number => number,
                double number => number,
                _ => throw new InvalidOperationException($"{layer.ClassName}'s config entry '{key}' has a value of type {value.GetType().Name}, which has no Keras form."),
            };
        // Keras writes no build config for a layer without weights that keeps its input's shape.
        bool hasBuildConfig = layer is not Dropout;
        var entry = new JsonObject
        {
            ["module"] = "keras.layers",
            ["class_name"] = layer.ClassName,
            ["config"] = config,
            ["registered_name"] = null,
        };
        if (hasBuildConfig)
            entry["build_config"] = new JsonObject { ["input_shape"] = KerasJson.ShapeJson(layer.FixedBatchSize, layer.InputShape) };
        return entry;
    }

    private static string ActivationName(string name, Layer layer, string file, bool keras2Meaning) =>
        name == "hard_sigmoid" && !keras2Meaning ? throw HardSigmoidInKeras3(layer.Name, file) : name;

    internal static ModelFileException HardSigmoidInKeras3(string layerName, string file) =>
        new(file, $"layer '{layerName}' uses hard_sigmoid, which Neurite computes as Keras 2 does (clip(0.2x + 0.5, 0, 1)), " +
            "while Keras 3 files mean relu6(x + 3) / 6; a .keras file would change the model's outputs. " +
            "Save it as a Keras 2 .h5 file instead (model.Save(\"model.h5\"), read by Keras 2 and Neurite), or use activation \"sigmoid\".");

    /// <summary>The snake_case name Keras gives a layer's weight group before numbering (<c>dense</c>, <c>lstm</c>, <c>simple_rnn</c>).</summary>
    public static string WeightGroupBase(Layer layer) => layer.ClassName switch
    {
        "LSTM" => "lstm",
        "GRU" => "gru",
        "SimpleRNN" => "simple_rnn",
        var other => Layer.ToSnakeCase(other),
    };

    /// <summary>The group names of each layer under <c>layers/</c>: class name plus a per-class counter, in layer order.</summary>
    public static string[] WeightGroupNames(IReadOnlyList<Layer> layers)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new string[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            string b = WeightGroupBase(layers[i]);
            int n = counts.GetValueOrDefault(b);
            counts[b] = n + 1;
            names[i] = n == 0 ? b : $"{b}_{n}";
        }
        return names;
    }

    /// <summary>Recurrent layers keep their weights in a <c>cell</c> sub-object (<c>lstm_cell</c>, ...); others directly.</summary>
    public static string? CellName(Layer layer) => layer.ClassName switch
    {
        "LSTM" => "lstm_cell",
        "GRU" => "gru_cell",
        "SimpleRNN" => "simple_rnn_cell",
        _ => null,
    };

    public static JsonObject InitializerToJson(Initializer initializer)
    {
        string className;
        JsonObject config;
        if (initializer is VarianceScaling vs && vs.Name == "variance_scaling")
        {
            className = "VarianceScaling";
            config = new JsonObject
            {
                ["scale"] = vs.Scale,
                ["mode"] = vs.Mode switch { FanMode.FanIn => "fan_in", FanMode.FanOut => "fan_out", _ => "fan_avg" },
                ["distribution"] = vs.Distribution switch { Distribution.Uniform => "uniform", Distribution.TruncatedNormal => "truncated_normal", _ => "untruncated_normal" },
                ["seed"] = null,
            };
        }
        else
        {
            className = string.Concat(initializer.Name.Split('_').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
            config = new JsonObject();
            foreach (var (k, v) in initializer.GetConfig())
                config[k] = v switch { null => null, double d => JsonValue.Create(d), int i => JsonValue.Create(i), _ => JsonValue.Create(v.ToString()) };
        }
        return new JsonObject { ["module"] = "keras.initializers", ["class_name"] = className, ["config"] = config, ["registered_name"] = null };
    }

    // ---------- loading ----------

    /// <summary>
    /// Builds a layer from its Keras config. Only the first layer receives <paramref name="inputShape"/>
    /// and <paramref name="batchSize"/>.
    /// </summary>
    public static Layer FromKeras(KerasJson json, string className, JsonObject config, string where,
        KerasGeneration generation, int[]? inputShape, int? batchSize)
    {
        string name = json.String(config, "name", where);
        if (name.Length is 0 or > 256)
            throw json.Error($"{where}.name must be 1 to 256 characters, but the file has {name.Length}.");
        where = $"layer '{name}' ({className})";
        Layer layer;
        try
        {
            layer = className switch
            {
                "Dense" => DenseFrom(json, config, where, generation, name, inputShape, batchSize),
                "Dropout" => new Dropout(RateFrom(json, config, "rate", where), inputShape, batchSize, name),
                "Activation" => new Layers.Activation(ActivationFrom(json, config, "activation", where, generation, "linear"), inputShape, batchSize, name),
                _ => RecurrentFrom(json, className, config, where, generation, name, inputShape, batchSize)
                    ?? throw json.Error($"{where}: the layer class '{className}' is not supported. Neurite reads {string.Join(", ", SupportedClasses)}."),
            };
        }
        catch (ModelFileException) { throw; }
        catch (NeuriteException e)
        {
            throw json.Error($"{where}: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw json.Error($"{where}: {e.Message}");
        }
        layer.Trainable = json.Bool(config, "trainable", where, true);
        return layer;
    }

    private static Dense DenseFrom(KerasJson json, JsonObject c, string where, KerasGeneration generation, string name, int[]? inputShape, int? batchSize)
    {
        RequireNoExtras(json, c, where, "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint");
        return new Dense(json.PositiveInt(c, "units", where, 1 << 24),
            ActivationFunction.Get(ActivationFrom(json, c, "activation", where, generation, "linear")),
            json.Bool(c, "use_bias", where, true),
            InitializerFrom(json, c["kernel_initializer"], $"{where}.kernel_initializer", "glorot_uniform"),
            InitializerFrom(json, c["bias_initializer"], $"{where}.bias_initializer", "zeros"),
            inputShape, batchSize, name);
    }

    internal static void RequireNoExtras(KerasJson json, JsonObject c, string where, params string[] keys)
    {
        foreach (var key in keys)
            json.RequireNull(c, key, where, "Remove it in Keras before saving (it only affects training), or rebuild the model in Neurite.");
    }

    internal static double RateFrom(KerasJson json, JsonObject c, string key, string where)
    {
        double rate = json.Double(c, key, where, 0);
        if (!(rate >= 0 && rate < 1)) throw json.Error($"{where}.{key} must be in [0, 1), but the file has {rate}.");
        return rate;
    }

    /// <summary>An activation name; Keras 3 may write it as a serialized function object.</summary>
    internal static string ActivationFrom(KerasJson json, JsonObject c, string key, string where, KerasGeneration generation, string defaultName)
    {
        var node = c[key];
        string name;
        if (node is null) name = defaultName;
        else if (node is JsonValue v && v.TryGetValue<string>(out var s)) name = s;
        else if (node is JsonObject o && o["config"] is JsonValue cv && cv.TryGetValue<string>(out var fs)) name = fs;
        else throw json.Error($"{where}.{key} must name an activation, but the file has {KerasJson.Show(node)}.");
        name = name.Trim().ToLowerInvariant();
        if (name is "hard_sigmoid" && generation == KerasGeneration.Keras3)
            throw json.Error($"{where}.{key} is hard_sigmoid in a Keras 3 file, where it means relu6(x + 3) / 6; Neurite implements only Keras 2's clip(0.2x + 0.5, 0, 1), so the outputs would differ. Use sigmoid in Keras, or load a Keras 2 .h5 file.");
        if (!ActivationFunction.KnownNames.Contains(name) && name is not ("silu" or "none"))
            throw json.Error($"{where}.{key} is '{name}', which Neurite does not implement. Supported: {string.Join(", ", ActivationFunction.KnownNames)}.");
        return name;
    }

    /// <summary>
    /// Reads an initializer; an unknown one falls back to the layer's default, since the saved
    /// weights replace the initial values anyway (it only matters if the layer is rebuilt).
    /// </summary>
    internal static Initializer InitializerFrom(KerasJson json, JsonNode? node, string where, string defaultName)
    {
        string? className = null;
        JsonObject? config = null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) className = s;
        else if (node is JsonObject o)
        {
            className = o["class_name"] is JsonValue cn && cn.TryGetValue<string>(out var n) ? n : null;
            config = o["config"] as JsonObject;
        }
        if (className is null) return Initializer.Get(defaultName);
        string snake = Layer.ToSnakeCase(className);
        config ??= [];
        double D(string key, double d) => json.Double(config, key, where, d);
        switch (snake)
        {
            case "variance_scaling":
                var mode = (json.OptionalString(config, "mode", where) ?? "fan_in") switch { "fan_out" => FanMode.FanOut, "fan_avg" => FanMode.FanAvg, _ => FanMode.FanIn };
                var dist = (json.OptionalString(config, "distribution", where) ?? "truncated_normal") switch
                {
                    "uniform" => Distribution.Uniform,
                    "untruncated_normal" => Distribution.UntruncatedNormal,
                    _ => Distribution.TruncatedNormal,
                };
                double scale = D("scale", 1.0);
                if (scale == 1.0 && mode == FanMode.FanAvg && dist == Distribution.Uniform) return Initializer.Get("glorot_uniform");
                return new VarianceScaling(scale, mode, dist);
            case "random_normal": return new RandomNormal(D("mean", 0), D("stddev", 0.05));
            case "random_uniform": return new RandomUniform(D("minval", -0.05), D("maxval", 0.05));
            case "truncated_normal": return new TruncatedNormal(D("mean", 0), D("stddev", 0.05));
            case "constant": return new Constant(D("value", 0));
            case "orthogonal": return new Orthogonal(D("gain", 1.0));
            default:
                try { return Initializer.Get(snake); }
                catch (NeuriteException) { return Initializer.Get(defaultName); }
        }
    }
}
