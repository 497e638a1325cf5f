using System.Diagnostics;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Tests.Core;

/// <summary>Runs its tests after every other test and alone: they read process-wide settings and worker threads.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone";
}

/// <summary>
/// A warm training step on two threads allocates nothing on either thread. The caller's counter is read
/// directly; the kernel worker's is read on the worker itself, by a probe run through the same pool
/// before and after the measured steps.
/// </summary>
[Collection(AloneCollection.Name)]
public class TwoThreadAllocationTests
{
    /// <summary>
    /// A fork of two parts that records, on each thread that runs one, its id and its allocation counter. Each
    /// part waits until both have started, so the caller cannot run both and the pool's worker runs the other.
    /// </summary>
    private sealed class AllocationProbe : IParallelWork
    {
        public readonly int[] ThreadIds = new int[2];
        public readonly long[] Bytes = new long[2];
        private int _started;

        public void Reset() => _started = 0;

        public void Run(int part)
        {
            ThreadIds[part] = Environment.CurrentManagedThreadId;
            Bytes[part] = GC.GetAllocatedBytesForCurrentThread();
            Interlocked.Increment(ref _started);
            long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
            while (Volatile.Read(ref _started) < 2 && Stopwatch.GetTimestamp() < deadline) Thread.Yield();
        }

        /// <summary>The worker thread's id and allocation counter, read on it.</summary>
        public (int ThreadId, long Bytes) ReadWorker()
        {
            Reset();
            WorkerPool.Run(this, 2, 2);
            int caller = Environment.CurrentManagedThreadId;
            int part = ThreadIds[0] != caller ? 0 : 1;
            Assert.True(ThreadIds[part] != caller, "the probe's second part never reached a worker thread");
            return (ThreadIds[part], Bytes[part]);
        }
    }

    public static TheoryData<string> Models => ["stacked_lstm_in_halves", "mlp"];

    [Theory]
    [MemberData(nameof(Models))]
    public void A_warm_training_step_on_two_threads_allocates_nothing_on_either(string name)
    {
        int savedThreads = Threading.MaxThreads;
        bool savedInstrument = WorkerPool.Instrument;
        try
        {
            Threading.MaxThreads = 2;
            var (model, x, y) = Create(name);
            // Warm both threads until a stretch of steps leaves the worker's allocation counter unchanged. Which parts the
            // worker runs depends on the timing (on a busy machine the caller may claim every part of many steps), and a
            // worker sizes its per-thread packing space the first time it runs a part that needs more (a one-time
            // allocation, not a step's): a fixed warm-up could end before it had run the largest part (CI failed so:
            // 131160 bytes). A step that allocates every time keeps the counter moving, and the measurement below fails.
            WorkerPool.Instrument = true;
            for (int warm = 0; warm < 3; warm++) model.TrainOnBatch(x, y);
            var probe = new AllocationProbe();
            probe.ReadWorker(); // warms the probe's own path
            for (int stretch = 0; stretch < 20; stretch++)
            {
                WorkerPool.ResetCounters();
                var (_, bytesBefore) = probe.ReadWorker();
                long partsBefore = WorkerPool.PartsByWorkers;
                for (int step = 0; step < 20 || (WorkerPool.PartsByWorkers - partsBefore < 40 && step < 5000); step++) model.TrainOnBatch(x, y);
                var (_, bytesAfter) = probe.ReadWorker();
                if (bytesAfter == bytesBefore && WorkerPool.PartsByWorkers - partsBefore >= 40) break;
            }

            WorkerPool.ResetCounters();
            WorkerPool.Instrument = true;
            var (workerBefore, workerBytesBefore) = probe.ReadWorker();
            long probeParts = WorkerPool.PartsByWorkers;
            long callerBefore = GC.GetAllocatedBytesForCurrentThread();
            // The caller claims any part the worker has not yet taken, and on a busy machine the worker often comes
            // late: train until it has run a few parts of the steps, so that its counter covers real work.
            int steps = 0;
            while (steps < 20 || (WorkerPool.PartsByWorkers - probeParts < 5 && steps < 5000))
            {
                model.TrainOnBatch(x, y);
                steps++;
            }
            long callerAllocated = GC.GetAllocatedBytesForCurrentThread() - callerBefore;
            long workerParts = WorkerPool.PartsByWorkers - probeParts;
            var (workerAfter, workerBytesAfter) = probe.ReadWorker();

            Assert.True(callerAllocated == 0, $"{name}: the calling thread allocated {callerAllocated} bytes in {steps} steps");
            Assert.Equal(workerBefore, workerAfter);
            Assert.True(workerParts > 0, $"{name}: in {steps} steps the worker ran no part, so its counter proves nothing");
            Assert.True(workerBytesAfter == workerBytesBefore,
                $"{name}: the worker thread allocated {workerBytesAfter - workerBytesBefore} bytes running {workerParts} parts of {steps} steps");
        }
        finally
        {
            WorkerPool.Instrument = savedInstrument;
            Threading.MaxThreads = savedThreads;
        }
    }

    private static (Sequential Model, Tensor X, Tensor Y) Create(string name)
    {
        NeuriteRandom.SetSeed(7);
        var rng = new System.Random(4);
        if (name == "mlp")
        {
            var mlp = new Sequential(new Dense(256, "relu", inputShape: [128]), new Dropout(0.2), new Dense(64, "relu"), new Dense(4, "softmax"))
            { Output = TextWriter.Null };
            mlp.Compile("categorical_crossentropy", "adam", ["accuracy"]);
            // Split over both threads whatever the step rule's threshold: the worker's side is what this test measures.
            mlp.MinSplitStepFlops = 0;
            var xm = Tensor.Zeros(256, 128);
            var ym = Tensor.Zeros(256, 4);
            for (int i = 0; i < xm.Size; i++) xm.Span[i] = (float)(rng.NextDouble() * 2 - 1);
            for (int i = 0; i < 256; i++) ym[i, i % 4] = 1;
            return (mlp, xm, ym);
        }
        var model = new Sequential(
            new Lstm(6, returnSequences: true, stateful: true, inputShape: [5, 3], batchSize: 20), new Dropout(0.5),
            new Lstm(4, stateful: true), new Dropout(0.5), new Dense(2))
        { Output = TextWriter.Null };
        model.Compile("mse", "adam", ["mae"]);
        var x = Tensor.Zeros(20, 5, 3);
        var y = Tensor.Zeros(20, 2);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        return (model, x, y);
    }
}
