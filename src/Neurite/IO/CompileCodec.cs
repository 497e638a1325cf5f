using System.Text.Json.Nodes;
using Neurite.Layers;
using Neurite.Losses;
using Neurite.Optimizers;

namespace Neurite.IO;

/// <summary>
/// The training setup in Keras files: <c>compile_config</c> (Keras 3), <c>training_config</c>
/// (Keras 2), and the order of optimizer variables in <c>optimizer/vars</c>.
/// </summary>
internal static class CompileCodec
{
    public sealed record Compiled(Loss Loss, Optimizer Optimizer, string[] Metrics);

    public static JsonObject ToKeras3(Loss loss, Optimizer optimizer, IReadOnlyList<string> metrics)
    {
        JsonNode lossNode = loss is Huber h && h.Delta != 1.0
            ? new JsonObject
            {
                ["module"] = "keras.losses", ["class_name"] = "Huber",
                ["config"] = new JsonObject { ["name"] = "huber_loss", ["reduction"] = "sum_over_batch_size", ["delta"] = h.Delta },
                ["registered_name"] = null,
            }
            : JsonValue.Create(loss.Name);
        var metricArray = new JsonArray();
        foreach (var m in metrics) metricArray.Add(JsonValue.Create(m));
        return new JsonObject
        {
            ["optimizer"] = OptimizerToKeras3(optimizer),
            ["loss"] = lossNode,
            ["loss_weights"] = null,
            ["metrics"] = metrics.Count == 0 ? null : metricArray,
            ["weighted_metrics"] = null,
            ["run_eagerly"] = false,
            ["steps_per_execution"] = 1,
            ["jit_compile"] = false,
        };
    }

    /// <summary>Keras 3's default optimizer names, which are also the name attribute of <c>optimizer/vars</c>.</summary>
    public static string KerasName(Optimizer optimizer) => optimizer switch
    {
        Adam => "adam",
        Sgd => "SGD",
        RmsProp => "rmsprop",
        Adagrad => "adagrad",
        _ => optimizer.Name.ToLowerInvariant(),
    };

    private static JsonObject OptimizerToKeras3(Optimizer o)
    {
        var c = new JsonObject
        {
            ["name"] = KerasName(o),
            ["learning_rate"] = o.LearningRate,
            ["weight_decay"] = null,
            ["clipnorm"] = o.ClipNorm,
            ["global_clipnorm"] = o.GlobalClipNorm,
            ["clipvalue"] = o.ClipValue,
            ["use_ema"] = false,
            ["ema_momentum"] = 0.99,
            ["ema_overwrite_frequency"] = null,
            ["loss_scale_factor"] = null,
            ["gradient_accumulation_steps"] = null,
        };
        string className;
        switch (o)
        {
            case Adam a:
                className = "Adam";
                c["beta_1"] = a.Beta1; c["beta_2"] = a.Beta2; c["epsilon"] = a.Epsilon; c["amsgrad"] = a.Amsgrad;
                break;
            case Sgd s:
                className = "SGD";
                c["momentum"] = s.Momentum; c["nesterov"] = s.Nesterov;
                break;
            case RmsProp r:
                className = "RMSprop";
                c["rho"] = r.Rho; c["momentum"] = r.Momentum; c["epsilon"] = r.Epsilon; c["centered"] = r.Centered;
                break;
            case Adagrad g:
                className = "Adagrad";
                c["initial_accumulator_value"] = g.InitialAccumulatorValue; c["epsilon"] = g.Epsilon;
                break;
            default:
                throw new NeuriteException($"The optimizer {o.Name} cannot be written to a Keras file; use Adam, SGD, RMSprop or Adagrad.");
        }
        return new JsonObject { ["module"] = "keras.optimizers", ["class_name"] = className, ["config"] = c, ["registered_name"] = null };
    }

    /// <summary>
    /// The loss, optimizer and metrics of a Keras 3 <c>compile_config</c>, or null when it uses
    /// something Neurite lacks (an unknown optimizer or loss, weight decay, EMA): the model then loads
    /// uncompiled, for prediction, as Keras does when compiling from a file fails. Whatever is left
    /// out (that, or a metric Neurite does not compute) is said in <paramref name="warnings"/>.
    /// </summary>
    public static Compiled? FromKeras3(KerasJson json, JsonObject? compileConfig, List<string> warnings) =>
        compileConfig is null ? null
            : From(json, compileConfig["loss"], compileConfig["optimizer"] as JsonObject, compileConfig["metrics"], "compile_config", "optimizer", keras2: false, warnings);

    /// <summary>The same from a Keras 2 <c>training_config</c> (<c>optimizer_config</c>, <c>lr</c>, <c>decay</c>).</summary>
    public static Compiled? FromKeras2(KerasJson json, JsonObject? trainingConfig, List<string> warnings) =>
        trainingConfig is null ? null
            : From(json, trainingConfig["loss"], trainingConfig["optimizer_config"] as JsonObject, trainingConfig["metrics"], "training_config", "optimizer_config", keras2: true, warnings);

    private static Compiled? From(KerasJson json, JsonNode? lossNode, JsonObject? opt, JsonNode? metricsNode, string where, string optimizerKey, bool keras2, List<string> warnings)
    {
        const string Uncompiled = "the model loaded uncompiled: it predicts, and needs Compile before Fit or Evaluate.";
        var loss = LossFrom(lossNode);
        if (loss is null)
        {
            warnings.Add($"{where}.loss {KerasJson.Show(lossNode)} is not a loss Neurite has, so {Uncompiled}");
            return null;
        }
        string? className = opt?["class_name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        // Keras 2.11-2.15 register their optimizers as "Custom>Adam" and so on.
        if (keras2 && className is not null && className.StartsWith("Custom>", StringComparison.Ordinal)) className = className["Custom>".Length..];
        if (opt?["config"] is not JsonObject config || className is null)
        {
            warnings.Add($"{where}.{optimizerKey} {KerasJson.Show(opt)} names no optimizer class and config, so {Uncompiled}");
            return null;
        }
        string configWhere = $"{where}.{optimizerKey}.config";
        if (Unsupported(json, className, config, configWhere, keras2) is string reason)
        {
            warnings.Add($"{reason}, so {Uncompiled}");
            return null;
        }
        var optimizer = OptimizerFrom(json, className, config, configWhere)!;
        var (metrics, unknown) = MetricsFrom(metricsNode);
        foreach (var m in unknown)
            warnings.Add($"{where}.metrics names '{m}', a metric Neurite does not compute; the model is compiled without it.");
        return new Compiled(loss, optimizer, metrics);
    }

    private static Loss? LossFrom(JsonNode? node)
    {
        string? name = node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject o when o["class_name"] is JsonValue cn && cn.TryGetValue<string>(out var c) => Layer.ToSnakeCase(c),
            _ => null,
        };
        if (name is null) return null;
        try
        {
            if (name == "huber" && node is JsonObject ho && ho["config"] is JsonObject hc && hc["delta"] is JsonValue dv && dv.TryGetValue<double>(out var delta))
                return new Huber(delta);
            return Loss.Get(name);
        }
        catch (NeuriteException) { return null; }
    }

    private static (string[] Known, string[] Unknown) MetricsFrom(JsonNode? node)
    {
        var names = new List<string>();
        void Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonValue v when v.TryGetValue<string>(out var s): names.Add(s); break;
                case JsonArray a: foreach (var item in a) Walk(item); break;
                case JsonObject o when o["config"] is JsonObject c && c["name"] is JsonValue nv && nv.TryGetValue<string>(out var mn): names.Add(mn); break;
            }
        }
        Walk(node);
        var distinct = names.Distinct().ToArray();
        return (distinct.Where(IsKnownMetric).ToArray(), distinct.Where(n => !IsKnownMetric(n)).ToArray());
    }

    private static bool IsKnownMetric(string name)
    {
        try
        {
            _ = Metrics.Metric.Get(name, new MeanSquaredError(), 2);
            return true;
        }
        catch (NeuriteException) { return false; }
    }

    private static readonly string[] OptimizerClasses = ["Adam", "SGD", "RMSprop", "Adagrad"];

    /// <summary>Why Neurite cannot build this optimizer as configured, or null when it can.</summary>
    private static string? Unsupported(KerasJson json, string className, JsonObject c, string where, bool keras2)
    {
        if (!OptimizerClasses.Contains(className))
            return $"the optimizer {className} is not one Neurite has ({string.Join(", ", OptimizerClasses)})";
        if (c["weight_decay"] is JsonValue wd && wd.TryGetValue<double>(out var w) && w != 0)
            return $"{where}.weight_decay is {w}; Neurite's optimizers have no weight decay";
        if (json.Bool(c, "use_ema", where, false))
            return $"{where}.use_ema is true; Neurite's optimizers keep no moving average of the weights";
        if (keras2 && json.Double(c, "decay", where, 0) is var decay && decay != 0)
            return $"{where}.decay is {decay}; Neurite has no Keras 2 learning-rate decay";
        return null;
    }

    private static Optimizer? OptimizerFrom(KerasJson json, string className, JsonObject c, string where)
    {
        double D(string key, double d) => json.Double(c, key, where, d);
        double lr = c["learning_rate"] is not null ? D("learning_rate", 0.001) : D("lr", className == "SGD" ? 0.01 : 0.001);
        double? clipNorm = json.OptionalDouble(c, "clipnorm", where);
        double? clipValue = json.OptionalDouble(c, "clipvalue", where);
        double? globalClipNorm = json.OptionalDouble(c, "global_clipnorm", where);
        try
        {
            return className switch
            {
                "Adam" => new Adam(lr, D("beta_1", 0.9), D("beta_2", 0.999), D("epsilon", 1e-7), json.Bool(c, "amsgrad", where, false), clipNorm, clipValue, globalClipNorm),
                "SGD" => new Sgd(lr, D("momentum", 0), json.Bool(c, "nesterov", where, false), clipNorm, clipValue, globalClipNorm),
                "RMSprop" => new RmsProp(lr, D("rho", 0.9), D("momentum", 0), D("epsilon", 1e-7), json.Bool(c, "centered", where, false), clipNorm, clipValue, globalClipNorm),
                "Adagrad" => new Adagrad(lr, D("initial_accumulator_value", 0.1), D("epsilon", 1e-7), clipNorm, clipValue, globalClipNorm),
                _ => null,
            };
        }
        catch (NeuriteException e)
        {
            throw json.Error($"{where}: {e.Message}");
        }
    }

    /// <summary>
    /// The optimizer's slot variables in the order Keras 3 lists them after <c>iterations</c> and
    /// <c>learning_rate</c>: Adam interleaves m and v per weight (then AMSGrad's v̂ for all);
    /// RMSprop lists all velocities, then momentums, then average gradients.
    /// </summary>
    public static List<(Parameter Parameter, int Slot)> SlotOrder(Optimizer optimizer, IReadOnlyList<Parameter> trainable)
    {
        var order = new List<(Parameter, int)>();
        void Blocked(int slot) { foreach (var p in trainable) order.Add((p, slot)); }
        switch (optimizer)
        {
            case Adam a:
                foreach (var p in trainable) { order.Add((p, 0)); order.Add((p, 1)); }
                if (a.Amsgrad) Blocked(2);
                break;
            case Sgd s:
                if (s.Momentum > 0) Blocked(0);
                break;
            case RmsProp r:
                Blocked(0);
                if (r.Momentum > 0) Blocked(1);
                if (r.Centered) Blocked(2);
                break;
            case Adagrad:
                Blocked(0);
                break;
        }
        return order;
    }
}
