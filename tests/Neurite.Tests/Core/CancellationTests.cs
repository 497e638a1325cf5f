using Neurite.Callbacks;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

public class CancellationTests
{
    private const int Rows = 40, BatchSize = 8, Steps = Rows / BatchSize;

    /// <summary>Three noisy classes in four features, fixed by a seed of its own.</summary>
    private static (Tensor X, Tensor Y) Data()
    {
        var rng = new System.Random(5);
        var x = new float[Rows * 4];
        var y = new float[Rows * 3];
        for (int r = 0; r < Rows; r++)
        {
            int c = r % 3;
            for (int f = 0; f < 4; f++) x[r * 4 + f] = (float)(c * (f + 1) * 0.5 + rng.NextDouble());
            y[r * 3 + c] = 1;
        }
        return (Tensor.FromArray(x, Rows, 4), Tensor.FromArray(y, Rows, 3));
    }

    private static Sequential Model(bool dropout = false)
    {
        NeuriteRandom.SetSeed(23);
        Layer[] layers = dropout
            ? [new Dense(6, "relu", inputShape: [4]), new Dropout(0.25), new Dense(3, "softmax")]
            : [new Dense(6, "relu", inputShape: [4]), new Dense(3, "softmax")];
        var model = new Sequential(layers) { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", new Adam(learningRate: 0.01), ["accuracy"]);
        return model;
    }

    /// <summary>Cancels its source at the end of the given training batch (counted over the whole Fit, from 1).</summary>
    private sealed class CancelAfterBatches(int batches, CancellationTokenSource source) : Callback
    {
        private int _done;
        public override void OnTrainBatchEnd(int batch, Logs logs)
        {
            if (++_done == batches) source.Cancel();
        }
    }

    private static void AssertSameBits(Sequential expected, Sequential actual)
    {
        var e = expected.GetWeights();
        var a = actual.GetWeights();
        Assert.Equal(e.Count, a.Count);
        for (int i = 0; i < e.Count; i++) Assert.Equal(e[i].ToArray(), a[i].ToArray());
    }

    private static void AssertSameOptimizerState(Sequential expected, Sequential actual)
    {
        Assert.Equal(expected.Optimizer!.Iterations, actual.Optimizer!.Iterations);
        var e = expected.Layers.SelectMany(l => l.Parameters).ToList();
        var a = actual.Layers.SelectMany(l => l.Parameters).ToList();
        for (int i = 0; i < e.Count; i++)
        {
            var es = expected.Optimizer.GetSlots(e[i]);
            var aSlots = actual.Optimizer.GetSlots(a[i]);
            Assert.Equal(es.Count, aSlots.Count);
            for (int s = 0; s < es.Count; s++) Assert.Equal(es[s], aSlots[s]);
        }
    }

    [Fact]
    public void A_cancelled_fit_keeps_the_weights_and_optimizer_state_of_exactly_the_completed_batches()
    {
        var (x, y) = Data();
        const int cancelAfter = Steps + 2; // in the second epoch
        using var source = new CancellationTokenSource();
        var cancelled = Model();
        var error = Assert.Throws<TrainingCanceledException>(() => cancelled.Fit(x, y, epochs: 5, batchSize: BatchSize, shuffle: false, verbose: 0,
            callbacks: [new CancelAfterBatches(cancelAfter, source)], cancellationToken: source.Token));

        // The same batches one by one, through the public single-batch API.
        var reference = Model();
        for (int b = 0; b < cancelAfter; b++)
        {
            int start = b % Steps * BatchSize;
            reference.TrainOnBatch(x.Slice(start, BatchSize), y.Slice(start, BatchSize));
        }
        AssertSameBits(reference, cancelled);
        AssertSameOptimizerState(reference, cancelled);
        Assert.Equal(cancelAfter, cancelled.Optimizer!.Iterations);

        Assert.Equal(1, error.Epoch);
        Assert.Equal(2, error.CompletedBatches);
        Assert.Equal(Steps, error.StepsPerEpoch);
        Assert.Equal(source.Token, error.CancellationToken);
        Assert.Contains("during epoch 2, after 2 of its 5 batches", error.Message);

        // Continuing from the cancelled state gives the bits of the uninterrupted sequence of updates.
        for (int b = 0; b < 3; b++)
        {
            cancelled.TrainOnBatch(x.Slice(b * BatchSize, BatchSize), y.Slice(b * BatchSize, BatchSize));
            reference.TrainOnBatch(x.Slice(b * BatchSize, BatchSize), y.Slice(b * BatchSize, BatchSize));
        }
        AssertSameBits(reference, cancelled);
    }

    [Fact]
    public void The_history_of_a_cancelled_fit_holds_the_completed_epochs_and_is_also_the_models()
    {
        var (x, y) = Data();
        var whole = Model();
        var uninterrupted = whole.Fit(x, y, epochs: 3, batchSize: BatchSize, shuffle: false, validationSplit: 0.25, verbose: 0);

        using var source = new CancellationTokenSource();
        var model = Model();
        var error = Assert.Throws<TrainingCanceledException>(() => model.Fit(x, y, epochs: 3, batchSize: BatchSize, shuffle: false,
            validationSplit: 0.25, verbose: 0, callbacks: [new CancelAfterBatches(2 * 4 + 1, source)], cancellationToken: source.Token));

        Assert.Same(error.History, model.History);
        Assert.Equal([0, 1], error.History.Epoch);
        foreach (var key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
            Assert.Equal(uninterrupted[key].Take(2), error.History[key]);
        Assert.Same(uninterrupted, whole.History);
    }

    [Fact]
    public void A_fit_cancelled_at_an_epoch_boundary_and_resumed_with_initial_epoch_gives_the_uninterrupted_bits()
    {
        var (x, y) = Data();
        var whole = Model(dropout: true);
        var uninterrupted = whole.Fit(x, y, epochs: 4, batchSize: BatchSize, shuffle: true, verbose: 0);

        using var source = new CancellationTokenSource();
        var resumed = Model(dropout: true);
        var error = Assert.Throws<TrainingCanceledException>(() => resumed.Fit(x, y, epochs: 4, batchSize: BatchSize, shuffle: true, verbose: 0,
            callbacks: [new CancelAfterBatches(2 * Steps, source)], cancellationToken: source.Token));
        Assert.Equal(2, error.Epoch);
        Assert.Equal(0, error.CompletedBatches);
        Assert.Equal([0, 1], error.History.Epoch);
        Assert.Contains("before epoch 3", error.Message);

        var rest = resumed.Fit(x, y, epochs: 4, batchSize: BatchSize, shuffle: true, verbose: 0, initialEpoch: error.Epoch);

        AssertSameBits(whole, resumed);
        AssertSameOptimizerState(whole, resumed);
        Assert.Equal([2, 3], rest.Epoch);
        Assert.Equal(uninterrupted["loss"].Skip(2), rest["loss"]);
    }

    [Fact]
    public void A_token_cancelled_before_fit_trains_nothing()
    {
        var (x, y) = Data();
        var model = Model();
        var before = Model().GetWeights();
        var error = Assert.Throws<TrainingCanceledException>(() => model.Fit(x, y, epochs: 2, batchSize: BatchSize, verbose: 0,
            cancellationToken: new CancellationToken(canceled: true)));
        Assert.Empty(error.History.Epoch);
        Assert.Equal(0, model.Optimizer!.Iterations);
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i].ToArray(), model.GetWeights()[i].ToArray());
    }

    [Fact]
    public async Task FitAsync_returns_the_history_and_a_cancellation_throws_with_the_completed_epochs()
    {
        var (x, y) = Data();
        var history = await Model().FitAsync(x, y, epochs: 2, batchSize: BatchSize, shuffle: false, verbose: 0);
        Assert.Equal([0, 1], history.Epoch);
        Assert.Equal(Model().Fit(x, y, epochs: 2, batchSize: BatchSize, shuffle: false, verbose: 0)["loss"], history["loss"]);

        using var source = new CancellationTokenSource();
        var model = Model();
        var task = model.FitAsync(x, y, epochs: 5, batchSize: BatchSize, shuffle: false, verbose: 0,
            callbacks: [new CancelAfterBatches(Steps + 1, source)], cancellationToken: source.Token);
        var error = await Assert.ThrowsAsync<TrainingCanceledException>(() => task);
        Assert.True(task.IsCanceled);
        Assert.Equal([0], error.History.Epoch);
        Assert.Equal(Steps + 1, model.Optimizer!.Iterations);
    }

    /// <summary>Cancels its source at the end of the given Evaluate or Predict batch.</summary>
    private sealed class CancelAtPassBatch(int batch, CancellationTokenSource source) : Callback
    {
        public int BatchesEnded { get; private set; }
        public override void OnTestBatchEnd(int b, Logs logs) => Ended(b);
        public override void OnPredictBatchEnd(int b, Logs logs) => Ended(b);
        private void Ended(int b)
        {
            BatchesEnded++;
            if (b == batch) source.Cancel();
        }
    }

    [Fact]
    public void Evaluate_and_predict_stop_between_batches_when_cancelled()
    {
        var (x, y) = Data();
        var model = Model();
        using (var source = new CancellationTokenSource())
        {
            var stopper = new CancelAtPassBatch(1, source);
            Assert.Throws<OperationCanceledException>(() => model.Evaluate(x, y, batchSize: BatchSize, verbose: 0, callbacks: [stopper], cancellationToken: source.Token));
            Assert.Equal(2, stopper.BatchesEnded);
        }
        using (var source = new CancellationTokenSource())
        {
            var stopper = new CancelAtPassBatch(2, source);
            Assert.Throws<OperationCanceledException>(() => model.Predict(x, batchSize: BatchSize, verbose: 0, callbacks: [stopper], cancellationToken: source.Token));
            Assert.Equal(3, stopper.BatchesEnded);
        }
        Assert.Throws<OperationCanceledException>(() => model.PredictClasses(x, cancellationToken: new CancellationToken(canceled: true)));
    }
}
