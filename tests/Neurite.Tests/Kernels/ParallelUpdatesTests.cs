using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Layers;

namespace Neurite.Tests.Kernels;

/// <summary>
/// The optimizers' updates split into ranges over threads give the bits of one pass over the whole weight, for
/// lengths that do not divide into the parts or the vector width, and a model trained on two threads the bits of one.
/// </summary>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class ParallelUpdatesTests
{
    private static readonly int[] Lengths = [1, 63, 100, 2 * ParallelUpdates.MinElementsPerPart, 2 * ParallelUpdates.MinElementsPerPart + 1, 40_001, 3 * 8192 + 17];
    private static readonly int[] PartCounts = [2, 3, 5];

    [Fact]
    public void Ranges_cover_every_element_once_in_order_with_aligned_starts()
    {
        foreach (int length in Lengths)
            foreach (int parts in PartCounts)
            {
                int next = 0;
                for (int part = 0; part < parts; part++)
                {
                    var (start, count) = ParallelUpdates.Range(length, part, parts);
                    Assert.Equal(next, start);
                    Assert.True(count >= 0, $"length {length}, part {part} of {parts}: {count} elements");
                    Assert.Equal(0, start % ParallelUpdates.Alignment);
                    next = start + count;
                }
                Assert.Equal(length, next);
            }
    }

    [Fact]
    public void A_weight_is_split_only_when_each_part_gets_enough_elements()
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = 2;
        Assert.Equal(1, ParallelUpdates.Parts(2 * ParallelUpdates.MinElementsPerPart - 1));
        Assert.Equal(2, ParallelUpdates.Parts(2 * ParallelUpdates.MinElementsPerPart));
        Assert.Equal(2, ParallelUpdates.Parts(100 * ParallelUpdates.MinElementsPerPart));
        Threading.MaxThreads = 1;
        Assert.Equal(1, ParallelUpdates.Parts(100 * ParallelUpdates.MinElementsPerPart));
    }

    /// <summary>Runs <paramref name="update"/> (given the part count and the weight and slot arrays) three steps with new
    /// gradients, split and in one pass, on two threads, and compares every array bit for bit.</summary>
    private static void AssertSplitMatchesOnePass(string what, int slots, Action<int, float[], float[], float[][]> update)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = 2;
        foreach (int length in Lengths)
            foreach (int parts in PartCounts)
            {
                var whole = KernelPaths.RandomValues(length, length + parts);
                var split = (float[])whole.Clone();
                var wholeSlots = new float[slots][];
                var splitSlots = new float[slots][];
                for (int s = 0; s < slots; s++)
                {
                    // Positive slot values keep the roots real (Adagrad's and RMSprop's accumulators start positive).
                    wholeSlots[s] = KernelPaths.RandomValues(length, 10 * s + length).Select(Math.Abs).ToArray();
                    splitSlots[s] = (float[])wholeSlots[s].Clone();
                }
                for (int step = 0; step < 3; step++)
                {
                    var gradient = KernelPaths.RandomValues(length, 1000 * step + length, scale: 0.1f);
                    update(1, whole, gradient, wholeSlots);
                    update(parts, split, gradient, splitSlots);
                }
                Assert.True(whole.AsSpan().SequenceEqual(split), $"{what}: weights differ at length {length} in {parts} parts");
                for (int s = 0; s < slots; s++)
                    Assert.True(wholeSlots[s].AsSpan().SequenceEqual(splitSlots[s]), $"{what}: slot {s} differs at length {length} in {parts} parts");
            }
    }

    [Fact]
    public void Adam_in_ranges_matches_one_pass_bit_for_bit() =>
        AssertSplitMatchesOnePass("Adam", 2, (parts, w, g, s) => ParallelUpdates.Adam(parts, w, g, s[0], s[1], 0.01f, 0.1f, 0.001f, 1e-7f));

    [Fact]
    public void Amsgrad_in_ranges_matches_one_pass_bit_for_bit() =>
        AssertSplitMatchesOnePass("AMSGrad", 3, (parts, w, g, s) => ParallelUpdates.Amsgrad(parts, w, g, s[0], s[1], s[2], 0.01f, 0.1f, 0.001f, 1e-7f));

    [Fact]
    public void Sgd_in_ranges_matches_one_pass_bit_for_bit()
    {
        AssertSplitMatchesOnePass("SGD", 0, (parts, w, g, s) => ParallelUpdates.Sgd(parts, w, g, default, 0.01f, 0f, false));
        AssertSplitMatchesOnePass("SGD momentum", 1, (parts, w, g, s) => ParallelUpdates.Sgd(parts, w, g, s[0], 0.01f, 0.9f, false));
        AssertSplitMatchesOnePass("SGD Nesterov", 1, (parts, w, g, s) => ParallelUpdates.Sgd(parts, w, g, s[0], 0.01f, 0.9f, true));
    }

    [Fact]
    public void RmsProp_in_ranges_matches_one_pass_bit_for_bit()
    {
        AssertSplitMatchesOnePass("RMSprop", 3, (parts, w, g, s) => ParallelUpdates.RmsProp(parts, w, g, s[0], s[1], s[2], 0.001f, 0.9f, 1e-7f, 0f, false));
        AssertSplitMatchesOnePass("RMSprop centered momentum", 3, (parts, w, g, s) => ParallelUpdates.RmsProp(parts, w, g, s[0], s[1], s[2], 0.001f, 0.9f, 1e-7f, 0.5f, true));
    }

    [Fact]
    public void Adagrad_in_ranges_matches_one_pass_bit_for_bit() =>
        AssertSplitMatchesOnePass("Adagrad", 1, (parts, w, g, s) => ParallelUpdates.Adagrad(parts, w, g, s[0], 0.01f, 1e-7f));

    [Fact]
    public void A_short_slot_is_refused_before_any_range_runs()
    {
        var value = new float[20_000];
        var error = Assert.Throws<ArgumentException>(() => ParallelUpdates.Adam(2, value, new float[20_000], new float[20_000], new float[19_999], 0.01f, 0.1f, 0.001f, 1e-7f));
        Assert.Contains("19999", error.Message);
        Assert.All(value, x => Assert.Equal(0f, x));
    }

    public static TheoryData<string> Optimizers => ["adam", "amsgrad", "sgd_momentum", "rmsprop", "adagrad"];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void An_mlp_trained_on_two_threads_gets_the_weights_of_one_thread(string optimizer)
    {
        // Dense(131) on 131 features: a 17161-element kernel, split in two on two threads; 300 rows of 131 split the layers' passes.
        float[] Train(int threads)
        {
            using var keptThreads = KernelPaths.KeepMaxThreads();
            Threading.MaxThreads = threads;
            NeuriteRandom.SetSeed(4);
            var model = new Sequential(new Dense(131, "relu", inputShape: [131]), new Dense(131, "tanh"), new Dense(2));
            model.Output = TextWriter.Null;
            Neurite.Optimizers.Optimizer chosen = optimizer switch
            {
                "adam" => new Neurite.Optimizers.Adam(0.01),
                "amsgrad" => new Neurite.Optimizers.Adam(0.01, amsgrad: true),
                "sgd_momentum" => new Neurite.Optimizers.Sgd(0.05, momentum: 0.9),
                "rmsprop" => new Neurite.Optimizers.RmsProp(0.01, momentum: 0.3, centered: true),
                _ => new Neurite.Optimizers.Adagrad(0.05),
            };
            model.Compile("mse", chosen);
            // Split over both threads whatever the step rule's threshold.
            model.MinSplitStepFlops = 0;
            var x = Tensor.Zeros(300, 131);
            var y = Tensor.Zeros(300, 2);
            var random = new System.Random(9);
            for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(random.NextDouble() * 2 - 1);
            for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(random.NextDouble() * 2 - 1);
            for (int step = 0; step < 4; step++) model.TrainOnBatch(x, y);
            return model.Layers.SelectMany(l => l.GetWeights()).SelectMany(t => t.Span.ToArray()).ToArray();
        }

        var one = Train(1);
        var two = Train(2);
        Assert.Equal(one.Length, two.Length);
        Assert.True(one.AsSpan().SequenceEqual(two), $"{optimizer}: two threads' weights differ from one thread's");
    }
}
