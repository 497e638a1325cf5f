using Neurite.IO;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.IO;

/// <summary>
/// Save then load gives the same architecture, bit-identical predictions and optimizer state,
/// and training continued from the loaded model matches training continued from the original.
/// </summary>
public class RoundTripTests
{
    internal static Tensor RandomTensor(int seed, params int[] shape)
    {
        var rng = new System.Random(seed);
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    internal static Tensor OneHot(int seed, int rows, int classes)
    {
        var rng = new System.Random(seed);
        var t = Tensor.Zeros(rows, classes);
        for (int r = 0; r < rows; r++) t.Span[r * classes + rng.Next(classes)] = 1f;
        return t;
    }

    public sealed record Case(string Name, Func<Optimizer> Optimizer, Func<Sequential> Build, int[] InputShape, int Outputs, string Loss, bool HasRandomDropout = false)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases => new()
    {
        new Case("dense_adam_softmax", () => new Adam(learningRate: 0.01), () => Model(
            new Dense(8, "relu", inputShape: [5]), new Dense(3, "softmax")), [5], 3, "categorical_crossentropy"),
        new Case("dense_nobias_activation_sgd_nesterov", () => new Sgd(0.05, momentum: 0.9, nesterov: true), () => Model(
            new Dense(6, useBias: false, kernelInitializer: "he_normal", inputShape: [5]), new Activation("tanh"), new Dense(2, "linear")), [5], 2, "mse"),
        new Case("dense_dropout_rmsprop_centered", () => new RmsProp(0.01, momentum: 0.5, centered: true), () => Model(
            new Dense(8, "elu", inputShape: [5]), new Dropout(0.3), new Dense(1, "sigmoid")), [5], 1, "binary_crossentropy", HasRandomDropout: true),
        new Case("dense_adagrad_clip", () => new Adagrad(0.05, clipNorm: 1.0), () => Model(
            new Dense(4, "swish", inputShape: [5]), new Dense(2, "softplus")), [5], 2, "mae"),
        new Case("lstm_stack_adam_amsgrad", () => new Adam(0.01, amsgrad: true), () => Model(
            new Lstm(6, returnSequences: true, inputShape: [4, 3]), new Lstm(5, unitForgetBias: false), new Dense(1)), [4, 3], 1, "mse"),
        new Case("gru_reset_after_and_before_sgd", () => new Sgd(0.05), () => Model(
            new Gru(5, returnSequences: true, inputShape: [4, 3]), new Gru(4, resetAfter: false, goBackwards: true), new Dense(2)), [4, 3], 2, "mse"),
        new Case("simple_rnn_relu_backwards_rmsprop", () => new RmsProp(0.005), () => Model(
            new SimpleRnn(5, activation: "relu", goBackwards: true, inputShape: [4, 3]), new Dense(1)), [4, 3], 1, "huber"),
        new Case("lstm_dropout_recurrent_dropout", () => new Adam(0.01), () => Model(
            new Lstm(5, dropout: 0.2, recurrentDropout: 0.2, inputShape: [4, 3]), new Dense(1)), [4, 3], 1, "mse", HasRandomDropout: true),
    };

    private static Sequential Model(params Layer[] layers) => new(layers, "round_trip") { Output = TextWriter.Null };

    internal static (Tensor X, Tensor Y) Data(Case c, int rows = 16)
    {
        var x = RandomTensor(1, [rows, .. c.InputShape]);
        var y = c.Loss switch
        {
            "categorical_crossentropy" => OneHot(2, rows, c.Outputs),
            "binary_crossentropy" => Binarise(RandomTensor(2, rows, c.Outputs)),
            _ => RandomTensor(2, rows, c.Outputs),
        };
        return (x, y);
    }

    private static Tensor Binarise(Tensor t)
    {
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = s[i] > 0 ? 1 : 0;
        return t;
    }

    internal static Sequential Trained(Case c)
    {
        var model = c.Build();
        model.Compile(c.Loss, c.Optimizer(), c.Loss == "categorical_crossentropy" ? ["accuracy"] : null);
        var (x, y) = Data(c);
        model.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0);
        return model;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Keras_file_round_trip_keeps_config_predictions_and_optimizer_state(Case c)
    {
        using var dir = new TempDir();
        var original = Trained(c);
        string path = dir.File("model.keras");

        original.Save(path);
        var loaded = Sequential.Load(path);

        Assert.Equal(original.Name, loaded.Name);
        Assert.Equal(original.Layers.Select(l => l.ClassName), loaded.Layers.Select(l => l.ClassName));
        for (int i = 0; i < original.Layers.Count; i++)
            Assert.Equal(ConfigText(original.Layers[i]), ConfigText(loaded.Layers[i]));
        var (x, _) = Data(c);
        Assert.Equal(original.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        Assert.Equal(original.Loss!.Name, loaded.Loss!.Name);
        Assert.Equal(original.Optimizer!.GetConfig(), loaded.Optimizer!.GetConfig());
        Assert.Equal(original.Optimizer.Iterations, loaded.Optimizer.Iterations);
        Assert.Equal(original.MetricNames, loaded.MetricNames);
        var originalParams = original.TrainableParameters;
        var loadedParams = loaded.TrainableParameters;
        for (int i = 0; i < originalParams.Count; i++)
        {
            var a = original.Optimizer.GetSlots(originalParams[i]);
            var b = loaded.Optimizer.GetSlots(loadedParams[i]);
            for (int s = 0; s < a.Count; s++)
                if (SlotIsSaved(original.Optimizer, s)) Assert.Equal(a[s], b[s]);
        }
    }

    /// <summary>Slots Keras has no variable for (RMSprop's momentum at 0, non-centered average) stay zero, so they need not be saved.</summary>
    internal static bool SlotIsSaved(Optimizer o, int slot) => o switch
    {
        RmsProp r => slot == 0 || (slot == 1 && r.Momentum > 0) || (slot == 2 && r.Centered),
        _ => true,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_continues_identically_after_a_round_trip(Case c)
    {
        using var dir = new TempDir();
        var original = Trained(c);
        string path = dir.File("model.keras");
        original.Save(path);
        var (x, y) = Data(c);

        // Random dropout masks come from each layer's own generator, so a loaded model is compared with a second load.
        var reference = c.HasRandomDropout ? Sequential.Load(path) : original;
        var loaded = Sequential.Load(path);
        reference.Output = loaded.Output = TextWriter.Null;
        reference.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0);
        loaded.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0);

        var expected = reference.GetWeights();
        var actual = loaded.GetWeights();
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].ToArray(), actual[i].ToArray());
        Assert.Equal(reference.Optimizer!.Iterations, loaded.Optimizer!.Iterations);
    }

    internal static string ConfigText(Layer layer) =>
        string.Join(";", layer.GetConfig().OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={Show(kv.Value)}"));

    private static string Show(object? v) => v switch
    {
        null => "null",
        System.Collections.IEnumerable e and not string => "[" + string.Join(",", e.Cast<object?>().Select(Show)) + "]",
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    [Fact]
    public void Stateful_model_round_trip_keeps_the_fixed_batch_and_predictions()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Lstm(4, stateful: true, inputShape: [3, 2], batchSize: 2), new Dense(1)], "stateful") { Output = TextWriter.Null };
        model.Compile("mse", new Adam(0.01));
        var x = RandomTensor(3, 4, 3, 2);
        var y = RandomTensor(4, 4, 1);
        model.Fit(x, y, epochs: 1, shuffle: false, verbose: 0);
        string path = dir.File("stateful.keras");

        model.Save(path);
        var loaded = Sequential.Load(path);

        Assert.True(loaded.IsStateful);
        Assert.Equal(2, loaded.FixedBatchSize);
        model.ResetStates();
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
    }

    [Fact]
    public void Weights_file_round_trip_restores_weights_and_optimizer_state()
    {
        using var dir = new TempDir();
        var c = new Case("lstm_weights", () => new Adam(0.01, amsgrad: true),
            () => Model(new Lstm(6, returnSequences: true, inputShape: [4, 3]), new Lstm(5), new Dense(1)), [4, 3], 1, "mse");
        var original = Trained(c);
        string path = dir.File("m.weights.h5");
        original.SaveWeights(path);

        var fresh = c.Build();
        fresh.Compile(c.Loss, c.Optimizer());
        fresh.LoadWeights(path);

        var (x, _) = Data(c);
        Assert.Equal(original.Predict(x).ToArray(), fresh.Predict(x).ToArray());
        Assert.Equal(original.Optimizer!.Iterations, fresh.Optimizer!.Iterations);
    }

    [Fact]
    public void LoadWeights_from_another_architecture_fails_and_changes_nothing()
    {
        using var dir = new TempDir();
        var small = new Sequential([new Dense(3, inputShape: [5]), new Dense(1)]) { Output = TextWriter.Null };
        string path = dir.File("small.weights.h5");
        small.SaveWeights(path);
        var other = new Sequential([new Dense(4, inputShape: [5]), new Dense(1)]) { Output = TextWriter.Null };
        var before = other.GetWeights().Select(w => w.ToArray()).ToList();

        var e = Assert.Throws<ModelFileException>(() => other.LoadWeights(path));

        Assert.Contains("(5, 3)", e.Message);
        Assert.Contains("(5, 4)", e.Message);
        Assert.Equal(before, other.GetWeights().Select(w => w.ToArray()).ToList());
    }

    [Fact]
    public void A_hard_sigmoid_model_is_refused_by_the_keras_3_format_but_its_weights_save()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Lstm(3, recurrentActivation: "hard_sigmoid", inputShape: [2, 2]), new Dense(1)]) { Output = TextWriter.Null };

        var e = Assert.Throws<ModelFileException>(() => model.Save(dir.File("m.keras")));
        Assert.Contains("hard_sigmoid", e.Message);
        Assert.Contains(".h5", e.Message);
        Assert.False(File.Exists(dir.File("m.keras")));

        model.SaveWeights(dir.File("m.weights.h5"));
        var copy = new Sequential([new Lstm(3, recurrentActivation: "hard_sigmoid", inputShape: [2, 2]), new Dense(1)]);
        copy.LoadWeights(dir.File("m.weights.h5"));
        var x = RandomTensor(5, 3, 2, 2);
        Assert.Equal(model.Predict(x).ToArray(), copy.Predict(x).ToArray());
    }

    [Fact]
    public void Save_rejects_paths_that_are_neither_keras_archives_nor_h5_files()
    {
        var model = new Sequential([new Dense(1, inputShape: [2])]);
        var e = Assert.Throws<ModelFileException>(() => model.Save("m.hdf"));
        Assert.Contains(".keras", e.Message);
        Assert.Contains(".h5", e.Message);
        Assert.Contains("SaveWeights", Assert.Throws<ModelFileException>(() => model.Save("m.weights.h5")).Message);
        Assert.Contains(".weights.h5", Assert.Throws<ModelFileException>(() => model.SaveWeights("m.h5")).Message);
    }
}
