using Neurite.Activations;

namespace Neurite.Tests.Core;

/// <summary>An element-wise activation's scalar members agree bit for bit with the passes a layer runs.</summary>
public class ActivationScalarTests
{
    public static TheoryData<string> ElementwiseNames() =>
        new(ActivationFunction.KnownNames.Where(n => ActivationFunction.Get(n) is ElementwiseActivation));

    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void ApplyAndDerivativeGiveTheBitsOfForwardAndBackward(string name)
    {
        var f = (ElementwiseActivation)ActivationFunction.Get(name);
        // Enough values that a vectorised pass runs its vector body, not only its scalar tail.
        var z = Enumerable.Range(0, 67).Select(i => (i - 33) * 0.37f).Append(0f).Append(12.5f).Append(-12.5f).ToArray();
        var a = new float[z.Length];
        f.Forward(z, a, z.Length);
        var ones = Enumerable.Repeat(1f, z.Length).ToArray();
        var slopes = new float[z.Length];
        f.Backward(z, a, ones, slopes, z.Length);

        for (int i = 0; i < z.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(a[i]), BitConverter.SingleToInt32Bits(f.Apply(z[i])));
            Assert.Equal(BitConverter.SingleToInt32Bits(slopes[i]), BitConverter.SingleToInt32Bits(f.Derivative(z[i], a[i])));
        }
    }

    /// <summary>x³, an activation of the user's own: its Forward and Backward come from Apply and Derivative.</summary>
    private sealed class Cube : ElementwiseActivation
    {
        public override string Name => "cube";
        public override float Apply(float z) => z * z * z;
        public override float Derivative(float z, float a) => 3 * z * z;
    }

    [Fact]
    public void AnActivationOfOnesOwnRunsItsScalarFormulas()
    {
        var f = new Cube();
        var a = new float[3];
        f.Forward([-2f, 0.5f, 3f], a, 3);
        Assert.Equal([-8f, 0.125f, 27f], a);
        var dz = new float[3];
        f.Backward([-2f, 0.5f, 3f], a, [1f, 2f, -1f], dz, 3);
        Assert.Equal([12f, 1.5f, -27f], dz);
    }
}
