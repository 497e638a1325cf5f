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
        Neurite.Random.SetSeed(3);
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
        Neurite.Random.SetSeed(4);
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
        Neurite.Random.SetSeed(12);
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
            Neurite.Random.SetSeed(3);
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
}
