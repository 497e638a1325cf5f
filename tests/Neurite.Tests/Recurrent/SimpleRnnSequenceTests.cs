using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;
using Neurite.Tests.Kernels;
using static Neurite.Tests.Recurrent.GradientCheck;

namespace Neurite.Tests.Recurrent;

// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class SimpleRnnSequenceTests
{
    [Theory]
    [InlineData(false, false, false, false, false, "tanh", 5)]
    [InlineData(true, false, false, false, false, "tanh", 5)]
    [InlineData(true, true, true, true, true, "tanh", 19)]
    [InlineData(false, true, true, true, true, "relu", 5)]
    [InlineData(true, false, true, false, true, "sigmoid", 5)]
    public void GradientsMatchFiniteDifferencesOfDoubleReference(bool returnSequences, bool goBackwards, bool initialState,
        bool dropout, bool stateGradients, string activation, int units)
    {
        int B = 2, T = 4, F = 3, U = units;
        var rng = new System.Random(31 + units);
        var x = RoundToFloat(RandomDoubles(rng, B * T * F, 1.0));
        var h0 = RoundToFloat(RandomDoubles(rng, B * U, 0.8));
        var w = RoundToFloat(RandomDoubles(rng, F * U, 0.6));
        var r = RoundToFloat(RandomDoubles(rng, U * U, 0.6));
        var bias = RoundToFloat(RandomDoubles(rng, U, 0.5));
        var outWeights = RandomDoubles(rng, returnSequences ? B * T * U : B * U, 1.0);
        var hWeights = RandomDoubles(rng, B * U, 1.0);
        double[]? inputMask = dropout ? RandomMask(rng, B * F, 0.3) : null;
        double[]? recurrentMask = dropout ? RandomMask(rng, B * U, 0.3) : null;
        RecurrentReference.Result Reference() => RecurrentReference.SimpleRnn(B, T, F, U, x, initialState ? h0 : null, w, r, bias,
            activation, returnSequences, goBackwards, inputMask, recurrentMask);
        double Loss()
        {
            var result = Reference();
            return WeightedSum(result.Output, outWeights) + (stateGradients ? WeightedSum(result.FinalHidden, hWeights) : 0);
        }

        var seq = new SimpleRnnSequence(F, U, GateActivations.Parse(activation, "activation"), returnSequences, goBackwards);
        var wf = ToFloat(w);
        var rf = ToFloat(r);
        var output = new float[outWeights.Length];
        seq.Forward(B, T, ToFloat(x), initialState ? ToFloat(h0) : default, wf, rf, ToFloat(bias), output, ToFloat(inputMask), ToFloat(recurrentMask));
        var reference = Reference();
        AssertClose(output, reference.Output, "output", 1e-5, 2e-6);
        AssertClose(seq.FinalHidden, reference.FinalHidden, "final h", 1e-5, 2e-6);

        var dx = new float[x.Length];
        var dW = new float[w.Length];
        var dR = new float[r.Length];
        var dBias = new float[U];
        var dH0 = new float[B * U];
        seq.Backward(ToFloat(outWeights), stateGradients ? ToFloat(hWeights) : default, wf, rf, dx, dW, dR, dBias, dH0);
        AssertClose(dx, Numeric(x, Loss), "dx");
        AssertClose(dW, Numeric(w, Loss), "dKernel");
        AssertClose(dR, Numeric(r, Loss), "dRecurrentKernel");
        AssertClose(dBias, Numeric(bias, Loss), "dBias");
        if (initialState) AssertClose(dH0, Numeric(h0, Loss), "dh0");
    }

    [Fact]
    public void TwoThreadsGiveBitIdenticalResultsToOneThread()
    {
        // 16 rows × 3 steps of (75 × 75) products pass Gemm.ParallelMinFlops, so the steps are split
        // by batch rows; 8 rows × 75 units ends the first part mid-vector, where a tail runs on narrower lanes.
        int B = 16, T = 3, F = 9, U = 75;
        var rng = new System.Random(43);
        var x = ToFloat(RandomDoubles(rng, B * T * F, 1.0));
        var h0 = ToFloat(RandomDoubles(rng, B * U, 0.8));
        var w = ToFloat(RandomDoubles(rng, F * U, 0.6));
        var r = ToFloat(RandomDoubles(rng, U * U, 0.3));
        var bias = ToFloat(RandomDoubles(rng, U, 0.5));
        var outWeights = ToFloat(RandomDoubles(rng, B * T * U, 1.0));
        var hWeights = ToFloat(RandomDoubles(rng, B * U, 1.0));
        var inputMask = ToFloat(RandomMask(rng, B * F, 0.3));
        var recurrentMask = ToFloat(RandomMask(rng, B * U, 0.3));
        using var keptThreads = KernelPaths.KeepMaxThreads();
        float[][]? single = null;
        foreach (int threads in new[] { 1, 2, 2 })
        {
            Threading.MaxThreads = threads;
            var seq = new SimpleRnnSequence(F, U, returnSequences: true);
            var output = new float[B * T * U];
            seq.Forward(B, T, x, h0, w, r, bias, output, inputMask, recurrentMask);
            var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
            var dB = new float[U]; var dH0 = new float[B * U];
            seq.Backward(outWeights, hWeights, w, r, dx, dW, dR, dB, dH0);
            float[][] results = [output, dx, dW, dR, dB, dH0];
            if (single is null) { single = results; continue; }
            for (int i = 0; i < results.Length; i++) Assert.Equal(single[i], results[i]);
        }
    }
}
