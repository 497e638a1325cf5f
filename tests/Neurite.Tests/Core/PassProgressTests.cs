using System.Globalization;
using Neurite.Callbacks;
using Neurite.Layers;

namespace Neurite.Tests.Core;

/// <summary>Progress of Evaluate and Predict: Keras's bar at verbose 1 (their default), nothing at 0, and callbacks with the same figures.</summary>
public class PassProgressTests
{
    private static (Tensor X, Tensor Y) Data(int rows)
    {
        var x = new float[rows * 2];
        var y = new float[rows * 2];
        for (int r = 0; r < rows; r++)
        {
            int c = r % 2;
            x[r * 2] = c + 0.1f * (r % 5);
            x[r * 2 + 1] = 1 - c + 0.07f * (r % 3);
            y[r * 2 + c] = 1;
        }
        return (Tensor.FromArray(x, rows, 2), Tensor.FromArray(y, rows, 2));
    }

    private static Sequential Model(TextWriter output)
    {
        NeuriteRandom.SetSeed(3);
        var model = new Sequential(new Dense(2, "softmax", inputShape: [2])) { Output = output };
        model.Compile("categorical_crossentropy", "sgd", ["accuracy"]);
        return model;
    }

    private static string Figure(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    [Fact]
    public void Evaluate_prints_one_line_by_default_when_output_is_redirected_and_nothing_at_verbose_zero()
    {
        var (x, y) = Data(20);
        var output = new StringWriter();
        var model = Model(output);

        var scores = model.Evaluate(x, y, batchSize: 8);

        string text = output.ToString();
        Assert.DoesNotContain('\r', text);
        var line = Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^3/3 - \d+s \d+(ms|us)/step - ", line);
        Assert.EndsWith($" - loss: {Figure(scores["loss"])} - accuracy: {Figure(scores["accuracy"])}", line.TrimEnd());

        output.GetStringBuilder().Clear();
        model.Evaluate(x, y, batchSize: 8, verbose: 0);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void Predict_prints_one_line_by_default_when_output_is_redirected_and_nothing_at_verbose_zero()
    {
        var (x, _) = Data(20);
        var output = new StringWriter();
        var model = Model(output);

        model.Predict(x, batchSize: 5);
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^4/4 - \d+s \d+(ms|us)/step$", line.TrimEnd());

        output.GetStringBuilder().Clear();
        model.Predict(x, batchSize: 5, verbose: 0);
        model.PredictClasses(x);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void On_a_terminal_the_bar_is_redrawn_after_each_batch_and_closed_by_the_final_line()
    {
        var output = new StringWriter();
        var logger = new ProgressLogger(1, 3, 0, output, liveBar: true);
        var logs = new Logs();
        logger.OnTestBegin(logs);
        for (int b = 0; b < 3; b++)
        {
            logs["loss"] = b + 0.5;
            logger.OnTestBatchEnd(b, logs);
        }
        logger.OnTestEnd(logs);

        string text = output.ToString();
        Assert.StartsWith("\r1/3 " + new string('━', 10) + new string('─', 20) + " - loss: 0.5000\r2/3 ", text);
        var last = text.Split('\r')[^1];
        Assert.Matches(@"^3/3 ━{30} - \d+s \d+(ms|us)/step - loss: 2\.5000\r?\n$", last);
    }

    [Fact]
    public void A_pass_cancelled_mid_bar_ends_the_bars_line_so_the_next_output_starts_on_its_own()
    {
        var output = new StringWriter();
        var logger = new ProgressLogger(1, 4, 0, output, liveBar: true);
        var logs = new Logs { ["loss"] = 0.25 };
        logger.OnTestBegin(logs);
        logger.OnTestBatchEnd(0, logs);
        logger.Interrupt();
        Assert.Equal("\r1/4 " + new string('━', 7) + new string('─', 23) + " - loss: 0.2500" + Environment.NewLine, output.ToString());

        // Nothing drawn yet, nothing to end.
        var quiet = new StringWriter();
        new ProgressLogger(1, 4, 0, quiet, liveBar: true).Interrupt();
        Assert.Equal("", quiet.ToString());
    }

    /// <summary>Records what a progress display of one's own would receive.</summary>
    private sealed class Recorder : Callback
    {
        public List<string> Calls { get; } = [];
        public List<double> RunningLoss { get; } = [];
        public Logs? Last { get; private set; }
        public override void OnTestBegin(Logs logs) => Calls.Add("test begin");
        public override void OnTestBatchBegin(int batch, Logs logs) => Calls.Add($"test batch {batch} begin");
        public override void OnTestBatchEnd(int batch, Logs logs)
        {
            Calls.Add($"test batch {batch} end");
            RunningLoss.Add(logs["loss"]);
            Last = new Logs();
            foreach (var (k, v) in logs) Last[k] = v;
        }
        public override void OnTestEnd(Logs logs) => Calls.Add("test end");
        public override void OnPredictBegin(Logs logs) => Calls.Add("predict begin");
        public override void OnPredictBatchBegin(int batch, Logs logs) => Calls.Add($"predict batch {batch} begin");
        public override void OnPredictBatchEnd(int batch, Logs logs) => Calls.Add($"predict batch {batch} end");
        public override void OnPredictEnd(Logs logs) => Calls.Add("predict end");
    }

    [Fact]
    public void Callbacks_get_each_batch_of_evaluate_and_predict_with_the_figures_the_bar_shows()
    {
        var (x, y) = Data(20);
        var model = Model(TextWriter.Null);
        var recorder = new Recorder();

        var scores = model.Evaluate(x, y, batchSize: 8, verbose: 0, callbacks: [recorder]);
        Assert.Equal(["test begin", "test batch 0 begin", "test batch 0 end", "test batch 1 begin", "test batch 1 end",
            "test batch 2 begin", "test batch 2 end", "test end"], recorder.Calls);
        Assert.Equal(scores["loss"], recorder.Last!["loss"]);
        Assert.Equal(scores["accuracy"], recorder.Last["accuracy"]);
        // The running loss after the first batch is that batch's own mean loss.
        Assert.Equal(model.Evaluate(x.Slice(0, 8), y.Slice(0, 8), verbose: 0)["loss"], recorder.RunningLoss[0], 12);

        recorder.Calls.Clear();
        model.Predict(x, batchSize: 10, verbose: 0, callbacks: [recorder]);
        Assert.Equal(["predict begin", "predict batch 0 begin", "predict batch 0 end", "predict batch 1 begin", "predict batch 1 end", "predict end"],
            recorder.Calls);
        Assert.Same(model, recorder.Model);
    }

    /// <summary>Reports synchronously, in order (Progress&lt;T&gt; would post them to a thread-pool thread).</summary>
    private sealed class ListProgress : IProgress<ProgressReport>
    {
        public List<ProgressReport> Reports { get; } = [];
        public void Report(ProgressReport value) => Reports.Add(value);
    }

    [Fact]
    public void A_progress_reporter_gives_an_IProgress_the_bars_figures_for_fit_evaluate_and_predict()
    {
        var (x, y) = Data(20);
        var model = Model(TextWriter.Null);
        var progress = new ListProgress();

        var history = model.Fit(x, y, epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [new ProgressReporter(progress)]);
        Assert.Equal(["1/2 1/3", "1/2 2/3", "1/2 3/3", "1/2 3/3 end", "2/2 1/3", "2/2 2/3", "2/2 3/3", "2/2 3/3 end"],
            progress.Reports.Select(r => $"{r.Epoch}/{r.Epochs} {r.Batch}/{r.Steps}{(r.EpochEnd ? " end" : "")}"));
        Assert.All(progress.Reports, r => Assert.Equal(ProgressPhase.Train, r.Phase));
        Assert.Equal(history["loss"], progress.Reports.Where(r => r.EpochEnd).Select(r => r.Logs["loss"]));
        Assert.Equal(history["accuracy"], progress.Reports.Where(r => r.EpochEnd).Select(r => r.Logs["accuracy"]));

        progress.Reports.Clear();
        var scores = model.Evaluate(x, y, batchSize: 8, verbose: 0, callbacks: [new ProgressReporter(progress)]);
        Assert.Equal(["1/3", "2/3", "3/3"], progress.Reports.Select(r => $"{r.Batch}/{r.Steps}"));
        Assert.All(progress.Reports, r => Assert.Equal(ProgressPhase.Evaluate, r.Phase));
        Assert.Equal(scores["loss"], progress.Reports[^1].Logs["loss"]);
        Assert.Equal(scores["accuracy"], progress.Reports[^1].Logs["accuracy"]);

        progress.Reports.Clear();
        model.Predict(x, batchSize: 10, verbose: 0, callbacks: [new ProgressReporter(progress)]);
        Assert.Equal(["1/2", "2/2"], progress.Reports.Select(r => $"{r.Batch}/{r.Steps}"));
        Assert.All(progress.Reports, r => Assert.Equal(ProgressPhase.Predict, r.Phase));
        Assert.All(progress.Reports, r => Assert.Empty(r.Logs));
    }

    private sealed class HookRecorder : Callback
    {
        public List<string> Calls { get; } = [];
        public override void OnTestBegin(Logs logs) => Calls.Add("test begin");
        public override void OnTestBatchBegin(int batch, Logs logs) => Calls.Add($"test batch {batch} begin");
        public override void OnTestBatchEnd(int batch, Logs logs) => Calls.Add($"test batch {batch} end loss={Figure(logs["loss"])}");
        public override void OnTestEnd(Logs logs) => Calls.Add($"test end loss={Figure(logs["loss"])} accuracy={Figure(logs["accuracy"])}");
        public override void OnEpochEnd(int epoch, Logs logs) => Calls.Add($"epoch {epoch} end");
    }

    [Fact]
    public void Fit_runs_the_callbacks_test_hooks_over_the_validation_batches_before_each_epoch_end_as_keras_does()
    {
        var (x, y) = Data(20);
        var (xv, yv) = Data(12);
        var model = Model(TextWriter.Null);
        var recorder = new HookRecorder();

        var history = model.Fit(x, y, epochs: 2, batchSize: 8, shuffle: false, validationData: (xv, yv), verbose: 0, callbacks: [recorder]);

        // 12 validation rows in batches of 8: two test batches per epoch, between the training batches and the epoch's end.
        string[] Names(int e) => ["test begin", "test batch 0 begin", "test batch 0 end", "test batch 1 begin", "test batch 1 end", "test end", $"epoch {e} end"];
        Assert.Equal([.. Names(0), .. Names(1)], recorder.Calls.Select(c => c.Split(" loss=")[0]));
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal($"test batch 1 end loss={Figure(history["val_loss"][e])}", recorder.Calls[e * 7 + 4]);
            Assert.Equal($"test end loss={Figure(history["val_loss"][e])} accuracy={Figure(history["val_accuracy"][e])}", recorder.Calls[e * 7 + 5]);
        }
        // The first test batch's running loss is the loss of the first 8 validation rows under the trained weights.
        var firstRows = model.Evaluate(xv.Slice(0, 8), yv.Slice(0, 8), batchSize: 8, verbose: 0);
        Assert.Equal($"test batch 0 end loss={Figure(firstRows["loss"])}", recorder.Calls[9]);
    }

    [Fact]
    public void Fit_with_validation_keeps_the_bar_to_one_line_per_epoch_and_the_reporter_to_training_reports()
    {
        var (x, y) = Data(20);
        var (xv, yv) = Data(12);
        var output = new StringWriter();
        var model = Model(output);
        var progress = new ListProgress();
        var reporter = new ProgressReporter(progress);

        model.Fit(x, y, epochs: 2, batchSize: 8, shuffle: false, validationData: (xv, yv), verbose: 1, callbacks: [reporter]);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("Epoch 1/2", lines[0]);
        Assert.Contains("val_loss", lines[1]);
        Assert.StartsWith("Epoch 2/2", lines[2]);
        Assert.Contains("val_loss", lines[3]);
        Assert.All(progress.Reports, r => Assert.Equal(ProgressPhase.Train, r.Phase));
        Assert.Equal(8, progress.Reports.Count);

        progress.Reports.Clear();
        model.Evaluate(xv, yv, batchSize: 8, verbose: 0, callbacks: [reporter]);
        Assert.Equal(["1/2", "2/2"], progress.Reports.Select(r => $"{r.Batch}/{r.Steps}"));
        Assert.All(progress.Reports, r => Assert.Equal(ProgressPhase.Evaluate, r.Phase));
    }
}
