using Neurite.Backends.Cpu.Kernels;
using Neurite.Layers;
using Neurite.Optimizers;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Core;

/// <summary>
/// A Dense kernel's Adam update made inside the backward pass, block by block as the weight-gradient product finishes
/// (<c>Sequential.PlanKernelUpdates</c>), against the same steps with every update in <c>Optimizer.Apply</c>
/// (<c>FuseKernelUpdates = false</c>): the same bits in weights, moments, gradients and losses, on every kernel path and
/// thread count, and only where its conditions hold.
/// </summary>
[Collection(AloneCollection.Name)]
public class FusedKernelUpdateTests
{
    public static TheoryData<KernelPath, int> PathsAndThreads()
    {
        var data = new TheoryData<KernelPath, int>();
        foreach (var path in KernelPaths.Supported())
            foreach (int threads in new[] { 1, 2 })
                data.Add(path, threads);
        return data;
    }

    private sealed record Trained(double[] Losses, float[][] Weights, float[][] Gradients, float[][] Slots, long Iterations, long FusedUpdates);

    /// <summary>Dense(units relu) → Dense(units tanh) → Dense(3), MSE, <paramref name="steps"/> TrainOnBatch calls on new batches.</summary>
    private static Trained Train(bool fuse, Optimizer optimizer, int features, int units, int batch, int steps = 4, bool freezeFirst = false, int minFusedValues = 0)
    {
        NeuriteRandom.SetSeed(41);
        var model = new Sequential(new Dense(units, "relu", inputShape: [features]), new Dense(units, "tanh"), new Dense(3)) { Output = TextWriter.Null };
        model.Layers[0].Trainable = !freezeFirst;
        model.Compile("mse", optimizer);
        model.FuseKernelUpdates = fuse;
        // The shapes here are small enough to test quickly; fuse them too, and split them over threads as large ones.
        model.MinFusedKernelValues = minFusedValues;
        model.MinSplitStepFlops = 0;
        var losses = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            var x = new Tensor(KernelPaths.RandomValues(batch * features, 100 + s), batch, features);
            var y = new Tensor(KernelPaths.RandomValues(batch * 3, 200 + s), batch, 3);
            losses[s] = model.TrainOnBatch(x, y);
        }
        var parameters = model.TrainableParameters;
        return new Trained(losses,
            model.GetWeights().Select(w => w.ToArray()).ToArray(),
            parameters.Select(p => p.Gradient.ToArray()).ToArray(),
            parameters.SelectMany(p => optimizer.GetSlots(p)).Select(s => (float[])s.Clone()).ToArray(),
            optimizer.Iterations, model.KernelsUpdatedInBackward);
    }

    private static void AssertSameBits(Trained expected, Trained actual, string what)
    {
        Assert.Equal(expected.Iterations, actual.Iterations);
        for (int s = 0; s < expected.Losses.Length; s++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected.Losses[s]) == BitConverter.DoubleToInt64Bits(actual.Losses[s]), $"{what}: loss {s} is {actual.Losses[s]}, unfused {expected.Losses[s]}");
        AssertArrays(expected.Weights, actual.Weights, what + ", weight");
        AssertArrays(expected.Gradients, actual.Gradients, what + ", gradient");
        AssertArrays(expected.Slots, actual.Slots, what + ", slot");
    }

    private static void AssertArrays(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
                if (BitConverter.SingleToInt32Bits(expected[i][j]) != BitConverter.SingleToInt32Bits(actual[i][j]))
                    Assert.Fail($"{what} {i}[{j}] is {actual[i][j]}, unfused {expected[i][j]}");
        }
    }

    private static void WithSettings(int threads, int blockFloats, Action body)
    {
        int savedThreads = Threading.MaxThreads, savedBlock = Gemm.FinishedBlockFloats;
        try
        {
            Threading.MaxThreads = threads;
            Gemm.FinishedBlockFloats = blockFloats;
            body();
        }
        finally
        {
            Threading.MaxThreads = savedThreads;
            Gemm.FinishedBlockFloats = savedBlock;
        }
    }

    // (features, units, batch): one K block; N ragged (100) with two K blocks (batch 300); a first layer too short
    // (20 rows of dW) for two threads to split its rows, so that one is updated in Apply while the second is fused.
    private static readonly (int Features, int Units, int Batch)[] Shapes = [(40, 96, 64), (33, 100, 300), (20, 128, 64)];

    [Theory]
    [MemberData(nameof(PathsAndThreads))]
    public void Adam_updated_inside_the_backward_pass_gives_the_bits_of_the_update_after_it(KernelPath path, int threads)
    {
        using var _ = KernelPaths.Force(path);
        // The default block (one per product at these sizes) and blocks of one or two register tiles (many per product).
        foreach (int block in new[] { Gemm.FinishedBlockFloats, 300 })
            WithSettings(threads, block, () =>
            {
                foreach (var (features, units, batch) in Shapes)
                    foreach (bool amsgrad in new[] { false, true })
                    {
                        string what = $"{path}, {threads} threads, block {block}, F={features} U={units} B={batch}, amsgrad {amsgrad}";
                        var unfused = Train(false, new Adam(learningRate: 0.01, amsgrad: amsgrad), features, units, batch);
                        var fused = Train(true, new Adam(learningRate: 0.01, amsgrad: amsgrad), features, units, batch);
                        AssertSameBits(unfused, fused, what);
                        Assert.Equal(0, unfused.FusedUpdates);
                        // Both hidden kernels every step, except the short first layer's where two threads split its columns;
                        // Dense(3)'s product is small and never fused.
                        bool firstSplitsColumns = threads == 2 && path != KernelPath.Scalar && features == 20;
                        Assert.True((firstSplitsColumns ? 1 : 2) * 4 == fused.FusedUpdates, $"{what}: {fused.FusedUpdates} kernels updated in backward in 4 steps");
                    }
            });
    }

    [Fact]
    public void Fused_steps_on_two_threads_give_the_bits_of_one()
    {
        Trained? one = null;
        foreach (int threads in new[] { 1, 2 })
            WithSettings(threads, 300, () =>
            {
                var trained = Train(true, new Adam(learningRate: 0.01), 40, 96, 64);
                Assert.Equal(8, trained.FusedUpdates);
                if (one is null) one = trained;
                else AssertSameBits(one, trained, "two threads against one");
            });
    }

    [Fact]
    public void An_update_that_clips_or_is_not_elementwise_stays_after_the_backward_pass()
    {
        Optimizer[] optimizers =
        [
            new Adam(clipNorm: 1e30), new Adam(clipValue: 1e30), new Adam(globalClipNorm: 1e30),
            new Sgd(learningRate: 0.01, momentum: 0.9), new RmsProp(), new Adagrad(),
        ];
        foreach (var optimizer in optimizers)
        {
            var trained = Train(true, optimizer, 40, 96, 64);
            Assert.True(trained.FusedUpdates == 0, $"{optimizer.Name} (clipnorm {optimizer.ClipNorm}, clipvalue {optimizer.ClipValue}, global {optimizer.GlobalClipNorm}) was fused");
            Assert.Equal(4, trained.Iterations);
        }
    }

    [Fact]
    public void Kernels_below_the_size_where_fusing_pays_are_updated_after_the_backward_pass()
    {
        // 40 × 96 and 96 × 96 kernels: with the bound at 96 × 96 values only the second layer's is fused.
        var trained = Train(true, new Adam(learningRate: 0.01), 40, 96, 64, minFusedValues: 96 * 96);
        Assert.Equal(4, trained.FusedUpdates);
        AssertSameBits(Train(false, new Adam(learningRate: 0.01), 40, 96, 64), trained, "bound at 96 x 96");
    }

    [Fact]
    public void A_warm_fused_step_allocates_nothing()
    {
        WithSettings(1, 300, () =>
        {
            NeuriteRandom.SetSeed(41);
            var model = new Sequential(new Dense(96, "relu", inputShape: [40]), new Dense(96, "tanh"), new Dense(3)) { Output = TextWriter.Null };
            model.Compile("mse", new Adam());
            model.MinFusedKernelValues = 0;
            var x = new Tensor(KernelPaths.RandomValues(64 * 40, 1), 64, 40);
            var y = new Tensor(KernelPaths.RandomValues(64 * 3, 2), 64, 3);
            for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) model.TrainOnBatch(x, y);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(2 * 23, model.KernelsUpdatedInBackward);
        });
    }

    [Fact]
    public void A_frozen_layer_is_neither_fused_nor_updated()
    {
        NeuriteRandom.SetSeed(41);
        var initial = new Sequential(new Dense(96, "relu", inputShape: [40]), new Dense(96, "tanh"), new Dense(3)).GetWeights()[0].ToArray();
        var fused = Train(true, new Adam(learningRate: 0.01), 40, 96, 64, freezeFirst: true);
        var unfused = Train(false, new Adam(learningRate: 0.01), 40, 96, 64, freezeFirst: true);
        AssertSameBits(unfused, fused, "first layer frozen");
        Assert.Equal(4, fused.FusedUpdates);
        Assert.Equal(initial, fused.Weights[0]);
    }
}
