using Neurite.Activations;
using Neurite.Initializers;
using Neurite.Losses;
using Neurite.Metrics;

namespace Neurite.Tests.Core;

/// <summary>Values computed by hand from Keras's definitions.</summary>
public class KerasDefinitionTests
{
    [Theory]
    [InlineData("relu", -1.0, 0.0)]
    [InlineData("relu", 2.0, 2.0)]
    [InlineData("sigmoid", 2.0, 0.88079708)]      // 1/(1+e^-2)
    [InlineData("hard_sigmoid", 1.0, 0.7)]        // Keras 2: 0.2·1 + 0.5
    [InlineData("hard_sigmoid", 3.0, 1.0)]
    [InlineData("hard_sigmoid", -3.0, 0.0)]
    [InlineData("tanh", 0.5, 0.46211716)]
    [InlineData("elu", -1.0, -0.63212056)]       // e^-1 − 1
    [InlineData("selu", -1.0, -1.11133074)]      // 1.0507·1.67326·(e^-1 − 1)
    [InlineData("selu", 2.0, 2.10140197)]
    [InlineData("softplus", 0.0, 0.69314718)]    // ln 2
    [InlineData("softplus", 30.0, 30.0)]
    [InlineData("swish", 1.0, 0.73105858)]       // 1·sigmoid(1)
    [InlineData("gelu", 1.0, 0.84134475)]        // Φ(1)
    [InlineData("gelu", -2.0, -0.04550026)]      // −2·Φ(−2)
    [InlineData("linear", -7.5, -7.5)]
    public void Activation_values(string name, double z, double expected)
    {
        var a = new float[1];
        ActivationFunction.Get(name).Forward([(float)z], a, 1);
        Assert.Equal(expected, a[0], 5);
    }

    [Fact]
    public void Softmax_normalises_each_row_stably()
    {
        var a = new float[6];
        ActivationFunction.Get("softmax").Forward([1f, 2f, 3f, 1000f, 1000f, 1000f], a, 3);
        Assert.Equal(0.09003057, a[0], 6);
        Assert.Equal(0.24472847, a[1], 6);
        Assert.Equal(0.66524096, a[2], 6);
        Assert.All(a[3..], v => Assert.Equal(1.0 / 3, v, 6));
    }

    [Fact]
    public void Initializers_follow_keras_variance_scaling()
    {
        var rng = new System.Random(4);
        var values = new float[200 * 100];
        int[] shape = [200, 100];
        Initializer.Get("he_uniform").Fill(values, shape, rng);
        double limit = Math.Sqrt(6.0 / 200);
        Assert.All(values, v => Assert.InRange(v, -limit, limit));
        Initializer.Get("lecun_uniform").Fill(values, shape, rng);
        Assert.All(values, v => Assert.InRange(v, -Math.Sqrt(3.0 / 200), Math.Sqrt(3.0 / 200)));
        // he_normal: truncated at two standard deviations of the untruncated normal, variance 2/fan_in overall.
        Initializer.Get("he_normal").Fill(values, shape, rng);
        double std = Math.Sqrt(2.0 / 200) / 0.87962566103423978;
        Assert.All(values, v => Assert.InRange(v, -2 * std - 1e-6, 2 * std + 1e-6));
        Assert.Equal(2.0 / 200, values.Average(v => (double)v * v), 3);
        new RandomNormal().Fill(values, shape, rng);
        Assert.Equal(0.05 * 0.05, values.Average(v => (double)v * v), 4);
        new Constant(0.25).Fill(values, shape, rng);
        Assert.All(values, v => Assert.Equal(0.25f, v));
    }

    [Theory]
    [InlineData(6, 4)]
    [InlineData(4, 6)]
    [InlineData(50, 200)]
    public void Orthogonal_initializer_gives_orthonormal_rows_or_columns(int rows, int cols)
    {
        var w = new float[rows * cols];
        new Orthogonal().Fill(w, [rows, cols], new System.Random(5));
        // The smaller dimension's vectors are orthonormal: WᵀW = I (rows ≥ cols) or WWᵀ = I.
        int n = Math.Min(rows, cols);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int p = 0; p < Math.Max(rows, cols); p++)
                    dot += rows >= cols ? w[p * cols + i] * w[p * cols + j] : w[i * cols + p] * w[j * cols + p];
                Assert.Equal(i == j ? 1.0 : 0.0, dot, 4);
            }
    }

    [Fact]
    public void Accuracy_is_chosen_from_the_loss_and_output_width_as_keras_does()
    {
        Assert.IsType<CategoricalAccuracy>(Metric.Get("accuracy", new CategoricalCrossentropy(), 3));
        Assert.IsType<SparseCategoricalAccuracy>(Metric.Get("accuracy", new SparseCategoricalCrossentropy(), 3));
        Assert.IsType<BinaryAccuracy>(Metric.Get("acc", new BinaryCrossentropy(), 1));
        Assert.IsType<BinaryAccuracy>(Metric.Get("accuracy", new MeanSquaredError(), 1));
        Assert.Equal("acc", Metric.Get("acc", new BinaryCrossentropy(), 1).Name);
    }

    [Fact]
    public void Classification_metrics_match_hand_counts()
    {
        float[] pred = [0.9f, 0.2f, 0.6f, 0.4f];
        float[] truth = [1, 0, 0, 1];
        // TP = 1 (0.9), FP = 1 (0.6), FN = 1 (0.4), TN = 1 (0.2).
        Assert.Equal(0.5, Eval(new Precision(), pred, truth), 9);
        Assert.Equal(0.5, Eval(new Recall(), pred, truth), 9);
        Assert.Equal(0.5, Eval(new BinaryAccuracy(), pred, truth), 9);
        // ROC AUC of scores (0.1, 0.4 | 0.35, 0.8) for labels (0, 0 | 1, 1): 3 of 4 pairs ordered → 0.75.
        Assert.Equal(0.75, Eval(new Auc(), [0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]), 6);
        Assert.Equal(1.0, Eval(new Auc(), [0.1f, 0.2f, 0.7f, 0.8f], [0, 0, 1, 1]), 6);
    }

    [Fact]
    public void Regression_metrics_match_hand_computation()
    {
        float[] pred = [1, 2, 3, 4];
        float[] truth = [1, 1, 1, 1];
        Assert.Equal((0 + 1 + 2 + 3) / 4.0, Eval(new MeanAbsoluteErrorMetric(), pred, truth), 9);
        Assert.Equal((0 + 1 + 4 + 9) / 4.0, Eval(new MeanSquaredErrorMetric(), pred, truth), 9);
        Assert.Equal(Math.Sqrt(14 / 4.0), Eval(new RootMeanSquaredError(), pred, truth), 9);
    }

    [Fact]
    public void Categorical_accuracy_accumulates_over_batches()
    {
        var m = new CategoricalAccuracy();
        m.Reset();
        m.Update([0.7f, 0.3f, 0.2f, 0.8f], [1, 0, 1, 0], 2, 2);   // 1 of 2
        m.Update([0.1f, 0.9f], [0, 1], 1, 2);                     // 1 of 1
        Assert.Equal(2.0 / 3, m.Result(), 9);
    }

    private static double Eval(Metric metric, float[] pred, float[] truth)
    {
        metric.Reset();
        metric.Update(pred, truth, pred.Length, 1);
        return metric.Result();
    }
}
