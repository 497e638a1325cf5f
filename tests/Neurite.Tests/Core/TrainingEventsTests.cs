using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Neurite.Callbacks;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

/// <summary>
/// Fit's training events (<see cref="TrainingEventSource"/>), which the bench's forecast cold child times the tool's
/// networks by: one FitBegin, a BatchBegin and a BatchEnd around each training batch with its epoch and step, one FitEnd,
/// all on the training thread and in that order; a listener in the process receives each while Fit waits.
/// </summary>
public class TrainingEventsTests
{
    private sealed class Recorder : EventListener
    {
        public ConcurrentQueue<(int Thread, string Name, string Payload)> Events { get; } = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == TrainingEventSource.SourceName) EnableEvents(source, EventLevel.Verbose);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e) =>
            Events.Enqueue((Environment.CurrentManagedThreadId, e.EventName ?? "", string.Join(",", e.Payload ?? [])));
    }

    /// <summary>Records, in order, each batch's callbacks as they run, to check the events enclose them.</summary>
    private sealed class BatchCallbacks(Recorder recorder) : Callback
    {
        public override void OnTrainBatchBegin(int batch, Logs logs) => recorder.Events.Enqueue((Environment.CurrentManagedThreadId, "callback begin", $"{batch}"));

        public override void OnTrainBatchEnd(int batch, Logs logs) => recorder.Events.Enqueue((Environment.CurrentManagedThreadId, "callback end", $"{batch}"));
    }

    [Fact]
    public void Fit_writes_its_begin_each_batchs_begin_and_end_around_the_batch_callbacks_and_its_end_on_the_training_thread()
    {
        NeuriteRandom.SetSeed(3);
        var model = new Sequential(new Dense(4, "relu", inputShape: [3]), new Dense(1)) { Output = TextWriter.Null };
        model.Compile("mse", new Adam());
        // 70 rows in batches of 32: steps of 32, 32 and 6 rows in each of 2 epochs, each validated on 10 rows.
        var (x, y) = (Tensor.Zeros(70, 3), Tensor.Zeros(70, 1));
        var (xv, yv) = (Tensor.Zeros(10, 3), Tensor.Zeros(10, 1));
        using var recorder = new Recorder();
        model.Fit(x, y, epochs: 2, batchSize: 32, validationData: (xv, yv), verbose: 0, callbacks: [new BatchCallbacks(recorder)]);

        int thread = Environment.CurrentManagedThreadId;
        var mine = recorder.Events.Where(e => e.Thread == thread).Select(e => $"{e.Name} {e.Payload}").ToArray();
        var expected = new List<string> { "FitBegin 2" };
        for (int epoch = 0; epoch < 2; epoch++)
            for (int step = 0; step < 3; step++)
                expected.AddRange([$"BatchBegin {epoch},{step}", $"callback begin {step}", $"callback end {step}", $"BatchEnd {epoch},{step}"]);
        expected.Add("FitEnd ");
        Assert.Equal(expected, mine);
    }
}
