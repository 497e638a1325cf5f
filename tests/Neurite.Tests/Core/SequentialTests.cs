using Neurite.Callbacks;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

public class SequentialTests
{
    private static Sequential BreastCancerModel() => new(
        new Dense(8, activation: "relu", inputShape: [89], name: "dense_2"),
        new Dense(5, activation: "relu", name: "dense_3"),
        new Dense(2, activation: "softmax", name: "dense_4"))
    { Output = TextWriter.Null };

    [Fact]
    public void Tutorial_models_have_keras_parameter_counts()
    {
        var iris = new Sequential(new Dense(3, "softmax", inputShape: [4]));
        Assert.Equal(15, iris.CountParams());
        var bc = BreastCancerModel();
        Assert.Equal([720L, 45L, 12L], bc.Layers.Select(l => l.CountParams()));
        Assert.Equal(777, bc.CountParams());
        Assert.Equal([89, 8], bc.Layers[0].GetWeights()[0].Shape);
        Assert.Equal([8], bc.Layers[0].GetWeights()[1].Shape);
    }

    [Fact]
    public void Summary_prints_the_keras_table()
    {
        var model = new Sequential([
            new Dense(8, activation: "relu", inputShape: [89], name: "dense_2"),
            new Dense(5, activation: "relu", name: "dense_3"),
            new Dense(2, activation: "softmax", name: "dense_4")], name: "sequential");
        // The layout of tf.keras 2's print_summary for a Sequential model (line length 65, columns at 29/55/65).
        string expected = string.Join("\n",
            "Model: \"sequential\"",
            "_________________________________________________________________",
            "Layer (type)                 Output Shape              Param #   ",
            "=================================================================",
            "dense_2 (Dense)              (None, 8)                 720       ",
            "_________________________________________________________________",
            "dense_3 (Dense)              (None, 5)                 45        ",
            "_________________________________________________________________",
            "dense_4 (Dense)              (None, 2)                 12        ",
            "=================================================================",
            "Total params: 777",
            "Trainable params: 777",
            "Non-trainable params: 0",
            "_________________________________________________________________",
            "");
        Assert.Equal(expected, model.SummaryText().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Default_initializers_are_glorot_uniform_kernel_and_zero_bias()
    {
        NeuriteRandom.SetSeed(1);
        var layer = new Dense(300, inputShape: [200]);
        layer.Build([200]);
        var kernel = layer.Parameters[0].Value.ToArray();
        Assert.Equal("glorot_uniform", layer.KernelInitializer.Name);
        InitializerTests.AssertMoments(kernel, uniform: true, variance: 2.0 / (200 + 300), "Dense kernel");
        Assert.All(layer.Parameters[1].Value.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Inputs_and_outputs_describe_names_and_shapes()
    {
        var model = new Sequential(new Dense(3, "softmax", inputShape: [4], name: "dense_1"));
        Assert.Equal("Tensor(\"dense_1_input:0\", shape=(None, 4), dtype=float32)", model.Inputs[0].ToString());
        Assert.Equal("Tensor(\"dense_1/Softmax:0\", shape=(None, 3), dtype=float32)", model.Outputs[0].ToString());
    }

    [Fact]
    public void Validation_split_holds_out_the_last_rows_before_shuffling()
    {
        // With a zero learning rate the weights never move, so the reported losses are those of fixed rows.
        NeuriteRandom.SetSeed(5);
        var (x, y) = Blobs(50, 2);
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", new Sgd(learningRate: 0), ["accuracy"]);
        var history = model.Fit(x, y, epochs: 1, batchSize: 7, validationSplit: 0.3, verbose: 0);
        int splitAt = (int)Math.Floor(50 * 0.7);
        Assert.Equal(35, splitAt);
        var tail = model.Evaluate(x.Slice(splitAt, 15), y.Slice(splitAt, 15));
        var head = model.Evaluate(x.Slice(0, splitAt), y.Slice(0, splitAt));
        Assert.Equal(tail["loss"], history["val_loss"][0], 5);
        Assert.Equal(tail["accuracy"], history["val_accuracy"][0], 5);
        Assert.Equal(head["loss"], history["loss"][0], 5);
    }

    [Fact]
    public void Validation_data_is_scored_after_each_epoch()
    {
        NeuriteRandom.SetSeed(6);
        var (x, y) = Blobs(40, 2);
        var (xv, yv) = (x.Slice(0, 10), y.Slice(0, 10));
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", new Sgd(0.1), ["accuracy"]);
        var h = model.Fit(x, y, epochs: 2, batchSize: 8, validationData: (xv, yv), verbose: 0);
        Assert.Equal(model.Evaluate(xv, yv)["loss"], h["val_loss"][1], 6);
        Assert.Equal(2, h["val_accuracy"].Count);
    }

    [Fact]
    public void Integer_labels_train_with_sparse_categorical_crossentropy()
    {
        NeuriteRandom.SetSeed(4);
        var (x, y) = Blobs(60, 3);
        int[] labels = Enumerable.Range(0, 60).Select(i => i % 3).ToArray();
        var model = new Sequential(new Dense(3, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        model.Compile("sparse_categorical_crossentropy", new Adam(0.05), ["accuracy"]);
        model.Fit(x, Tensor.From(labels), epochs: 30, batchSize: 10, verbose: 0);
        var sparse = model.Evaluate(x, Tensor.From(labels));
        Assert.True(sparse["accuracy"] > 0.9);
        // The same model scored with one-hot targets and the categorical loss gives the same loss.
        model.Compile("categorical_crossentropy", new Adam(0.05), ["accuracy"]);
        Assert.Equal(model.Evaluate(x, y)["loss"], sparse["loss"], 5);
    }

    [Fact]
    public void A_vector_of_targets_fits_a_one_unit_output()
    {
        var x = Tensor.FromArray(new float[] { -2, -1, 1, 2 }, 4, 1);
        var model = new Sequential(new Dense(1, "sigmoid", inputShape: [1])) { Output = TextWriter.Null };
        model.Compile("binary_crossentropy", new Sgd(0.5), ["accuracy"]);
        var h = model.Fit(x, Tensor.From(new[] { 0, 0, 1, 1 }), epochs: 50, batchSize: 4, verbose: 0);
        Assert.True(h["loss"][^1] < h["loss"][0]);
        Assert.Equal(1.0, model.Evaluate(x, Tensor.From(new float[] { 0, 0, 1, 1 }))["accuracy"]);
    }

    [Fact]
    public void Verbose_one_with_redirected_output_prints_one_line_per_epoch()
    {
        var (x, y) = Blobs(20, 2);
        var sw = new StringWriter();
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = sw };
        model.Compile("categorical_crossentropy", "sgd");
        model.Fit(x, y, epochs: 2, batchSize: 5, verbose: 1);
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.DoesNotContain('\r', sw.ToString());
        Assert.StartsWith("4/4 - ", lines[1]);
    }

    [Fact]
    public void Seeded_training_is_bit_for_bit_repeatable()
    {
        float[] Train()
        {
            NeuriteRandom.SetSeed(17);
            var (x, y) = Blobs(60, 3);
            var model = new Sequential(new Dense(6, "relu", inputShape: [2]), new Dropout(0.3), new Dense(3, "softmax")) { Output = TextWriter.Null };
            model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
            var h = model.Fit(x, y, epochs: 5, batchSize: 8, validationSplit: 0.2, verbose: 0);
            return model.GetWeights().SelectMany(w => w.ToArray()).Concat(h["loss"].Select(v => (float)v)).ToArray();
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void A_layer_frozen_after_the_build_keeps_its_weights_from_the_next_compile_on_and_unfreezing_trains_it_again()
    {
        NeuriteRandom.SetSeed(5);
        var (x, y) = Blobs(40, 3);
        var model = new Sequential(new Dense(6, "relu", inputShape: [2]), new Dense(3, "softmax")) { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
        model.Fit(x, y, epochs: 1, batchSize: 8, verbose: 0);
        float[] Weights(int layer) => model.Layers[layer].GetWeights().SelectMany(w => w.ToArray()).ToArray();

        model.Layers[0].Trainable = false;
        model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
        float[] first = Weights(0), second = Weights(1);
        model.Fit(x, y, epochs: 2, batchSize: 8, verbose: 0);
        Assert.Equal(first, Weights(0));
        Assert.NotEqual(second, Weights(1));
        var summary = new StringWriter();
        model.Summary(summary);
        Assert.Contains("Trainable params: 21", summary.ToString());      // the second Dense: 6·3 + 3
        Assert.Contains("Non-trainable params: 18", summary.ToString());  // the first: 2·6 + 6

        model.Layers[0].Trainable = true;
        model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
        model.Fit(x, y, epochs: 1, batchSize: 8, verbose: 0);
        Assert.NotEqual(first, Weights(0));
    }

    [Fact]
    public void Training_reduces_the_loss_and_reports_one_value_per_epoch()
    {
        NeuriteRandom.SetSeed(2);
        var (x, y) = Blobs(90, 3);
        var model = new Sequential(new Dense(8, "tanh", inputShape: [2]), new Dense(3, "softmax")) { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", new Adam(0.05), ["accuracy"]);
        var h = model.Fit(x, y, epochs: 30, batchSize: 10, validationSplit: 0.2, verbose: 0);
        Assert.Equal(30, h["loss"].Count);
        Assert.Equal(30, h["val_accuracy"].Count);
        Assert.True(h["loss"][^1] < h["loss"][0] / 3, $"loss went from {h["loss"][0]} to {h["loss"][^1]}");
        Assert.True(model.Evaluate(x, y)["accuracy"] > 0.9);
        int[] classes = model.PredictClasses(x);
        Assert.Equal(90, classes.Length);
    }

    [Fact]
    public void Predict_classes_thresholds_a_single_sigmoid_output_at_one_half()
    {
        var model = new Sequential(new Dense(1, "sigmoid", inputShape: [1]));
        model.SetWeights([Tensor.FromArray(new float[] { 1f }, 1, 1), Tensor.FromArray(new float[] { 0f }, 1)]);
        Assert.Equal([0, 1, 0, 1], model.PredictClasses(Tensor.FromArray(new float[] { -2f, 3f, -0.1f, 0.1f }, 4, 1)));
    }

    [Fact]
    public void Verbose_two_prints_one_line_per_epoch_with_the_scores()
    {
        NeuriteRandom.SetSeed(1);
        var (x, y) = Blobs(20, 2);
        var sw = new StringWriter();
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = sw };
        model.Compile("categorical_crossentropy", "sgd", ["accuracy"]);
        model.Fit(x, y, epochs: 3, batchSize: 5, validationSplit: 0.2, verbose: 2);
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("Epoch 1/3", lines[0]);
        Assert.Matches(@"^4/4 - \d+s .* - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}", lines[1]);
    }

    [Fact]
    public void Early_stopping_stops_and_restores_the_best_weights()
    {
        NeuriteRandom.SetSeed(3);
        var (x, y) = Blobs(40, 2);
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        // A huge learning rate makes the validation loss bounce, so patience runs out early.
        model.Compile("categorical_crossentropy", new Sgd(50), ["accuracy"]);
        var best = new List<(double Loss, IReadOnlyList<Tensor> Weights)>();
        var recorder = new RecordingCallback(best);
        var stopper = new EarlyStopping(monitor: "val_loss", patience: 2, restoreBestWeights: true);
        var h = model.Fit(x, y, epochs: 200, batchSize: 4, validationSplit: 0.25, verbose: 0, callbacks: [recorder, stopper]);
        Assert.True(h["loss"].Count < 200);
        var bestEpoch = best.Select((b, i) => (b.Loss, i)).MinBy(t => t.Loss).i;
        Assert.Equal(bestEpoch, stopper.BestEpoch);
        Assert.Equal(best[bestEpoch].Weights.SelectMany(w => w.ToArray()), model.GetWeights().SelectMany(w => w.ToArray()));
    }

    private sealed class RecordingCallback(List<(double, IReadOnlyList<Tensor>)> log) : Callback
    {
        public override void OnEpochEnd(int epoch, Logs logs) => log.Add((logs["val_loss"], Model!.GetWeights()));
    }

    [Fact]
    public void Learning_rate_scheduler_sets_the_rate_each_epoch()
    {
        var (x, y) = Blobs(20, 2);
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        var sgd = new Sgd(0.1);
        model.Compile("categorical_crossentropy", sgd);
        var h = model.Fit(x, y, epochs: 4, batchSize: 5, verbose: 0, callbacks: [new LearningRateScheduler((epoch, lr) => 0.1 / (epoch + 1))]);
        Assert.Equal([0.1, 0.05, 0.1 / 3, 0.025], h["learning_rate"].ToArray(), new ToleranceComparer(1e-12));
    }

    [Fact]
    public void Reduce_lr_on_plateau_halves_the_rate_after_patience_epochs_without_improvement()
    {
        var (x, y) = Blobs(20, 2);
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        // A tiny rate keeps the loss flat (improvements far below minDelta), so only epoch 0 counts as better.
        model.Compile("categorical_crossentropy", new Sgd(1e-12));
        var h = model.Fit(x, y, epochs: 5, batchSize: 5, verbose: 0, callbacks: [new ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 2)]);
        Assert.Equal([1e-12, 1e-12, 1e-12, 5e-13, 5e-13], h["learning_rate"].ToArray(), new ToleranceComparer(1e-20));
    }

    private sealed class ToleranceComparer(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void Terminate_on_nan_stops_training_when_the_loss_overflows()
    {
        var (x, _) = Blobs(20, 2);
        var model = new Sequential(new Dense(1, inputShape: [2])) { Output = TextWriter.Null };
        model.Compile("mse", new Sgd(1e30));
        var h = model.Fit(x, Tensor.Full(1e30f, 20, 1), epochs: 50, batchSize: 5, verbose: 0, callbacks: [new TerminateOnNaN()]);
        Assert.True(h["loss"].Count < 50);
        Assert.False(double.IsFinite(h["loss"][^1]));
    }

    [Fact]
    public void Training_refuses_inputs_and_targets_that_are_not_finite_naming_the_first_row()
    {
        // 40 rows of 3 features: 120 inputs, so the first bad one lies past the vector blocks of every path.
        var x = Tensor.Zeros(40, 3);
        var y = Tensor.Zeros(40, 1);
        var model = new Sequential(new Dense(1, inputShape: [3])) { Output = TextWriter.Null };
        model.Compile("mse", new Sgd(0.1));
        model.TrainOnBatch(x, y);
        var weights = model.GetWeights().Select(w => w.Span.ToArray()).ToArray();

        x.Span[37 * 3 + 2] = float.NaN;
        x.Span[39 * 3] = float.PositiveInfinity;
        var e = Assert.Throws<NeuriteException>(() => model.TrainOnBatch(x, y));
        Assert.Contains($"TrainOnBatch: x contains {float.NaN} at row 37", e.Message);
        e = Assert.Throws<NeuriteException>(() => model.Fit(x, y, epochs: 1, verbose: 0));
        Assert.Contains($"Fit: x contains {float.NaN} at row 37", e.Message);

        x.Span[37 * 3 + 2] = 0;
        x.Span[39 * 3] = 0;
        y.Span[2] = float.NegativeInfinity;
        e = Assert.Throws<NeuriteException>(() => model.TrainOnBatch(x, y));
        Assert.Contains($"TrainOnBatch: y contains {float.NegativeInfinity} at row 2", e.Message);
        // Nothing was trained on the refused batches.
        Assert.All(model.GetWeights().Zip(weights), p => Assert.Equal(p.Second, p.First.Span.ToArray()));
    }

    [Fact]
    public void Class_weights_scale_each_samples_loss()
    {
        var x = Tensor.FromArray(new float[] { 1, 0, 0, 1 }, 2, 2);
        var y = Tensor.FromArray(new float[] { 1, 0, 0, 1 }, 2, 2);
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = TextWriter.Null };
        model.SetWeights([Tensor.FromArray(new float[] { 0, 0, 0, 0 }, 2, 2), Tensor.Zeros(2)]);
        model.Compile("categorical_crossentropy", new Sgd(0));
        var h = model.Fit(x, y, epochs: 1, batchSize: 2, verbose: 0, shuffle: false, classWeight: new Dictionary<int, double> { [0] = 3, [1] = 1 });
        // Both rows predict (0.5, 0.5): loss = (3·ln2 + 1·ln2) / 2.
        Assert.Equal(2 * Math.Log(2), h["loss"][0], 5);
    }

    [Fact]
    public void Errors_name_the_problem_the_values_and_the_fix()
    {
        var model = BreastCancerModel();
        var x = Tensor.Zeros(10, 89);
        var y = Tensor.Zeros(10, 2);
        var uncompiled = Assert.Throws<NeuriteException>(() => model.Fit(x, y));
        Assert.Contains("Compile", uncompiled.Message);

        model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
        var width = Assert.Throws<ShapeMismatchException>(() => model.Fit(Tensor.Zeros(10, 88), y, verbose: 0));
        Assert.Contains("(None, 89)", width.Message);
        Assert.Contains("(10, 88)", width.Message);
        Assert.Contains("89 features", width.Message);

        var rows = Assert.Throws<NeuriteException>(() => model.Fit(x, Tensor.Zeros(9, 2), verbose: 0));
        Assert.Contains("10 rows", rows.Message);
        Assert.Contains("9", rows.Message);

        var labels = Assert.Throws<ShapeMismatchException>(() => model.Fit(x, Tensor.Zeros(10, 1), verbose: 0));
        Assert.Contains("ToCategorical", labels.Message);

        var bad = Tensor.Zeros(10, 89);
        bad[3, 5] = float.NaN;
        var nan = Assert.Throws<NeuriteException>(() => model.Fit(bad, y, verbose: 0));
        Assert.Contains("NaN", nan.Message);
        Assert.Contains("row 3", nan.Message);

        var act = Assert.Throws<NeuriteException>(() => new Dense(3, "rellu"));
        Assert.Contains("'rellu'", act.Message);
        Assert.Contains("relu", act.Message);

        var units = Assert.Throws<NeuriteException>(() => new Dense(0));
        Assert.Contains("units=0", units.Message);
    }

    [Fact]
    public void Train_on_batch_checks_every_batch_not_only_the_first()
    {
        // After a good first call the model is warm; a later bad batch must fail as the first would have.
        var model = BreastCancerModel();
        model.Compile("categorical_crossentropy", "adam");
        var x = Tensor.Zeros(10, 89);
        var y = Tensor.Zeros(10, 2);
        for (int i = 0; i < 10; i++) y[i, i % 2] = 1;
        model.TrainOnBatch(x, y);

        var width = Assert.Throws<ShapeMismatchException>(() => model.TrainOnBatch(x, Tensor.Zeros(10, 3)));
        Assert.Contains("(10, 3)", width.Message);
        Assert.Contains("ToCategorical", width.Message);
        var range = Tensor.Zeros(10, 2);
        range[4, 1] = 3;
        Assert.Contains("[0, 1]", Assert.Throws<NeuriteException>(() => model.TrainOnBatch(x, range)).Message);
        var nan = Tensor.Zeros(10, 89);
        nan[7, 0] = float.PositiveInfinity;
        var error = Assert.Throws<NeuriteException>(() => model.TrainOnBatch(nan, y));
        Assert.Contains("row 7", error.Message);
        var features = Assert.Throws<ShapeMismatchException>(() => model.TrainOnBatch(Tensor.Zeros(10, 88), y));
        Assert.Contains("89 features", features.Message);
        Assert.True(double.IsFinite(model.TrainOnBatch(x, y)));
    }

    [Fact]
    public void Set_weights_replaces_the_values_that_predict_uses()
    {
        var model = new Sequential(new Dense(2, inputShape: [3]), new Dense(1, "relu"));
        var x = Tensor.FromArray(new float[] { 1, 2, 3, -1, 0, 2 }, 2, 3);
        var before = model.Predict(x).ToArray();
        float[] kernel1 = [1, 0, 0, 1, 2, -1], bias1 = [0.5f, -0.5f], kernel2 = [1, -2], bias2 = [0.25f];
        var weights = new List<Tensor>
        {
            Tensor.FromArray(kernel1, 3, 2), Tensor.FromArray(bias1, 2), Tensor.FromArray(kernel2, 2, 1), Tensor.FromArray(bias2, 1),
        };
        model.SetWeights(weights);

        Assert.Equal([kernel1, bias1, kernel2, bias2], model.GetWeights().Select(w => w.ToArray()));
        // Row 1: h = [1 + 6 + 0.5, 2 − 3 − 0.5] = [7.5, −1.5]; y = relu(7.5 + 3 + 0.25) = 10.75.
        // Row 2: h = [−1 + 4 + 0.5, 0 − 2 − 0.5] = [3.5, −2.5]; y = relu(3.5 + 5 + 0.25) = 8.75.
        var after = model.Predict(x).ToArray();
        Assert.Equal([10.75f, 8.75f], after);
        Assert.NotEqual(before, after);

        // The model holds copies: changing the tensors given does not reach it.
        weights[0].Span.Fill(100f);
        Assert.Equal(after, model.Predict(x).ToArray());
    }

    [Fact]
    public void Set_weights_checks_shapes()
    {
        var model = BreastCancerModel();
        var ex = Assert.Throws<ShapeMismatchException>(() => model.Layers[0].SetWeights([Tensor.Zeros(8, 89), Tensor.Zeros(8)]));
        Assert.Contains("(89, 8)", ex.Message);
        Assert.Contains("(8, 89)", ex.Message);
        var w = model.GetWeights();
        model.SetWeights(w);
        Assert.Equal(w.SelectMany(t => t.ToArray()), model.GetWeights().SelectMany(t => t.ToArray()));
    }

    /// <summary>Well-separated Gaussian blobs, one per class, in rows of one-hot labels.</summary>
    internal static (Tensor X, Tensor Y) Blobs(int rows, int classes)
    {
        var rng = new System.Random(123);
        var x = Tensor.Zeros(rows, 2);
        var y = Tensor.Zeros(rows, classes);
        for (int i = 0; i < rows; i++)
        {
            int c = i % classes;
            double angle = 2 * Math.PI * c / classes;
            x[i, 0] = (float)(3 * Math.Cos(angle) + 0.5 * (rng.NextDouble() - 0.5));
            x[i, 1] = (float)(3 * Math.Sin(angle) + 0.5 * (rng.NextDouble() - 0.5));
            y[i, c] = 1;
        }
        return (x, y);
    }
}
