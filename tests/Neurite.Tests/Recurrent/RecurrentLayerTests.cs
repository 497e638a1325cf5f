using System.Text.Json;
using Neurite.Layers;
using static Neurite.Tests.Recurrent.GradientCheck;

namespace Neurite.Tests.Recurrent;

public class RecurrentLayerTests
{
    [Fact]
    public void LstmHasKerasWeightsShapesAndUnitForgetBias()
    {
        var lstm = new Lstm(100, returnSequences: true, inputShape: [10, 2]);
        lstm.Build([10, 2]);
        Assert.Equal(["kernel", "recurrent_kernel", "bias"], lstm.Parameters.Select(p => p.Name));
        Assert.Equal([2, 400], lstm.Parameters[0].Shape);
        Assert.Equal([100, 400], lstm.Parameters[1].Shape);
        Assert.Equal([400], lstm.Parameters[2].Shape);
        // Keras: 4·(F·U + U·U + U) = 4·(200 + 10000 + 100)
        Assert.Equal(41200, lstm.CountParams());
        Assert.Equal([10, 100], lstm.OutputShape);
        var bias = lstm.Parameters[2].Value.Span;
        for (int i = 0; i < 400; i++) Assert.Equal(i >= 100 && i < 200 ? 1f : 0f, bias[i]);
        Assert.Equal("LSTM", lstm.ClassName);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn")]
    public void EachTrainingForwardServesOneBackward(string kind)
    {
        Layer layer = kind switch
        {
            "lstm" => new Lstm(4, returnSequences: true, inputShape: [3, 2], name: "seq"),
            "gru" => new Gru(4, returnSequences: true, inputShape: [3, 2], name: "seq"),
            _ => new SimpleRnn(4, returnSequences: true, inputShape: [3, 2], name: "seq"),
        };
        layer.Build([3, 2]);
        var x = Tensor.Full(0.5f, 2, 3, 2);
        var upstream = Tensor.Full(1f, 2, 3, 4);
        layer.Forward(x, training: true);
        var first = layer.Backward(upstream).ToArray();
        var error = Assert.Throws<InvalidOperationException>(() => layer.Backward(upstream));
        Assert.Contains("'seq'", error.Message);
        Assert.Contains("Run Forward on the batch again", error.Message);
        // A new Forward allows a new Backward, with the same gradient for the same batch.
        layer.Forward(x, training: true);
        Assert.Equal(first, layer.Backward(upstream).ToArray());
    }

    [Theory]
    [InlineData(true, new[] { 2, 12 })]
    [InlineData(false, new[] { 12 })]
    public void GruBiasShapeFollowsResetAfter(bool resetAfter, int[] biasShape)
    {
        var gru = new Gru(4, resetAfter: resetAfter);
        gru.Build([3, 5]);
        Assert.Equal(biasShape, gru.Parameters[2].Shape);
        Assert.Equal([5, 12], gru.Parameters[0].Shape);
        Assert.Equal([4], gru.OutputShape);
    }

    [Fact]
    public void SimpleRnnHasKerasWeightShapes()
    {
        var rnn = new SimpleRnn(7, returnSequences: true);
        rnn.Build([4, 3]);
        Assert.Equal([3, 7], rnn.Parameters[0].Shape);
        Assert.Equal([7, 7], rnn.Parameters[1].Shape);
        Assert.Equal([7], rnn.Parameters[2].Shape);
        Assert.Equal([4, 7], rnn.OutputShape);
    }

    [Fact]
    public void LstmLayerMatchesTorchFixtureThroughSetWeights()
    {
        var path = FixturePath();
        var c = JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == "lstm_last_backwards");
        float[] F(string key) => c.GetProperty(key).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        var lstm = new Lstm(6, goBackwards: true, inputShape: [5, 4]);
        lstm.Build([5, 4]);
        lstm.SetWeights([new Tensor(F("kernel"), 4, 24), new Tensor(F("recurrent_kernel"), 6, 24), new Tensor(F("bias"), 24)]);
        var output = lstm.Forward(new Tensor(F("x"), 3, 5, 4), training: true);
        AssertWithin(F("output"), output.Span, "output");
        var dx = lstm.Backward(new Tensor(F("R"), 3, 6));
        AssertWithin(F("grad_x"), dx.Span, "dx");
        AssertWithin(F("grad_kernel"), lstm.Parameters[0].Gradient.Span, "dKernel");
        AssertWithin(F("grad_recurrent_kernel"), lstm.Parameters[1].Gradient.Span, "dRecurrentKernel");
        AssertWithin(F("grad_bias"), lstm.Parameters[2].Gradient.Span, "dBias");
        // Backward overwrites gradients rather than adding to them.
        lstm.Forward(new Tensor(F("x"), 3, 5, 4), training: true);
        lstm.Backward(new Tensor(F("R"), 3, 6));
        AssertWithin(F("grad_kernel"), lstm.Parameters[0].Gradient.Span, "dKernel after a second step");
    }

    [Fact]
    public void StatefulBatchesContinueTheSequenceUntilResetStates()
    {
        // Two stateful calls on halves of a sequence must equal one call on the whole sequence.
        var rng = new System.Random(1);
        int b = 2, f = 3, u = 4;
        var whole = ToFloat(RandomDoubles(rng, b * 8 * f, 1.0));
        var first = new float[b * 4 * f];
        var second = new float[b * 4 * f];
        for (int i = 0; i < b; i++)
        {
            Array.Copy(whole, i * 8 * f, first, i * 4 * f, 4 * f);
            Array.Copy(whole, i * 8 * f + 4 * f, second, i * 4 * f, 4 * f);
        }
        var longLayer = new Lstm(u, inputShape: [8, f]);
        longLayer.Build([8, f]);
        var stateful = new Lstm(u, stateful: true, inputShape: [4, f], batchSize: b);
        stateful.Build([4, f]);
        stateful.SetWeights(longLayer.GetWeights());

        var expected = longLayer.Forward(new Tensor(whole, b, 8, f), training: false).Span.ToArray();
        var firstOut = stateful.Forward(new Tensor(first, b, 4, f), training: false).Span.ToArray();
        var actual = stateful.Forward(new Tensor(second, b, 4, f), training: false).Span.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 6);
        Assert.Equal(actual, stateful.GetStates()[0].Span.ToArray());

        stateful.ResetStates();
        Assert.All(stateful.GetStates()[1].Span.ToArray(), v => Assert.Equal(0f, v));
        var afterReset = stateful.Forward(new Tensor(first, b, 4, f), training: false).Span.ToArray();
        Assert.Equal(firstOut, afterReset);
    }

    [Fact]
    public void StatefulGradientStopsAtTheBatchBoundary()
    {
        // The second batch's weight gradients are those of a sequence that starts from the carried
        // state taken as a constant: finite differences of the double reference with h0, c0 fixed.
        var rng = new System.Random(4);
        int b = 2, t = 3, f = 2, u = 3;
        var layer = new Gru(u, stateful: true, returnSequences: true, inputShape: [t, f], batchSize: b);
        layer.Build([t, f]);
        var x1 = RoundToFloat(RandomDoubles(rng, b * t * f, 1.0));
        var x2 = RoundToFloat(RandomDoubles(rng, b * t * f, 1.0));
        var upstream = RandomDoubles(rng, b * t * u, 1.0);
        layer.Forward(new Tensor(ToFloat(x1), b, t, f), training: true);
        var carried = layer.GetStates()[0].Span.ToArray().Select(v => (double)v).ToArray();
        layer.Forward(new Tensor(ToFloat(x2), b, t, f), training: true);
        layer.Backward(new Tensor(ToFloat(upstream), b, t, u));

        var w = layer.GetWeights().Select(p => p.Span.ToArray().Select(v => (double)v).ToArray()).ToArray();
        double Loss() => WeightedSum(RecurrentReference.Gru(b, t, f, u, x2, carried, w[0], w[1], w[2], "tanh", "sigmoid", true,
            true, false).Output, upstream);
        AssertClose(layer.Parameters[0].Gradient.Span, Numeric(w[0], Loss), "dKernel");
        AssertClose(layer.Parameters[1].Gradient.Span, Numeric(w[1], Loss), "dRecurrentKernel");
        AssertClose(layer.Parameters[2].Gradient.Span, Numeric(w[2], Loss), "dBias");
    }

    [Fact]
    public void StatefulLayerRefusesAnotherBatchSize()
    {
        var layer = new SimpleRnn(3, stateful: true, inputShape: [2, 1], batchSize: 4);
        layer.Build([2, 1]);
        var ex = Assert.Throws<NeuriteException>(() => layer.Forward(Tensor.Zeros(3, 2, 1), training: false));
        Assert.Contains("batch size 4", ex.Message);
        Assert.Contains("3 samples", ex.Message);
    }

    [Fact]
    public void DropoutOnlyActsInTraining()
    {
        var layer = new Lstm(5, dropout: 0.5, recurrentDropout: 0.5, inputShape: [4, 3]);
        layer.Build([4, 3]);
        var x = new Tensor(ToFloat(RandomDoubles(new System.Random(2), 2 * 4 * 3, 1.0)), 2, 4, 3);
        var inference1 = layer.Forward(x, training: false).Span.ToArray();
        var inference2 = layer.Forward(x, training: false).Span.ToArray();
        Assert.Equal(inference1, inference2);
        var training = layer.Forward(x, training: true).Span.ToArray();
        Assert.NotEqual(inference1, training);
    }

    [Fact]
    public void BadConfigurationIsRefusedWithTheValue()
    {
        Assert.Contains("units=0", Assert.Throws<NeuriteException>(() => new Lstm(0)).Message);
        Assert.Contains("dropout=1", Assert.Throws<NeuriteException>(() => new Gru(3, dropout: 1)).Message);
        Assert.Contains("softsign", Assert.Throws<ArgumentException>(() => new SimpleRnn(3, activation: "softsign")).Message);
        var ex = Assert.Throws<NeuriteException>(() => new Lstm(3).GetStates());
        Assert.Contains("not stateful", ex.Message);
    }

    private static string FixturePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Neurite.sln")))
                return Path.Combine(dir.FullName, "tests", "fixtures", "recurrent", "recurrent_fixtures.json");
        throw new FileNotFoundException("Could not find the folder holding Neurite.sln above " + AppContext.BaseDirectory);
    }

    private static void AssertWithin(float[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"{what}[{i}]: got {actual[i]:G9}, expected {expected[i]:G9}.");
    }
}
