using System.Text.Json;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

/// <summary>
/// Training runs recorded from TensorFlow.js 4.22, an independent implementation of Keras's layers, losses and
/// training loop (tests/fixtures/tfjs/make_fixtures.mjs, committed beside the JSON): from the same initial
/// weights and data, with shuffle off, Neurite reproduces the per-epoch history (validation split included),
/// the final weights, the predictions (stateful state carried or reset) and the evaluated loss.
/// </summary>
public class TfjsFixtureTests
{
    // Both sides compute in float32 and sum in different orders; differences stay below 5e-7 here. A semantic slip
    // (Keras 3's hard_sigmoid, a momentum sign, the wrong validation rows, state reset between batches)
    // moves these values by 1e-3 or more.
    private const double Absolute = 2e-6, Relative = 2e-6;

    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        var path = Path.Combine(IO.Fixtures.RepoRoot, "tests", "fixtures", "tfjs", "tfjs_fixtures.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases").EnumerateArray().ToArray();
    });

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Value) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Neurite_reproduces_the_tfjs_training_run(string name)
    {
        var c = Cases.Value.Single(e => e.GetProperty("name").GetString() == name);
        var model = Build(c);
        int batchSize = c.GetProperty("batch_size").GetInt32();
        var x = Tensor.FromArray(Doubles(c.GetProperty("x")), Ints(c.GetProperty("x_shape")));
        var y = Tensor.FromArray(Doubles(c.GetProperty("y")), Ints(c.GetProperty("y_shape")));

        if (c.TryGetProperty("history", out var expectedHistory))
        {
            double validationSplit = c.TryGetProperty("validation_split", out var v) ? v.GetDouble() : 0;
            var history = model.Fit(x, y, epochs: c.GetProperty("epochs").GetInt32(), batchSize: batchSize,
                validationSplit: validationSplit, shuffle: false, verbose: 0);
            foreach (var metric in expectedHistory.EnumerateObject())
                AssertClose(Doubles(metric.Value), history[metric.Name].ToArray(), $"{name} history {metric.Name}");
        }

        var finalWeights = c.GetProperty("final_weights").EnumerateArray().Select(Doubles).ToArray();
        var weights = model.GetWeights();
        Assert.Equal(finalWeights.Length, weights.Count);
        for (int i = 0; i < weights.Count; i++)
            AssertClose(finalWeights[i], weights[i].ToArray().Select(f => (double)f).ToArray(), $"{name} final weight {i}");

        bool stateful = model.Layers.OfType<RecurrentLayer>().Any(l => l.Stateful);
        if (stateful) model.ResetStates();
        AssertClose(Doubles(c.GetProperty("predictions")), Predict(model, x, batchSize), $"{name} predictions");
        if (stateful)
        {
            // The second pass starts from the state the first one left; it must differ, and match TF.js.
            var carried = Predict(model, x, batchSize);
            AssertClose(Doubles(c.GetProperty("predictions_carried")), carried, $"{name} predictions with carried state");
            Assert.NotEqual(Doubles(c.GetProperty("predictions")), Doubles(c.GetProperty("predictions_carried")));
            model.ResetStates();
        }
        AssertClose([c.GetProperty("evaluate_loss").GetDouble()], [model.Evaluate(x, y, batchSize)["loss"]], $"{name} evaluate");
    }

    private static double[] Predict(Sequential model, Tensor x, int batchSize) =>
        model.Predict(x, batchSize).ToArray().Select(f => (double)f).ToArray();

    private static Sequential Build(JsonElement c)
    {
        var xShape = Ints(c.GetProperty("x_shape"));
        int[] inputShape = xShape[1..];
        int? batch = c.TryGetProperty("batch_input_shape", out var b) ? b[0].GetInt32() : null;
        var layers = new List<Layer>();
        foreach (var spec in c.GetProperty("layers").EnumerateArray())
        {
            bool first = layers.Count == 0;
            int[]? shape = first ? inputShape : null;
            int? batchSize = first ? batch : null;
            bool Flag(string key) => spec.TryGetProperty(key, out var f) && f.GetBoolean();
            layers.Add(spec.GetProperty("type").GetString() switch
            {
                "dense" => new Dense(spec.GetProperty("units").GetInt32(), spec.GetProperty("activation").GetString()!, inputShape: shape, batchSize: batchSize),
                "dropout" => new Dropout(spec.GetProperty("rate").GetDouble(), inputShape: shape, batchSize: batchSize),
                "simple_rnn" => new SimpleRnn(spec.GetProperty("units").GetInt32(), returnSequences: Flag("return_sequences"),
                    goBackwards: Flag("go_backwards"), stateful: Flag("stateful"), inputShape: shape, batchSize: batchSize),
                "gru" => new Gru(spec.GetProperty("units").GetInt32(), recurrentActivation: spec.GetProperty("recurrent_activation").GetString(),
                    returnSequences: Flag("return_sequences"), goBackwards: Flag("go_backwards"), resetAfter: false, inputShape: shape, batchSize: batchSize),
                "lstm" => new Lstm(spec.GetProperty("units").GetInt32(), recurrentActivation: spec.GetProperty("recurrent_activation").GetString(),
                    returnSequences: Flag("return_sequences"), stateful: Flag("stateful"), inputShape: shape, batchSize: batchSize),
                var other => throw new InvalidOperationException($"unknown layer type {other} in the fixture"),
            });
        }
        var model = new Sequential([.. layers]) { Output = TextWriter.Null };
        var o = c.GetProperty("optimizer");
        var sgd = new Sgd(o.GetProperty("learning_rate").GetDouble(),
            o.TryGetProperty("momentum", out var m) ? m.GetDouble() : 0,
            o.TryGetProperty("nesterov", out var n) && n.GetBoolean());
        model.Compile(c.GetProperty("loss").GetString()!, sgd);
        var initial = c.GetProperty("initial_weights").EnumerateArray()
            .Select(w => Tensor.FromArray(Doubles(w.GetProperty("values")), Ints(w.GetProperty("shape")))).ToList();
        model.SetWeights(initial);
        return model;
    }

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, TF.js has {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= Absolute + Relative * Math.Abs(expected[i]),
                $"{what} [{i}]: Neurite {actual[i]:G9}, TF.js {expected[i]:G9}");
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}
