using System.Text.Json.Nodes;
using Neurite.IO;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.IO;

/// <summary>
/// Keras 2 whole-model .h5 files written by Neurite load back with the same architecture, weights,
/// training setup and optimizer state, hard_sigmoid included; a Keras 2.0–2.2 config without
/// recurrent_activation means hard_sigmoid.
/// </summary>
public class LegacyH5Tests
{
    private static Sequential SaveAndLoad(Sequential model, TempDir dir, string name = "model.h5")
    {
        string path = dir.File(name);
        model.Save(path);
        return Sequential.Load(path);
    }

    [Theory]
    [MemberData(nameof(RoundTripTests.Cases), MemberType = typeof(RoundTripTests))]
    public void H5_round_trip_keeps_config_predictions_and_optimizer_state(RoundTripTests.Case c)
    {
        using var dir = new TempDir();
        var original = RoundTripTests.Trained(c);

        var loaded = SaveAndLoad(original, dir);

        Assert.Empty(loaded.LoadWarnings);
        Assert.Equal(original.Name, loaded.Name);
        for (int i = 0; i < original.Layers.Count; i++)
            Assert.Equal(RoundTripTests.ConfigText(original.Layers[i]), RoundTripTests.ConfigText(loaded.Layers[i]));
        var (x, _) = RoundTripTests.Data(c);
        Assert.Equal(original.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        Assert.Equal(original.Loss!.Name, loaded.Loss!.Name);
        Assert.Equal(original.Optimizer!.GetConfig(), loaded.Optimizer!.GetConfig());
        Assert.Equal(original.Optimizer.Iterations, loaded.Optimizer.Iterations);
        Assert.True(original.Optimizer.Iterations > 0);
        Assert.Equal(original.MetricNames, loaded.MetricNames);
        for (int i = 0; i < original.TrainableParameters.Count; i++)
        {
            var a = original.Optimizer.GetSlots(original.TrainableParameters[i]);
            var b = loaded.Optimizer.GetSlots(loaded.TrainableParameters[i]);
            for (int s = 0; s < a.Count; s++)
                if (RoundTripTests.SlotIsSaved(original.Optimizer, s)) Assert.Equal(a[s], b[s]);
        }
    }

    [Theory]
    [MemberData(nameof(RoundTripTests.Cases), MemberType = typeof(RoundTripTests))]
    public void Training_continues_identically_after_an_h5_round_trip(RoundTripTests.Case c)
    {
        using var dir = new TempDir();
        var original = RoundTripTests.Trained(c);
        var loaded = SaveAndLoad(original, dir);
        var reference = c.HasRandomDropout ? Sequential.Load(dir.File("model.h5")) : original;
        var (x, y) = RoundTripTests.Data(c);
        reference.Output = loaded.Output = TextWriter.Null;

        reference.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0);
        loaded.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0);

        var expected = reference.GetWeights();
        var actual = loaded.GetWeights();
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].ToArray(), actual[i].ToArray());
    }

    private static Sequential HardSigmoidModel() => new(
    [
        new Lstm(5, recurrentActivation: "hard_sigmoid", returnSequences: true, inputShape: [4, 3]),
        new Gru(4, activation: "hard_sigmoid", recurrentActivation: "hard_sigmoid", resetAfter: false),
        new Dense(2, "hard_sigmoid"),
    ], "keras2") { Output = TextWriter.Null };

    [Fact]
    public void A_hard_sigmoid_model_round_trips_whole_through_h5_and_keeps_training_identically()
    {
        using var dir = new TempDir();
        var model = HardSigmoidModel();
        model.Compile("mse", new RmsProp(0.01, momentum: 0.5));
        var x = RoundTripTests.RandomTensor(1, 8, 4, 3);
        var y = RoundTripTests.RandomTensor(2, 8, 2);
        model.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0);

        var loaded = SaveAndLoad(model, dir);

        Assert.Equal("hard_sigmoid", ((Lstm)loaded.Layers[0]).RecurrentActivation);
        Assert.Equal("hard_sigmoid", ((Gru)loaded.Layers[1]).Activation);
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        loaded.Output = TextWriter.Null;
        model.Fit(x, y, epochs: 1, batchSize: 4, shuffle: false, verbose: 0);
        loaded.Fit(x, y, epochs: 1, batchSize: 4, shuffle: false, verbose: 0);
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
    }

    [Fact]
    public void ModelCheckpoint_writes_keras_2_h5_files_that_resume_training()
    {
        using var dir = new TempDir();
        var model = HardSigmoidModel();
        model.Compile("mse", new Adam(0.01));
        var x = RoundTripTests.RandomTensor(4, 8, 4, 3);
        var y = RoundTripTests.RandomTensor(5, 8, 2);
        var checkpoint = new Neurite.Callbacks.ModelCheckpoint(dir.File("ck-{epoch}.h5"), monitor: "loss");

        model.Fit(x, y, epochs: 2, batchSize: 4, shuffle: false, verbose: 0, callbacks: [checkpoint]);
        var resumed = Sequential.Load(dir.File("ck-2.h5"));

        Assert.Equal(model.Optimizer!.Iterations, resumed.Optimizer!.Iterations);
        Assert.Equal(model.Predict(x).ToArray(), resumed.Predict(x).ToArray());
    }

    [Fact]
    public void An_uncompiled_model_saves_without_training_config_and_loads_uncompiled()
    {
        using var dir = new TempDir();
        var model = HardSigmoidModel();
        var loaded = SaveAndLoad(model, dir);
        Assert.Null(loaded.Optimizer);
        Assert.Empty(loaded.LoadWarnings);
        var x = RoundTripTests.RandomTensor(3, 2, 4, 3);
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
    }

    /// <summary>Writes <paramref name="model"/> as a Keras 2 .h5 with its model_config edited and another keras_version.</summary>
    private static string WriteEdited(Sequential model, TempDir dir, string kerasVersion, Action<JsonObject> editLayerConfig)
    {
        var file = LegacyH5Files.ToH5File(model, "edited.h5");
        var config = JsonNode.Parse((string)file.Attributes["model_config"])!.AsObject();
        foreach (var layer in config["config"]!["layers"]!.AsArray()) editLayerConfig(layer!["config"]!.AsObject());
        file.Attributes["model_config"] = config.ToJsonString();
        file.Attributes["keras_version"] = kerasVersion;
        string path = dir.File("edited.h5");
        file.Write(path);
        return path;
    }

    [Theory]
    [InlineData("2.1.4")]
    [InlineData("2.2.5")]
    [InlineData("1.2.2")]
    public void A_keras_2_0_to_2_2_file_without_recurrent_activation_means_hard_sigmoid(string version)
    {
        // The Keras 2.1.4 LSTM fixture, re-written without its explicit recurrent_activation: the independent
        // reference output (computed from the original file, which names hard_sigmoid) must still come out.
        var dir0 = Fixtures.KerasDir("keras2_lstm2_hardsigmoid_traffic");
        var original = Sequential.Load(Path.Combine(dir0, "lstm.h5"));
        using var dir = new TempDir();
        string path = WriteEdited(original, dir, version, c => c.Remove("recurrent_activation"));

        var model = Sequential.Load(path);

        Assert.All(model.Layers.OfType<Lstm>(), l => Assert.Equal("hard_sigmoid", l.RecurrentActivation));
        var (inShape, input) = Fixtures.ReadCsv(Path.Combine(dir0, "input.csv"));
        var (_, expected) = Fixtures.ReadCsv(Path.Combine(dir0, "expected_output.csv"));
        var actual = model.Predict(Tensor.FromArray(input, inShape)).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4, $"output {i}: reference {expected[i]}, Neurite {actual[i]}");
    }

    [Fact]
    public void A_keras_2_3_or_later_file_without_recurrent_activation_means_sigmoid()
    {
        using var dir = new TempDir();
        string path = WriteEdited(HardSigmoidModel(), dir, "2.3.1", c => c.Remove("recurrent_activation"));
        var model = Sequential.Load(path);
        Assert.Equal("sigmoid", ((Lstm)model.Layers[0]).RecurrentActivation);
        Assert.Equal("sigmoid", ((Gru)model.Layers[1]).RecurrentActivation);
    }

    [Fact]
    public void A_tf_keras_2_2_file_without_recurrent_activation_is_refused_since_its_default_is_unknown()
    {
        using var dir = new TempDir();
        string path = WriteEdited(HardSigmoidModel(), dir, "2.2.4-tf", c => c.Remove("recurrent_activation"));
        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));
        Assert.Contains("recurrent_activation", e.Message);
        Assert.Contains("TensorFlow", e.Message);
    }

    [Fact]
    public void A_config_declaring_more_weights_than_the_h5_file_holds_fails_before_building_the_layers()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Dense(8, inputShape: [4]), new Dense(2)]);
        string path = WriteEdited(model, dir, "2.15.0", c => { if (c["units"]?.GetValue<int>() == 8) c["units"] = 1_000_000; });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("holds only", e.Message);
        Assert.True(allocated < 4L << 20, $"loading allocated {allocated} bytes before refusing");
    }

    [Fact]
    public void A_keras_2_11_registered_optimizer_name_compiles_with_its_state()
    {
        using var dir = new TempDir();
        var model = HardSigmoidModel();
        model.Compile("mse", new Adam(0.01));
        var x = RoundTripTests.RandomTensor(6, 4, 4, 3);
        model.Fit(x, RoundTripTests.RandomTensor(7, 4, 2), epochs: 1, batchSize: 4, verbose: 0);
        var file = LegacyH5Files.ToH5File(model, "custom.h5");
        file.Attributes["training_config"] = ((string)file.Attributes["training_config"]).Replace("\"class_name\":\"Adam\"", "\"class_name\":\"Custom>Adam\"", StringComparison.Ordinal);
        Assert.Contains("Custom>Adam", (string)file.Attributes["training_config"]);
        file.Write(dir.File("custom.h5"));

        var loaded = Sequential.Load(dir.File("custom.h5"));

        Assert.IsType<Adam>(loaded.Optimizer);
        Assert.Equal(model.Optimizer!.Iterations, loaded.Optimizer!.Iterations);
        Assert.Empty(loaded.LoadWarnings);
    }

    [Fact]
    public void Old_keras_optimizer_state_and_unknown_metrics_are_reported_not_dropped_silently()
    {
        // Keras 2.1.4 kept RMSprop's accumulators without an iteration count, compiled with metric "mape".
        var model = Sequential.Load(Path.Combine(Fixtures.KerasDir("keras2_gru2_hardsigmoid_traffic"), "gru.h5"));

        Assert.IsType<RmsProp>(model.Optimizer);
        Assert.Equal(2, model.LoadWarnings.Count);
        Assert.Contains(model.LoadWarnings, w => w.Contains("'mape'", StringComparison.Ordinal));
        Assert.Contains(model.LoadWarnings, w => w.Contains("optimizer state was not restored", StringComparison.Ordinal) && w.Contains("2.1.4", StringComparison.Ordinal));
    }
}
