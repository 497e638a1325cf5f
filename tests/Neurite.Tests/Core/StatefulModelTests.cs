using Neurite.Layers;

namespace Neurite.Tests.Core;

public class StatefulModelTests
{
    private static Sequential TutorialModel(string prefix = "") => new(
    [
        new Lstm(100, returnSequences: true, stateful: true, inputShape: [10, 2], batchSize: 50, name: prefix + "lstm_1"),
        new Dropout(0.5, name: prefix + "dropout_1"),
        new Lstm(50, stateful: true, name: prefix + "lstm_2"),
        new Dropout(0.5, name: prefix + "dropout_2"),
        new Dense(1, name: prefix + "dense_5"),
    ], "sequential") { Output = TextWriter.Null };

    private static Tensor RandomTensor(int seed, params int[] shape)
    {
        var rng = new System.Random(seed);
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Size; i++) t.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    [Fact]
    public void Tutorial_lstm_model_summary_matches_keras()
    {
        var model = TutorialModel();
        Assert.Equal([41200L, 0, 30200, 0, 51], model.Layers.Select(l => l.CountParams()));
        string expected = string.Join("\n",
            "Model: \"sequential\"",
            "_________________________________________________________________",
            "Layer (type)                 Output Shape              Param #   ",
            "=================================================================",
            "lstm_1 (LSTM)                (50, 10, 100)             41200     ",
            "_________________________________________________________________",
            "dropout_1 (Dropout)          (50, 10, 100)             0         ",
            "_________________________________________________________________",
            "lstm_2 (LSTM)                (50, 50)                  30200     ",
            "_________________________________________________________________",
            "dropout_2 (Dropout)          (50, 50)                  0         ",
            "_________________________________________________________________",
            "dense_5 (Dense)              (50, 1)                   51        ",
            "=================================================================",
            "Total params: 71,451",
            "Trainable params: 71,451",
            "Non-trainable params: 0",
            "_________________________________________________________________",
            "");
        Assert.Equal(expected, model.SummaryText().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void State_carries_across_predict_calls_until_reset()
    {
        NeuriteRandom.SetSeed(8);
        var model = TutorialModel();
        model.Compile("mae", "adam");
        var x = RandomTensor(1, 100, 10, 2);
        var whole = model.Predict(x, batchSize: 50).ToArray();
        model.ResetStates();
        var first = model.Predict(x.Slice(0, 50)).ToArray();
        var second = model.Predict(x.Slice(50, 50)).ToArray();
        Assert.Equal(whole, first.Concat(second).ToArray());
        model.ResetStates();
        var fresh = model.Predict(x.Slice(50, 50)).ToArray();
        Assert.NotEqual(second, fresh);
    }

    [Fact]
    public void Stateful_training_loop_of_the_tutorial_runs_and_learns()
    {
        NeuriteRandom.SetSeed(17);
        var model = new Sequential(
            new Lstm(16, returnSequences: true, stateful: true, inputShape: [10, 2], batchSize: 50),
            new Lstm(8, stateful: true),
            new Dense(1)) { Output = TextWriter.Null };
        model.Compile("mae", new Neurite.Optimizers.Adam(0.01));
        // Target: the mean of the last step's two features, which the LSTM can learn from its input alone.
        var x = RandomTensor(2, 200, 10, 2);
        var y = Tensor.Zeros(200, 1);
        for (int i = 0; i < 200; i++) y[i, 0] = 0.5f * (x[i, 9, 0] + x[i, 9, 1]);
        var losses = new List<double>();
        for (int epoch = 0; epoch < 30; epoch++)
        {
            losses.Add(model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false)["loss"][0]);
            model.ResetStates();
        }
        Assert.True(losses[^1] < 0.5 * losses[0], $"MAE went from {losses[0]:0.000} to {losses[^1]:0.000}");
        Assert.Equal([200, 1], model.Predict(x, batchSize: 50).Shape);
    }

    [Fact]
    public void Stateful_misuse_gives_errors_that_say_what_to_do()
    {
        var model = TutorialModel();
        model.Compile("mae", "adam");
        var x = RandomTensor(3, 120, 10, 2);
        var y = Tensor.Zeros(120, 1);
        var rows = Assert.Throws<NeuriteException>(() => model.Fit(x, y, batchSize: 50, verbose: 0));
        Assert.Contains("120 samples", rows.Message);
        Assert.Contains("multiple of 50", rows.Message);

        var x100 = x.Slice(0, 100);
        var y100 = y.Slice(0, 100);
        var shuffle = Assert.Throws<NeuriteException>(() => model.Fit(x100, y100, batchSize: 50, shuffle: true, verbose: 0));
        Assert.Contains("shuffle: false", shuffle.Message);

        var batch = Assert.Throws<NeuriteException>(() => model.Predict(x100, batchSize: 1));
        Assert.Contains("batches of 50", batch.Message);
        Assert.Contains("WithBatchSize(1)", batch.Message);
    }

    [Fact]
    public void A_batch_one_copy_shares_weights_and_continues_one_stream()
    {
        NeuriteRandom.SetSeed(9);
        var model = TutorialModel();
        model.Compile("mae", "adam");
        var x = RandomTensor(4, 150, 10, 2);
        var y = RandomTensor(5, 150, 1);
        model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
        model.ResetStates();
        var reference = model.Predict(x, batchSize: 50);

        var single = model.WithBatchSize(1);
        Assert.Equal(model.GetWeights().SelectMany(w => w.ToArray()), single.GetWeights().SelectMany(w => w.ToArray()));
        // Stream 7 is row 7 of each batch: samples 7, 57 and 107.
        foreach (int k in new[] { 0, 1, 2 })
        {
            float p = single.Predict(x.Slice(k * 50 + 7, 1))[0, 0];
            Assert.Equal(reference[k * 50 + 7, 0], p, 5);
        }

        // Training the original shows up in the copy: the weights are shared, not copied.
        model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
        Assert.Equal(model.GetWeights().SelectMany(w => w.ToArray()), single.GetWeights().SelectMany(w => w.ToArray()));
    }
}
