using Neurite.Losses;

namespace Neurite.Tests.Core;

public class LossTests
{
    public static TheoryData<string> LossNames() => new(
        "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse", "mae", "huber");

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Loss_gradient_matches_finite_differences(string name)
    {
        var loss = Loss.Get(name);
        var rng = new System.Random(9);
        int batch = 4, width = 3;
        var pred = Tensor.Zeros(batch, width);
        Tensor truth;
        if (name == "sparse_categorical_crossentropy")
            truth = Tensor.FromArray(new float[] { 0, 2, 1, 2 }, batch);
        else
        {
            truth = Tensor.Zeros(batch, width);
            for (int b = 0; b < batch; b++)
                if (name.Contains("categorical")) truth[b, b % width] = 1;
                else for (int k = 0; k < width; k++) truth[b, k] = name == "binary_crossentropy" ? (float)rng.NextDouble() : (float)(rng.NextDouble() * 4 - 2);
        }
        for (int i = 0; i < pred.Size; i++)
        {
            // Predictions well inside (0, 1) for the probability losses, away from ties for MAE and the Huber kink.
            pred.Span[i] = name.Contains("crossentropy") ? (float)(0.15 + 0.7 * rng.NextDouble()) : truth.Span[Math.Min(i, truth.Size - 1)] + (float)((rng.Next(2) * 2 - 1) * (0.2 + rng.NextDouble()));
        }
        var weights = new float[] { 1f, 0.5f, 2f, 1.5f };
        var grad = new float[pred.Size];
        loss.Compute(pred, truth, grad, weights);
        GradientCheck.Compare(name, pred.Span, grad, () => loss.Compute(pred, truth, Span<float>.Empty, weights), 1e-3, 2e-3);
    }

    [Fact]
    public void Categorical_crossentropy_is_minus_log_of_the_true_class_probability()
    {
        var pred = Tensor.FromArray(new float[] { 0.7f, 0.2f, 0.1f, 0.25f, 0.25f, 0.5f }, 2, 3);
        var truth = Tensor.FromArray(new float[] { 1, 0, 0, 0, 0, 1 }, 2, 3);
        double expected = (-Math.Log(0.7) - Math.Log(0.5)) / 2;
        Assert.Equal(expected, Loss.Get("categorical_crossentropy").Compute(pred, truth, default), 6);
    }

    [Fact]
    public void Categorical_crossentropy_clips_a_zero_probability_to_epsilon_as_keras_does()
    {
        var pred = Tensor.FromArray(new float[] { 0f, 1f }, 1, 2);
        var truth = Tensor.FromArray(new float[] { 1, 0 }, 1, 2);
        Assert.Equal(-Math.Log(1e-7), Loss.Get("categorical_crossentropy").Compute(pred, truth, default), 3);
    }

    [Fact]
    public void Categorical_crossentropy_normalises_each_row_of_probabilities_to_sum_one()
    {
        // Keras divides y_pred by its row sum first: [1, 1, 2] is read as [0.25, 0.25, 0.5]. Unnormalised, the
        // true class's 2 would be clipped to 1 − ε and the loss would be ≈ 1e-7.
        var pred = Tensor.FromArray(new float[] { 1f, 1f, 2f, 0.1f, 0.3f, 0.1f }, 2, 3);
        var truth = Tensor.FromArray(new float[] { 0, 0, 1, 0, 1, 0 }, 2, 3);
        var gradient = new float[6];
        double loss = Loss.Get("categorical_crossentropy").Compute(pred, truth, gradient);
        Assert.Equal((-Math.Log(0.5) - Math.Log(0.6)) / 2, loss, 1e-6);
        // L = −log(p_c / S): ∂L/∂p_j = 1/S − δ_jc/p_c, halved for the batch mean.
        double[] expected = [0.25 / 2, 0.25 / 2, (0.25 - 0.5) / 2, 2.0 / 2, (2 - 1 / 0.3) / 2, 2.0 / 2];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], gradient[i], 1e-5);
    }

    [Fact]
    public void Cross_entropies_clip_probabilities_below_one_as_keras_does()
    {
        // A certain, correct prediction still costs −log(1 − ε) ≈ 1e-7 (Keras clips to [ε, 1 − ε]; in float32 the
        // upper bound 1 − 1e-7 rounds to 1 − 1.19e-7), and the clipped probability passes no gradient.
        var certain = Tensor.FromArray(new float[] { 0f, 1f, 0f }, 1, 3);
        var truth = Tensor.FromArray(new float[] { 0, 1, 0 }, 1, 3);
        var gradient = new float[3];
        double loss = Loss.Get("categorical_crossentropy").Compute(certain, truth, gradient);
        Assert.InRange(loss, 0.99e-7, 1.2e-7);
        Assert.Equal(0f, gradient[1]);
        Assert.InRange(Loss.Get("sparse_categorical_crossentropy").Compute(certain, Tensor.From(new[] { 1 }), default), 0.99e-7, 1.2e-7);

        // Binary: p = 1 against y = 0 costs −log(1 − (1 − ε)) = −log ε = 16.12 (15.94 with Keras's float32 bound), not ∞.
        var one = Tensor.FromArray(new float[] { 1f, 1f }, 2, 1);
        var labels = Tensor.FromArray(new float[] { 0f, 1f }, 2, 1);
        var binaryGradient = new float[2];
        double binary = Loss.Get("binary_crossentropy").Compute(one, labels, binaryGradient);
        Assert.InRange(binary * 2, 15.9, -Math.Log(1e-7) + 1e-3);
        Assert.Equal([0f, 0f], binaryGradient);
    }

    [Fact]
    public void Regression_losses_match_hand_computed_values()
    {
        var pred = Tensor.FromArray(new float[] { 1f, 3f, -2f, 0.5f }, 2, 2);
        var truth = Tensor.FromArray(new float[] { 0f, 1f, 0f, 0f }, 2, 2);
        // Differences 1, 2, -2, 0.5.
        Assert.Equal((0.5 * (1 + 4) + 0.5 * (4 + 0.25)) / 2, Loss.Get("mse").Compute(pred, truth, default), 6);
        Assert.Equal((0.5 * (1 + 2) + 0.5 * (2 + 0.5)) / 2, Loss.Get("mae").Compute(pred, truth, default), 6);
        // Huber δ=1: 0.5·1, 2−0.5, 2−0.5, 0.5·0.25
        Assert.Equal((0.5 * (0.5 + 1.5) + 0.5 * (1.5 + 0.125)) / 2, Loss.Get("huber").Compute(pred, truth, default), 6);
    }

    [Fact]
    public void Binary_crossentropy_matches_the_formula()
    {
        var pred = Tensor.FromArray(new float[] { 0.8f, 0.3f }, 2, 1);
        var truth = Tensor.FromArray(new float[] { 1f, 0f }, 2, 1);
        Assert.Equal((-Math.Log(0.8) - Math.Log(0.7)) / 2, Loss.Get("binary_crossentropy").Compute(pred, truth, default), 6);
    }

    [Fact]
    public void Unknown_loss_name_lists_the_known_ones()
    {
        var ex = Assert.Throws<NeuriteException>(() => Loss.Get("crossentropy"));
        Assert.Contains("'crossentropy'", ex.Message);
        Assert.Contains("categorical_crossentropy", ex.Message);
    }
}
