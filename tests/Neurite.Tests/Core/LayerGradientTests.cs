using Neurite.Activations;
using Neurite.Layers;

namespace Neurite.Tests.Core;

public class LayerGradientTests
{
    public static TheoryData<string> Activations() => new(ActivationFunction.KnownNames);

    [Theory]
    [MemberData(nameof(Activations))]
    public void Dense_gradients_match_finite_differences(string activation)
    {
        NeuriteRandom.SetSeed(3);
        var layer = new Dense(4, activation, inputShape: [5]);
        layer.Build([5]);
        var bias = layer.Parameters[1].Value.Span;
        for (int i = 0; i < bias.Length; i++) bias[i] = 0.1f * (i - 1.5f);
        var x = KinkFreeInput(layer, activation, new System.Random(7), 6, 5);
        GradientCheck.Layer(layer, x);
    }

    [Fact]
    public void Dense_without_bias_on_a_3d_input_applies_to_the_last_axis()
    {
        NeuriteRandom.SetSeed(4);
        var layer = new Dense(3, "tanh", useBias: false, inputShape: [2, 4]);
        layer.Build([2, 4]);
        Assert.Single(layer.Parameters);
        Assert.Equal([2, 3], layer.OutputShape);
        GradientCheck.Layer(layer, GradientCheck.RandomTensor(new System.Random(2), 1.0, 3, 2, 4));
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Activation_layer_gradients_match_finite_differences(string activation)
    {
        var layer = new Activation(activation, inputShape: [5]);
        layer.Build([5]);
        var rng = new System.Random(11);
        var x = Tensor.Zeros(4, 5);
        // Keep inputs away from the kinks of relu, hard_sigmoid and elu where differences are one-sided.
        for (int i = 0; i < x.Size; i++)
        {
            double v;
            do v = rng.NextDouble() * 6 - 3; while (Math.Abs(v) < 0.05 || Math.Abs(Math.Abs(v) - 2.5) < 0.05);
            x.Span[i] = (float)v;
        }
        GradientCheck.Layer(layer, x);
    }

    [Fact]
    public void Dropout_gradient_with_a_fixed_mask_matches_finite_differences()
    {
        var layer = new Dropout(0.5, inputShape: [6]);
        layer.Build([6]);
        var mask = Tensor.Zeros(3, 6);
        var rng = new System.Random(5);
        for (int i = 0; i < mask.Size; i++) mask.Span[i] = rng.NextDouble() < 0.5 ? 0f : 2f;
        layer.FixedMask = mask;
        GradientCheck.Layer(layer, GradientCheck.RandomTensor(rng, 1.0, 3, 6));
    }

    private static Tensor KinkFreeInput(Dense layer, string activation, System.Random rng, int rows, int cols)
    {
        // For activations with kinks, redraw until every pre-activation is clear of them by more than the step.
        for (int attempt = 0; ; attempt++)
        {
            var x = GradientCheck.RandomTensor(rng, 1.0, rows, cols);
            if (activation is not ("relu" or "hard_sigmoid" or "elu" or "selu")) return x;
            var z = new Dense(4, "linear", inputShape: [cols]);
            z.Build([cols]);
            z.SetWeights(layer.GetWeights());
            var pre = z.Forward(x, false).Span;
            bool clear = true;
            foreach (var v in pre) clear &= Math.Abs(v) > 0.05 && Math.Abs(Math.Abs(v) - 2.5) > 0.05;
            if (clear || attempt > 200) return x;
        }
    }
}

public class DropoutTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.1)]
    [InlineData(0.9)]
    public void Training_drops_the_rate_and_scales_the_rest_and_inference_is_the_identity(double rate)
    {
        NeuriteRandom.SetSeed(12);
        var layer = new Dropout(rate, inputShape: [1000]);
        layer.Build([1000]);
        var x = Tensor.Full(1f, 50, 1000);
        var y = layer.Forward(x, training: true).ToArray();
        float kept = (float)(1 / (1 - rate));
        Assert.All(y, v => Assert.True(v == 0f || v == kept, $"value {v}"));
        double dropped = y.Count(v => v == 0f) / (double)y.Length;
        // 50,000 Bernoulli draws: the standard error is below 0.0023.
        Assert.InRange(dropped, rate - 0.01, rate + 0.01);
        Assert.Equal(1.0, y.Average(v => (double)v), 1);
        Assert.Same(x, layer.Forward(x, training: false));
    }

    [Fact]
    public void Masks_differ_between_batches_and_repeat_with_the_seed()
    {
        float[][] Masks()
        {
            NeuriteRandom.SetSeed(3);
            var layer = new Dropout(0.5, inputShape: [64]);
            layer.Build([64]);
            var x = Tensor.Full(1f, 4, 64);
            return [layer.Forward(x, true).ToArray(), layer.Forward(x, true).ToArray()];
        }
        var a = Masks();
        var b = Masks();
        Assert.NotEqual(a[0], a[1]);
        Assert.Equal(a[0], b[0]);
        Assert.Equal(a[1], b[1]);
    }

    [Theory]
    [InlineData(13)]   // 39 values a batch: a ragged last byte of mask bits
    [InlineData(64)]
    public void Backward_multiplies_by_the_forward_passs_mask(int width)
    {
        NeuriteRandom.SetSeed(5);
        var layer = new Dropout(0.4, inputShape: [width]);
        layer.Build([width]);
        var ones = Tensor.Full(1f, 3, width);
        var mask = layer.Forward(ones, training: true).ToArray();
        var dy = Tensor.Zeros(3, width);
        for (int i = 0; i < dy.Size; i++) dy.Span[i] = i + 1;
        var dx = layer.Backward(dy).ToArray();
        for (int i = 0; i < dx.Length; i++) Assert.Equal((i + 1) * mask[i], dx[i]);
        Assert.Contains(mask, v => v == 0f);
        Assert.Contains(mask, v => v != 0f);
    }

    [Fact]
    public void A_smaller_batch_after_a_larger_one_gets_its_own_mask_and_a_gradient_of_the_wrong_size_is_refused()
    {
        NeuriteRandom.SetSeed(6);
        var layer = new Dropout(0.5, inputShape: [16], name: "drop");
        layer.Build([16]);
        layer.Forward(Tensor.Full(1f, 32, 16), training: true);
        var small = layer.Forward(Tensor.Full(1f, 8, 16), training: true).ToArray();
        var dx = layer.Backward(Tensor.Full(1f, 8, 16)).ToArray();
        Assert.Equal(small, dx);
        var error = Assert.Throws<NeuriteException>(() => layer.Backward(Tensor.Full(1f, 32, 16)));
        Assert.Contains("'drop'", error.Message);
        Assert.Contains("512", error.Message);
        Assert.Contains("128", error.Message);
        var large = layer.Forward(Tensor.Full(1f, 40, 16), training: true).ToArray();
        Assert.Equal(large, layer.Backward(Tensor.Full(1f, 40, 16)).ToArray());
    }

    [Fact]
    public void A_dropped_NaN_stays_NaN_as_in_Keras_where_the_mask_is_a_product()
    {
        NeuriteRandom.SetSeed(8);
        var layer = new Dropout(0.5, inputShape: [40]);
        layer.Build([40]);
        var ones = Tensor.Full(1f, 2, 40);
        NeuriteRandom.SetSeed(8);
        var probe = new Dropout(0.5, inputShape: [40]);
        probe.Build([40]);
        var mask = probe.Forward(ones, training: true).ToArray();
        var x = Tensor.Full(float.NaN, 2, 40);
        x.Span[0] = 3f;
        var y = layer.Forward(x, training: true).ToArray();
        Assert.All(y.Skip(1), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(3f * mask[0], y[0]);
    }
}

public class MaskGeneratorTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(61)]
    [InlineData(1000)]
    public void Bits_past_the_count_stay_clear_and_masking_matches_a_per_value_product(int count)
    {
        var generator = new Neurite.Backends.Cpu.Kernels.MaskGenerator(new System.Random(4));
        var bits = new byte[(count + 7) / 8 + 2];
        Array.Fill(bits, (byte)0xFF);
        generator.FillKeepBits(bits, count, 0.3);
        for (int i = count; i < 8 * ((count + 7) / 8); i++) Assert.Equal(0, (bits[i >> 3] >> (i & 7)) & 1);
        Assert.Equal(0xFF, bits[^1]);

        var input = new float[count];
        for (int i = 0; i < count; i++) input[i] = i % 5 - 2.5f;
        var output = new float[count];
        Neurite.Backends.Cpu.Kernels.MaskGenerator.MultiplyByMask(input, bits, 1.25f, output);
        for (int i = 0; i < count; i++)
        {
            bool kept = (bits[i >> 3] & (1 << (i & 7))) != 0;
            Assert.Equal(input[i] * (kept ? 1.25f : 0f), output[i]);
        }
    }

    [Fact]
    public void Keep_bits_follow_xoshiro128_starstar_lanes_seeded_from_System_Random()
    {
        // An independent scalar xoshiro128** (Blackman and Vigna) per SIMD lane, seeded as the generator
        // documents: four words per lane from the seed source, value i drawn by lane i mod width.
        const double rate = 0.35;
        const int count = 203;
        int width = System.Numerics.Vector<uint>.Count;
        var seedSource = new System.Random(21);
        var state = new uint[width, 4];
        for (int lane = 0; lane < width; lane++)
            do
            {
                for (int w = 0; w < 4; w++) state[lane, w] = (uint)seedSource.Next() ^ ((uint)seedSource.Next() << 16);
            }
            while ((state[lane, 0] | state[lane, 1] | state[lane, 2] | state[lane, 3]) == 0);
        uint threshold = (uint)Math.Round(rate * 4294967296.0);
        var expected = new bool[count];
        for (int i0 = 0; i0 < count; i0 += width)
            for (int lane = 0; lane < width; lane++)
            {
                uint s0 = state[lane, 0], s1 = state[lane, 1], s2 = state[lane, 2], s3 = state[lane, 3];
                uint draw = System.Numerics.BitOperations.RotateLeft(s1 * 5u, 7) * 9u;
                uint t = s1 << 9;
                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
                s3 = System.Numerics.BitOperations.RotateLeft(s3, 11);
                (state[lane, 0], state[lane, 1], state[lane, 2], state[lane, 3]) = (s0, s1, s2, s3);
                if (i0 + lane < count) expected[i0 + lane] = draw >= threshold;
            }

        var generator = new Neurite.Backends.Cpu.Kernels.MaskGenerator(new System.Random(21));
        var bits = new byte[(count + 7) / 8];
        generator.FillKeepBits(bits, count, rate);
        for (int i = 0; i < count; i++) Assert.Equal(expected[i], (bits[i >> 3] & (1 << (i & 7))) != 0);
    }

    [Fact]
    public void The_kept_share_follows_the_rate()
    {
        var generator = new Neurite.Backends.Cpu.Kernels.MaskGenerator(new System.Random(9));
        var bits = new byte[100_000 / 8];
        generator.FillKeepBits(bits, 100_000, 0.25);
        int kept = bits.Sum(b => System.Numerics.BitOperations.PopCount(b));
        // 100,000 draws: the standard error of the kept share is 0.0014.
        Assert.InRange(kept / 100_000.0, 0.74, 0.76);
    }
}
