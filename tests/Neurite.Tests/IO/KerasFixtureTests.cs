using Neurite.IO;
using Neurite.Layers;

namespace Neurite.Tests.IO;

/// <summary>
/// Real Keras files from public MIT-licensed repositories (provenance in each SOURCE.md) load, and
/// predict what an independent numpy implementation (tests/fixtures/keras/reference.py) computed.
/// </summary>
public class KerasFixtureTests
{
    public static TheoryData<string, string> Files => new()
    {
        { "keras3_mlp_dense4_flownet", "model.keras" },
        { "keras3_lstm2_stock", "lstm_model.keras" },
        { "keras2_lstm2_hardsigmoid_traffic", "lstm.h5" },
        { "keras2_gru2_hardsigmoid_traffic", "gru.h5" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Fixture_loads_and_matches_reference_output(string fixture, string file)
    {
        var dir = Fixtures.KerasDir(fixture);
        var model = Sequential.Load(Path.Combine(dir, file));
        var (inShape, input) = Fixtures.ReadCsv(Path.Combine(dir, "input.csv"));
        var (outShape, expected) = Fixtures.ReadCsv(Path.Combine(dir, "expected_output.csv"));

        var y = model.Predict(Tensor.FromArray(input, inShape));

        Assert.Equal(outShape, y.Shape);
        var actual = y.ToArray();
        // Relative: outputs run from 0.005 to 3.6, and an absolute 1e-4 would let the smallest move by 2 %. Float32
        // against the float64 reference differs by at most 1.4e-6 relative here; the mistakes README.md lists
        // (Keras 3's hard_sigmoid, swapped gates, the other GRU variant) move outputs by 0.03 or more.
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Abs(expected[i]) + 1e-7,
                $"{fixture} output {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>
    /// Files written by Neurite's Save (tests/fixtures/neurite-written/make_models.cs) and read back by the
    /// independent Keras-format reader reference.py, which follows Keras's layout and knows nothing of
    /// Neurite: its outputs prove the files say what Keras would read from them. The Keras 2 .h5 one
    /// (hard_sigmoid throughout) was also checked by check_legacy_h5.py against Keras 2.11+'s layout.
    /// </summary>
    [Theory]
    [InlineData("neurite_mlp", "model.keras")]
    [InlineData("neurite_lstm_gru", "model.keras")]
    [InlineData("neurite_hardsigmoid_h5", "model.h5")]
    public void Neurite_written_file_is_read_the_same_by_an_independent_keras_reader(string fixture, string file)
    {
        var dir = Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "neurite-written", fixture);
        var model = Sequential.Load(Path.Combine(dir, file));
        var (inShape, input) = Fixtures.ReadCsv(Path.Combine(dir, "input.csv"));
        var (outShape, expected) = Fixtures.ReadCsv(Path.Combine(dir, "expected_output.csv"));
        var actual = model.Predict(Tensor.FromArray(input, inShape)).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"{fixture} output {i}: reference.py {expected[i]}, Neurite {actual[i]}");
    }

    [Fact]
    public void Mlp_fixture_restores_its_architecture_and_adam_state()
    {
        var model = Models.Load(Path.Combine(Fixtures.KerasDir("keras3_mlp_dense4_flownet"), "model.keras"));

        // SOURCE.md: Dense(64, relu) Dense(128, relu) Dense(64, relu) Dense(2, linear) on 4 inputs, compiled with Adam and mse.
        Assert.Equal(["dense", "dense_1", "dense_2", "dense_3"], model.Layers.Select(l => l.Name));
        Assert.Equal([64, 128, 64, 2], model.Layers.Cast<Dense>().Select(d => d.Units));
        Assert.Equal(["relu", "relu", "relu", "linear"], model.Layers.Cast<Dense>().Select(d => d.Activation.Name));
        Assert.Equal([4], model.Layers[0].InputShape);
        Assert.IsType<Neurite.Optimizers.Adam>(model.Optimizer);
        Assert.IsType<Neurite.Losses.MeanSquaredError>(model.Loss);
        Assert.True(model.Optimizer!.Iterations > 0);
        Assert.Equal(0.001, model.Optimizer.LearningRate, 6);
        var adam = (Neurite.Optimizers.Adam)model.Optimizer;
        Assert.Equal((0.9, 0.999), (adam.Beta1, adam.Beta2)); // the bound below takes these
        foreach (var layer in model.Layers)
            foreach (var parameter in layer.Parameters)
                AssertAdamMoments(model.Optimizer.GetSlots(parameter), $"{layer.Name}/{parameter.Name}");
    }

    /// <summary>
    /// Tells Adam's first moment from its second without knowing the file's order: m is signed, v = (1−β2)Σβ2ʲg² is
    /// not, and by Cauchy–Schwarz m² ≤ (1−β1)²/(1−β2) · 1/(1 − β1²/β2) · v = 52.86·v for Keras's β1 = 0.9, β2 = 0.999,
    /// which also fails when m and v come from different weights.
    /// </summary>
    private static void AssertAdamMoments(IReadOnlyList<float[]> slots, string weight)
    {
        var (m, v) = (slots[0], slots[1]);
        Assert.Contains(m, x => x < 0);
        Assert.Contains(m, x => x > 0);
        Assert.DoesNotContain(v, x => x < 0);
        Assert.Contains(v, x => x > 0);
        const double bound = 0.01 / 0.001 / (1 - 0.81 / 0.999);
        for (int i = 0; i < m.Length; i++)
            Assert.True((double)m[i] * m[i] <= bound * v[i] * (1 + 1e-5) + 1e-30, $"{weight} [{i}]: m = {m[i]}, v = {v[i]} break m² ≤ {bound:F2}·v");
    }
}
