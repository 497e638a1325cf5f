using Neurite.Layers;
using Neurite.Losses;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

/// <summary>A loss written by the user (Keras's custom loss): computed on the host from its own SampleLoss.</summary>
public class OwnLossTests
{
    /// <summary>Half the squared error summed over a sample's outputs: loss ½Σ(p−t)², gradient (p−t).</summary>
    private sealed class HalfSquaredError : Loss
    {
        public override string Name => "half_squared_error";

        protected override double SampleLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient, float gradientScale)
        {
            double sum = 0;
            for (int i = 0; i < pred.Length; i++)
            {
                float d = pred[i] - truth[i];
                sum += 0.5 * d * d;
                if (!gradient.IsEmpty) gradient[i] = gradientScale * d;
            }
            return sum;
        }
    }

    private sealed class WithoutSampleLoss : Loss
    {
        public override string Name => "unfinished";
    }

    [Fact]
    public void Own_loss_gives_its_batch_mean_and_scaled_gradient()
    {
        var pred = Tensor.FromArray(new float[] { 1, 2, 0, -1 }, 2, 2);
        var truth = Tensor.FromArray(new float[] { 0, 4, 0, 1 }, 2, 2);
        var gradient = new float[4];
        // Row losses: ½(1 + 4) = 2.5 and ½(0 + 4) = 2; weighted by 1 and 3 and divided by the 2 rows: (2.5 + 6) / 2.
        double value = new HalfSquaredError().Compute(pred, truth, gradient, [1f, 3f]);
        Assert.Equal(4.25, value, 12);
        // Gradient: weight / rows · (p − t).
        Assert.Equal(new float[] { 0.5f, -1f, 0f, -3f }, gradient);
    }

    [Fact]
    public void Model_trains_with_an_own_loss_as_with_the_same_formula_built_in()
    {
        // ½Σ(p−t)² over one output is half of Keras's mse, so with twice the learning rate SGD takes the same steps.
        var x = Tensor.FromArray(new float[] { 0.5f, -1f, 2f, 0.25f, -0.5f, 1.5f }, 6, 1);
        var y = Tensor.FromArray(new float[] { 1f, -2f, 4f, 0.5f, -1f, 3f }, 6, 1);
        Sequential Build(Loss loss, double learningRate)
        {
            var model = new Sequential([new Dense(1, inputShape: [1], kernelInitializer: "ones")]) { Output = TextWriter.Null };
            model.Compile(loss, new Sgd(learningRate: learningRate));
            return model;
        }
        var own = Build(new HalfSquaredError(), 0.2);
        var builtIn = Build("mse", 0.1);
        own.Fit(x, y, epochs: 5, batchSize: 3, shuffle: false, verbose: 0);
        builtIn.Fit(x, y, epochs: 5, batchSize: 3, shuffle: false, verbose: 0);
        var a = own.GetWeights();
        var b = builtIn.GetWeights();
        for (int i = 0; i < a.Count; i++)
            for (int j = 0; j < a[i].Size; j++)
                Assert.Equal(b[i].Span[j], a[i].Span[j], 5);
        Assert.NotEqual(1f, a[0].Span[0]); // it trained
    }

    [Fact]
    public void Own_loss_without_SampleLoss_says_what_to_override()
    {
        var error = Assert.Throws<NotSupportedException>(() =>
            new WithoutSampleLoss().Compute(Tensor.Zeros(1, 1), Tensor.Zeros(1, 1), new float[1]));
        Assert.Contains("override SampleLoss", error.Message);
    }
}
