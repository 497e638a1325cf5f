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
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4, $"{fixture} output {i}: expected {expected[i]}, got {actual[i]}");
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
        var m = model.Optimizer.GetSlots(model.Layers[0].Parameters[0]);
        Assert.Contains(m[1], v => v > 0); // Adam's second moment of a trained kernel is positive somewhere
    }
}
