using Neurite.Backends.Cpu.Kernels;
using Neurite.Layers;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Core;

/// <summary>
/// The training step's thread rule (<c>Sequential.StepStaysOnOneThread</c>): a layer-by-layer step of fewer FLOPs than
/// <c>MinSplitStepFlops</c> runs every kernel on the calling thread, with the bits of one thread and of a split step.
/// </summary>
[Collection(AloneCollection.Name)]
public class StepThreadRuleTests
{
    private static void WithThreads(int threads, Action body)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = threads;
        body();
    }

    /// <summary>Dense(units relu) → Dense(units relu) → Dense(1) on <paramref name="features"/> inputs, MSE, Adam: the sweep's MLP.</summary>
    private static Sequential Mlp(int features, int units)
    {
        NeuriteRandom.SetSeed(23);
        var model = new Sequential(new Dense(units, "relu", inputShape: [features]), new Dense(units, "relu"), new Dense(1)) { Output = TextWriter.Null };
        model.Compile("mse", "adam");
        return model;
    }

    private static (Tensor X, Tensor Y) Batch(int rows, int features, int seed) =>
        (new Tensor(KernelPaths.RandomValues(rows * features, seed), rows, features), new Tensor(KernelPaths.RandomValues(rows, seed + 1), rows, 1));

    [Fact]
    public void The_rule_counts_six_flops_per_weight_use_and_row_against_the_threshold()
    {
        WithThreads(2, () =>
        {
            // U=128 on 128 inputs: (128·128 + 128) · 2 + 128 + 1 = 33153 multiply-adds a row.
            var small = Mlp(128, 128);
            small.Build([128]);
            // 6 · 64 · 33153 = 12 730 752 FLOPs: under the default 24 M; twice the rows (25 461 504) are over it.
            Assert.True(small.StepStaysOnOneThread(64));
            Assert.False(small.StepStaysOnOneThread(128));
            // U=512 on 512 inputs, 256 rows: 6 · 256 · ((512·512 + 512) · 2 + 513) = 807 667 200 FLOPs.
            var large = Mlp(512, 512);
            large.Build([512]);
            Assert.False(large.StepStaysOnOneThread(256));
            // The threshold is exclusive: exactly 64 rows' FLOPs splits 64 rows and keeps 63.
            small.MinSplitStepFlops = 6.0 * 64 * 33153;
            Assert.False(small.StepStaysOnOneThread(64));
            Assert.True(small.StepStaysOnOneThread(63));
            // A recurrent layer uses its weights at every time step: LSTM(8) over 10 steps of 4 features has
            // 4·8·(4 + 8) + 4·8 = 416 weights, 4160 multiply-adds a row, and Dense(1) 9 more.
            NeuriteRandom.SetSeed(5);
            var recurrent = new Sequential(new Lstm(8, inputShape: [10, 4]), new Dense(1)) { Output = TextWriter.Null };
            recurrent.Compile("mse", "adam");
            recurrent.Build([10, 4]);
            recurrent.MinSplitStepFlops = 6.0 * 100 * 4169;
            Assert.False(recurrent.StepStaysOnOneThread(100));
            Assert.True(recurrent.StepStaysOnOneThread(99));
        });
        // One thread has nothing to keep.
        WithThreads(1, () =>
        {
            var small = Mlp(128, 128);
            small.Build([128]);
            Assert.False(small.StepStaysOnOneThread(64));
        });
    }

    [Fact]
    public void A_small_step_on_two_threads_forks_nothing_and_a_split_one_does()
    {
        WithThreads(2, () =>
        {
            bool savedInstrument = WorkerPool.Instrument;
            try
            {
                foreach (bool split in new[] { false, true })
                {
                    var model = Mlp(128, 128);
                    if (split) model.MinSplitStepFlops = 0;
                    var (x, y) = Batch(64, 128, 3);
                    model.TrainOnBatch(x, y);
                    WorkerPool.ResetCounters();
                    WorkerPool.Instrument = true;
                    model.TrainOnBatch(x, y);
                    WorkerPool.Instrument = false;
                    // Split: the two hidden layers' forward products, dx of the second, both dW, and both kernels' Adam
                    // (the scalar path's products never split).
                    Assert.Equal(!split ? 0 : KernelSelector.Current == KernelPath.Scalar ? 2 : 7, WorkerPool.Forks);
                    Assert.False(WorkerPool.InsidePart, "the step left its thread kept");
                }
            }
            finally
            {
                WorkerPool.Instrument = savedInstrument;
            }
        });
    }

    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_step_kept_on_one_thread_gives_the_bits_of_one_thread_and_of_a_split_step(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        float[][] Train(int threads, bool split)
        {
            float[][] weights = [];
            WithThreads(threads, () =>
            {
                var model = Mlp(128, 128);
                if (split) model.MinSplitStepFlops = 0;
                for (int step = 0; step < 3; step++)
                {
                    var (x, y) = Batch(64, 128, 10 * step);
                    model.TrainOnBatch(x, y);
                }
                weights = model.GetWeights().Select(w => w.ToArray()).ToArray();
            });
            return weights;
        }
        var one = Train(1, split: false);
        foreach (var (name, other) in new[] { ("kept on one of two threads", Train(2, split: false)), ("split over two threads", Train(2, split: true)) })
            for (int i = 0; i < one.Length; i++)
                for (int j = 0; j < one[i].Length; j++)
                    if (BitConverter.SingleToInt32Bits(one[i][j]) != BitConverter.SingleToInt32Bits(other[i][j]))
                        Assert.Fail($"{path}, {name}: weight {i}[{j}] is {other[i][j]}, one thread {one[i][j]}");
    }
}
