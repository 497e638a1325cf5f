using System.Runtime.Intrinsics;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Tests.Recurrent;

public class GateMathTests
{
    [Fact]
    public void RationalTanhAndSigmoidStayWithinOneMillionthOfTheExactFunctions()
    {
        double worstTanh = 0, worstSigmoid = 0;
        for (double x = -20; x <= 20; x += 0.0007)
        {
            float xf = (float)x;
            worstTanh = Math.Max(worstTanh, Math.Abs(GateMath.Tanh(xf) - Math.Tanh(xf)));
            worstSigmoid = Math.Max(worstSigmoid, Math.Abs(GateMath.Sigmoid(xf) - 1 / (1 + Math.Exp(-xf))));
        }
        Assert.True(worstTanh < 1e-6, $"tanh error {worstTanh:G3}");
        Assert.True(worstSigmoid < 1e-6, $"sigmoid error {worstSigmoid:G3}");
        Assert.InRange(GateMath.Tanh(float.PositiveInfinity), 0.999999f, 1f);
        Assert.InRange(GateMath.Sigmoid(float.NegativeInfinity), 0f, 1e-6f);
        for (float x = -10; x <= 10; x += 0.001f) Assert.InRange(GateMath.Tanh(x), -1f, 1f);
    }

    [Theory]
    [InlineData(-3.0f, 0.0f)]
    [InlineData(-2.5f, 0.0f)]
    [InlineData(0.0f, 0.5f)]
    [InlineData(1.0f, 0.7f)]
    [InlineData(2.5f, 1.0f)]
    [InlineData(7.0f, 1.0f)]
    public void HardSigmoidIsKeras2Formula(float x, float expected)
    {
        // Keras 2.x: clip(0.2·x + 0.5, 0, 1), values worked by hand.
        Assert.Equal(expected, GateMath.HardSigmoid(x), 6);
    }

    [Fact]
    public void VectorPathsComputeTheSameBitsAsScalar()
    {
        var rng = new System.Random(2);
        var values = new float[16];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 16 - 8);
        foreach (var activation in Enum.GetValues<GateActivation>())
        {
            var v512 = GateMath.Apply(activation, Vector512.Create(values));
            var v256 = GateMath.Apply(activation, Vector256.Create(values));
            var d512 = GateMath.DerivativeFromOutput(activation, v512);
            for (int i = 0; i < 16; i++)
            {
                float scalar = GateMath.Apply(activation, values[i]);
                Assert.Equal(scalar, v512[i]);
                if (i < 8) Assert.Equal(scalar, v256[i]);
                Assert.Equal(GateMath.DerivativeFromOutput(activation, scalar), d512[i]);
            }
        }
    }

    [Fact]
    public void UnknownActivationNameIsRefusedWithTheChoices()
    {
        var ex = Assert.Throws<ArgumentException>(() => GateActivations.Parse("softplus", "recurrentActivation"));
        Assert.Contains("softplus", ex.Message);
        Assert.Contains("hard_sigmoid", ex.Message);
    }
}
