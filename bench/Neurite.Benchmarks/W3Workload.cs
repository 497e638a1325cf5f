using Neurite.Kernels;
using Neurite.Layers;

namespace Neurite.Benchmarks;

/// <summary>
/// W3 of PERFORMANCE.md: the tutorial's stacked stateful LSTM, one epoch = 40 batches of 50 windows of
/// (10, 2), Fit(epochs: 1) then ResetStates() as the tutorial loops, on 1 and 2 threads.
/// </summary>
internal static class W3Workload
{
    private const double GflopPerEpoch = 8.33, TorchSharpMs = 104;

    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        var rng = new System.Random(1);
        var x = Tensor.Zeros(2000, 10, 2);
        var y = Tensor.Zeros(2000, 1);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        Console.WriteLine("W3 stateful LSTM(100, seq) -> Dropout(0.5) -> LSTM(50) -> Dropout(0.5) -> Dense(1), MAE, Adam, 2000 samples, batch 50");
        foreach (int threads in new[] { 1, 2 })
        {
            Threading.MaxThreads = threads;
            Neurite.Random.SetSeed(17);
            var model = new Sequential(
                new Lstm(100, returnSequences: true, stateful: true, inputShape: [10, 2], batchSize: 50),
                new Dropout(0.5),
                new Lstm(50, stateful: true),
                new Dropout(0.5),
                new Dense(1)) { Output = TextWriter.Null };
            model.Compile("mae", "adam");
            var (median, best) = Harness.Time(() =>
            {
                model.Fit(x, y, batchSize: 50, epochs: 1, verbose: 0, shuffle: false);
                model.ResetStates();
            }, repetitions: quick ? 5 : 15, repetitionSeconds: 0.001, warmupSeconds: quick ? 0.5 : 2);
            double ms = median * 1000, bestMs = best * 1000;
            Console.WriteLine($"  {threads} thread(s): {ms:0.0} ms per epoch median, {bestMs:0.0} best; {GflopPerEpoch / median:0.0} GFLOP/s; TorchSharp {TorchSharpMs} ms is {TorchSharpMs / ms:0.00}x our median; 2000 epochs ≈ {ms * 2:0} s");
            var xb = x.Slice(0, 50);
            var yb = y.Slice(0, 50);
            Console.WriteLine($"    bytes allocated per training step once warm: {Harness.AllocatedBytesPerCall(() => model.TrainOnBatch(xb, yb), 50):0}");
        }
        Threading.MaxThreads = 1;
    }
}
