using Neurite.Initializers;
using Neurite.Layers;

namespace Neurite.Tests.Recurrent;

public class RecurrentDropoutSamplerTests
{
    // One step, one linear unit, kernel of ones, no bias, input of ones: the output is the sum of the
    // input dropout mask, kept · (number of inputs kept), so it shows how many values the sampler kept.
    private static SimpleRnn MaskCounter(int features, double dropout)
    {
        var layer = new SimpleRnn(1, activation: "linear", useBias: false, kernelInitializer: new Constant(1),
            recurrentInitializer: new Constant(0), dropout: dropout, inputShape: [1, features]);
        layer.Build([1, features]);
        return layer;
    }

    [Fact]
    public void InputDropoutKeepsOneMinusRateOfTheValuesScaledByTheInverse()
    {
        const int features = 4000;
        const double rate = 0.25;
        var layer = MaskCounter(features, rate);
        var x = Tensor.Full(1f, 1, 1, features);
        var counts = new List<double>();
        for (int draw = 0; draw < 3; draw++)
        {
            double kept = layer.Forward(x, training: true).Span[0] * (1 - rate);
            Assert.Equal(Math.Round(kept), kept, 0.25); // a whole number of kept values, each scaled by 1/(1 − rate) (float sums drift a little)
            // Binomial(4000, 0.75): mean 3000, standard deviation 27.4; six of them either side.
            Assert.InRange(kept, 3000 - 165, 3000 + 165);
            counts.Add(kept);
        }
        Assert.True(counts.Distinct().Count() > 1, "every training call draws a new mask");
        Assert.Equal(features, layer.Forward(x, training: false).Span[0], 3); // inference keeps everything, unscaled
    }

    [Fact]
    public void SeededLayersDrawTheSameMasks()
    {
        float[] Draws()
        {
            NeuriteRandom.SetSeed(11);
            var layer = MaskCounter(500, 0.5);
            var x = Tensor.Full(1f, 1, 1, 500);
            return [layer.Forward(x, training: true).Span[0], layer.Forward(x, training: true).Span[0]];
        }
        Assert.Equal(Draws(), Draws());
    }
}
