using Neurite.Backends;
using Neurite.Backends.Cpu;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Core;

/// <summary>
/// A recurrent model trains each batch as two halves of its rows (the CPU backend's HalvesTraining). The halves'
/// gradients must add up to the whole batch's, the carried states must stay the model's, and the
/// result must not depend on the number of threads.
/// </summary>
// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(AloneCollection.Name)]
public class HalvesTrainingTests
{
    private static Sequential StackedLstm(bool stateful, int batch, double dropout = 0, int units = 6)
    {
        NeuriteRandom.SetSeed(7);
        var layers = new List<Layer>
        {
            new Lstm(units, returnSequences: true, stateful: stateful, inputShape: [5, 3], batchSize: stateful ? batch : null),
        };
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.Add(new Lstm(4, stateful: stateful));
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.Add(new Dense(2));
        var model = new Sequential(layers) { Output = TextWriter.Null };
        model.Compile("mse", "adam", ["mae"]);
        return model;
    }

    /// <summary>Runs <paramref name="body"/> and puts Threading.MaxThreads back as it was (the setting is process-wide).</summary>
    private static void KeepingThreadCount(Action body)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        body();
    }

    private static (Tensor X, Tensor Y) Data(int rows, int seed)
    {
        var rng = new System.Random(seed);
        var x = Tensor.Zeros(rows, 5, 3);
        var y = Tensor.Zeros(rows, 2);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        return (x, y);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: whole batch {expected[i]}, halves {actual[i]}");
    }

    [Theory]
    [InlineData(true, 20)]
    [InlineData(true, 21)]
    [InlineData(false, 16)]
    [InlineData(false, 20)]
    [InlineData(false, 33)]
    public void A_batch_trained_in_halves_updates_like_the_whole_batch(bool stateful, int batch)
    {
        var whole = StackedLstm(stateful, batch);
        whole.TrainInHalves = false;
        var halves = StackedLstm(stateful, batch);
        for (int step = 0; step < 4; step++)
        {
            var (x, y) = Data(batch, seed: 100 + step);
            double wholeLoss = whole.TrainOnBatch(x, y);
            double halvesLoss = halves.TrainOnBatch(x, y);
            Assert.Equal(wholeLoss, halvesLoss, 1e-6);
            if (step == 1)
            {
                whole.ResetStates();
                halves.ResetStates();
            }
        }
        Assert.True(halves.HasHalfCopies);
        Assert.False(whole.HasHalfCopies);
        var wholeWeights = whole.GetWeights();
        var halvesWeights = halves.GetWeights();
        for (int i = 0; i < wholeWeights.Count; i++) AssertClose(wholeWeights[i].Span, halvesWeights[i].Span, 1e-5, $"weight {i}");
        if (stateful)
            foreach (var index in new[] { 0, 1 })
            {
                var wholeStates = ((RecurrentLayer)whole.Layers[index]).GetStates();
                var halvesStates = ((RecurrentLayer)halves.Layers[index]).GetStates();
                for (int s = 0; s < wholeStates.Count; s++)
                {
                    AssertClose(wholeStates[s].Span, halvesStates[s].Span, 1e-5, $"layer {index} state {s}");
                    Assert.Contains(halvesStates[s].ToArray(), v => v != 0);
                }
            }
    }

    [Theory]
    [InlineData(false, "dropout-layers")]
    [InlineData(true, "dropout-layers")]
    [InlineData(false, "recurrent-dropout")]
    public void Halves_draw_the_dropout_masks_and_shuffles_of_the_whole_batch(bool stateful, string kind)
    {
        // Another backend (or TrainInHalves = false) trains each batch whole: the halves must apply the same
        // masks and leave the global generator (the next epoch's shuffle) where a whole step would.
        var (x, y) = Data(40, seed: 300);
        var models = new List<Sequential>();
        foreach (bool inHalves in new[] { false, true })
        {
            Sequential model;
            if (kind == "dropout-layers") model = StackedLstm(stateful, 20, dropout: 0.3);
            else
            {
                NeuriteRandom.SetSeed(7);
                model = new Sequential(
                    new Gru(6, dropout: 0.3, recurrentDropout: 0.4, returnSequences: true, stateful: stateful, inputShape: [5, 3], batchSize: stateful ? 20 : null),
                    new Lstm(4, dropout: 0.2, recurrentDropout: 0.2, stateful: stateful),
                    new Dense(2)) { Output = TextWriter.Null };
                model.Compile("mse", "adam");
            }
            model.TrainInHalves = inHalves;
            model.Fit(x, y, batchSize: 20, epochs: 3, shuffle: !stateful, verbose: 0);
            Assert.Equal(inHalves, model.HasHalfCopies);
            models.Add(model);
        }
        var wholeWeights = models[0].GetWeights();
        var halvesWeights = models[1].GetWeights();
        for (int i = 0; i < wholeWeights.Count; i++) AssertClose(wholeWeights[i].Span, halvesWeights[i].Span, 1e-5, $"weight {i}");
    }

    [Fact]
    public void Fit_in_halves_reports_the_whole_batch_loss_and_metrics_and_weights_rows_by_class()
    {
        var histories = new List<History>();
        var weights = new List<IReadOnlyList<Tensor>>();
        foreach (bool inHalves in new[] { false, true })
        {
            NeuriteRandom.SetSeed(11);
            var model = new Sequential(new Lstm(5, inputShape: [5, 3]), new Dense(3, "softmax")) { Output = TextWriter.Null };
            model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
            model.TrainInHalves = inHalves;
            var (x, _) = Data(60, seed: 5);
            var y = Tensor.Zeros(60, 3);
            for (int i = 0; i < 60; i++) y[i, (int)((x[i, 0, 0] + 1) * 1.5f) % 3] = 1;
            histories.Add(model.Fit(x, y, epochs: 3, batchSize: 20, shuffle: false, verbose: 0,
                classWeight: new Dictionary<int, double> { [0] = 1, [1] = 2.5, [2] = 0.5 }));
            weights.Add(model.GetWeights());
            Assert.Equal(inHalves, model.HasHalfCopies);
        }
        foreach (var key in new[] { "loss", "accuracy" })
            for (int e = 0; e < 3; e++)
                Assert.Equal(histories[0][key][e], histories[1][key][e], 1e-6);
        for (int i = 0; i < weights[0].Count; i++) AssertClose(weights[0][i].Span, weights[1][i].Span, 1e-5, $"weight {i}");
    }

    [Fact]
    public void Halves_give_the_same_bits_on_one_and_two_threads()
    {
        KeepingThreadCount(() =>
        {
            var results = new List<(double[] Losses, float[][] Weights, float[][] States)>();
            foreach (int threads in new[] { 1, 2, 2 })
            {
                Threading.MaxThreads = threads;
                var model = StackedLstm(stateful: true, batch: 24, dropout: 0.5);
                var (x, y) = Data(96, seed: 3);
                var history = model.Fit(x, y, epochs: 2, batchSize: 24, shuffle: false, verbose: 0);
                Assert.True(model.HasHalfCopies);
                results.Add((history["loss"].ToArray(),
                    model.GetWeights().Select(w => w.ToArray()).ToArray(),
                    ((RecurrentLayer)model.Layers[0]).GetStates().Select(s => s.ToArray()).ToArray()));
            }
            for (int r = 1; r < results.Count; r++)
            {
                Assert.Equal(results[0].Losses, results[r].Losses);
                for (int i = 0; i < results[0].Weights.Length; i++) Assert.Equal(results[0].Weights[i], results[r].Weights[i]);
                for (int i = 0; i < results[0].States.Length; i++) Assert.Equal(results[0].States[i], results[r].States[i]);
            }
        });
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("simple_rnn")]
    public void Recurrent_dropout_masks_in_halves_do_not_depend_on_the_thread_count(string kind)
    {
        // The halves draw their layers' input and recurrent masks on whichever thread runs them; the
        // bits must not depend on which (RMSprop also takes Optimizer.Apply's one-pass update).
        KeepingThreadCount(() =>
        {
            var results = new List<float[][]>();
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                NeuriteRandom.SetSeed(21);
                Layer recurrent = kind switch
                {
                    "lstm" => new Lstm(6, dropout: 0.3, recurrentDropout: 0.3, returnSequences: true, inputShape: [5, 3]),
                    "gru" => new Gru(6, dropout: 0.3, recurrentDropout: 0.3, returnSequences: true, inputShape: [5, 3]),
                    _ => new SimpleRnn(6, dropout: 0.3, recurrentDropout: 0.3, returnSequences: true, inputShape: [5, 3]),
                };
                var model = new Sequential(recurrent, new Lstm(3), new Dense(1)) { Output = TextWriter.Null };
                model.Compile("mae", "rmsprop");
                var (x, _) = Data(40, seed: 8);
                var y = Tensor.Zeros(40, 1);
                for (int i = 0; i < 40; i++) y[i, 0] = x[i, 4, 0];
                model.Fit(x, y, epochs: 2, batchSize: 20, verbose: 0);
                Assert.True(model.HasHalfCopies);
                results.Add(model.GetWeights().Select(w => w.ToArray()).ToArray());
            }
            for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
        });
    }

    [Fact]
    public void Adam_split_across_the_halves_gives_the_bits_of_one_pass()
    {
        // A clip value no gradient reaches changes nothing but sends the update down Optimizer.Apply's one pass.
        var results = new List<float[][]>();
        foreach (var optimizer in new Neurite.Optimizers.Optimizer[] { new Neurite.Optimizers.Adam(), new Neurite.Optimizers.Adam(clipValue: 1e30) })
        {
            // 32 units: every weight but the last layer's bias is long enough for both threads to get a range.
            var model = StackedLstm(stateful: true, batch: 20, units: 32);
            model.Compile("mse", optimizer);
            Assert.Equal(optimizer.ClipValue is null, optimizer.UpdatesElementwise);
            var (x, y) = Data(60, seed: 12);
            model.Fit(x, y, epochs: 2, batchSize: 20, shuffle: false, verbose: 0);
            Assert.Equal(6, optimizer.Iterations);
            results.Add(model.GetWeights().Select(w => w.ToArray()).ToArray());
        }
        for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
    }

    [Fact]
    public void Small_batches_and_fixed_dropout_masks_train_whole()
    {
        var small = StackedLstm(stateful: false, batch: 0);
        var (x, y) = Data(2 * Sequential.MinRowsPerHalf - 1, seed: 9);
        small.TrainOnBatch(x, y);
        Assert.False(small.HasHalfCopies);

        var masked = StackedLstm(stateful: false, batch: 0, dropout: 0.5);
        var dropout = (Dropout)masked.Layers[1];
        dropout.FixedMask = Tensor.Zeros(20, 5, 6);
        dropout.FixedMask.Span.Fill(2f);
        var (x2, y2) = Data(20, seed: 10);
        masked.TrainOnBatch(x2, y2);
        Assert.False(masked.HasHalfCopies);
    }

    [Fact]
    public void A_small_batch_under_a_recurrent_kernel_streamed_from_memory_trains_whole_with_the_same_bits_on_two_threads()
    {
        // At 1024 units R is 16 MiB: below 128 rows one pass reads it once per step for every row instead of once per half.
        KeepingThreadCount(() =>
        {
            var weights = new List<float[][]>();
            float[]? initialRecurrent = null;
            foreach (var (threads, rows) in new[] { (1, 16), (2, 16), (1, HalvesTraining.WholeBatchBelowRows) })
            {
                Threading.MaxThreads = threads;
                NeuriteRandom.SetSeed(5);
                var model = new Sequential(new Lstm(1024, recurrentInitializer: new Neurite.Initializers.RandomUniform(-0.03, 0.03), inputShape: [2, 2]),
                    new Dense(1)) { Output = TextWriter.Null };
                model.Compile("mse", "adam");
                Assert.True(model.Layers[0].Parameters[1].Value.Size >= HalvesTraining.WholeBatchRecurrentFloats);
                initialRecurrent ??= model.Layers[0].Parameters[1].Value.Span.ToArray();
                var rng = new System.Random(rows);
                var x = Tensor.Zeros(rows, 2, 2);
                var y = Tensor.Zeros(rows, 1);
                for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
                for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
                model.TrainOnBatch(x, y);
                Assert.Equal(rows >= HalvesTraining.WholeBatchBelowRows, model.HasHalfCopies);
                if (rows < HalvesTraining.WholeBatchBelowRows) weights.Add(model.GetWeights().Select(w => w.ToArray()).ToArray());
            }
            for (int i = 0; i < weights[0].Length; i++) Assert.Equal(weights[0][i], weights[1][i]);
            Assert.NotEqual(initialRecurrent, weights[0][1]);
        });
    }

    [Fact]
    public void A_small_batch_under_a_gru_kernel_of_1024_units_trains_whole_with_the_same_bits_on_two_threads()
    {
        // GRU(1024)'s R is 1024 × 3072 floats (12 MiB), the smallest kernel that trains whole below 128 rows.
        KeepingThreadCount(() =>
        {
            var weights = new List<float[][]>();
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                NeuriteRandom.SetSeed(6);
                var model = new Sequential(new Gru(1024, recurrentInitializer: new Neurite.Initializers.RandomUniform(-0.03, 0.03), inputShape: [2, 2]),
                    new Dense(1)) { Output = TextWriter.Null };
                model.Compile("mse", "adam");
                Assert.Equal(HalvesTraining.WholeBatchRecurrentFloats, model.Layers[0].Parameters[1].Value.Size);
                var rng = new System.Random(3);
                var x = Tensor.Zeros(16, 2, 2);
                var y = Tensor.Zeros(16, 1);
                for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
                for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
                model.TrainOnBatch(x, y);
                Assert.False(model.HasHalfCopies);
                weights.Add(model.GetWeights().Select(w => w.ToArray()).ToArray());
            }
            for (int i = 0; i < weights[0].Length; i++) Assert.Equal(weights[0][i], weights[1][i]);
        });
    }

    [Fact]
    public void A_warm_step_in_halves_allocates_nothing()
    {
        // On one thread both halves and the update run here, where the allocation counter looks.
        KeepingThreadCount(() =>
        {
            Threading.MaxThreads = 1;
            var model = StackedLstm(stateful: true, batch: 20, dropout: 0.5);
            var (x, y) = Data(20, seed: 4);
            for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
            Assert.True(model.HasHalfCopies);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) model.TrainOnBatch(x, y);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        });
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void A_forced_kernel_path_reaches_both_halves(KernelPath path)
    {
        // The forced path is per thread; the half a worker runs must use the caller's, or the bits
        // would depend on which thread ran which half.
        KernelSelector.Force(path);
        try
        {
            KeepingThreadCount(() =>
            {
                var results = new List<float[][]>();
                foreach (int threads in new[] { 1, 2, 2 })
                {
                    Threading.MaxThreads = threads;
                    var model = StackedLstm(stateful: false, batch: 0);
                    for (int i = 0; i < 6; i++)
                    {
                        var (x, y) = Data(32, seed: 40 + i);
                        model.TrainOnBatch(x, y);
                    }
                    Assert.True(model.HasHalfCopies);
                    results.Add(model.GetWeights().Select(w => w.ToArray()).ToArray());
                }
                for (int r = 1; r < results.Count; r++)
                    for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[r][i]);
            });
        }
        finally
        {
            KernelSelector.Force(null);
        }
    }

    [Fact]
    public void A_stateful_model_without_a_declared_batch_size_takes_it_from_its_first_batch()
    {
        NeuriteRandom.SetSeed(5);
        var model = new Sequential(new Lstm(4, stateful: true, inputShape: [5, 3]), new Dense(2)) { Output = TextWriter.Null };
        model.Compile("mse", "adam");
        var (x, y) = Data(20, seed: 6);
        model.TrainOnBatch(x, y);
        Assert.True(model.HasHalfCopies);
        var states = ((RecurrentLayer)model.Layers[0]).GetStates();
        Assert.Equal([20, 4], states[0].Shape);
        Assert.Contains(states[0].ToArray(), v => v != 0);
        var (x2, y2) = Data(24, seed: 7);
        var error = Assert.Throws<NeuriteException>(() => model.TrainOnBatch(x2, y2));
        Assert.Contains("batch size 20", error.Message);
    }

    private sealed class CountingInitializer : Neurite.Initializers.Initializer
    {
        public int Calls;
        public override string Name => "counting";
        public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng)
        {
            Calls++;
            for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() - 0.5);
        }
    }

    [Fact]
    public void Weight_sharing_copies_do_not_run_the_initializers()
    {
        // Their initial values would be replaced by the model's tensors at once (an orthogonal fill costs milliseconds).
        var counting = new CountingInitializer();
        NeuriteRandom.SetSeed(5);
        var model = new Sequential(new Lstm(4, recurrentInitializer: counting, stateful: true, inputShape: [5, 3], batchSize: 20), new Dense(2))
        { Output = TextWriter.Null };
        model.Compile("mse", "adam");
        Assert.Equal(1, counting.Calls);
        var (x, y) = Data(20, seed: 6);
        model.TrainOnBatch(x, y);
        var single = model.WithBatchSize(1);
        Assert.True(model.HasHalfCopies);
        Assert.Equal(1, counting.Calls);
        Assert.Equal(model.Layers[0].GetWeights()[1].ToArray(), single.Layers[0].GetWeights()[1].ToArray());
    }

    [Fact]
    public void A_model_that_returns_states_trains_whole_so_its_final_states_are_its_own()
    {
        NeuriteRandom.SetSeed(5);
        var lstm = new Lstm(4, returnState: true, inputShape: [5, 3]);
        var model = new Sequential(lstm, new Dense(2)) { Output = TextWriter.Null };
        model.Compile("mse", "adam");
        var (x, y) = Data(20, seed: 6);
        model.TrainOnBatch(x, y);
        Assert.False(model.HasHalfCopies);
        Assert.Equal([20, 4], lstm.FinalStates[0].Shape);
    }

    [Fact]
    public void A_bad_label_inside_a_half_is_the_same_clear_error_on_one_and_two_threads()
    {
        KeepingThreadCount(() =>
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                NeuriteRandom.SetSeed(5);
                var model = new Sequential(new Lstm(4, inputShape: [5, 3]), new Dense(3, "softmax")) { Output = TextWriter.Null };
                model.Compile("sparse_categorical_crossentropy", "adam");
                var (x, _) = Data(20, seed: 6);
                var labels = Tensor.Zeros(20, 1);
                model.TrainOnBatch(x, labels);
                labels[15, 0] = 5;
                var error = Assert.Throws<NeuriteException>(() => model.TrainOnBatch(x, labels));
                Assert.Contains("labels in 0..2", error.Message);
            }
        });
    }
}
