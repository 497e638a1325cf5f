using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;
using Neurite.Tests.Kernels;
using static Neurite.Tests.Recurrent.GradientCheck;

namespace Neurite.Tests.Recurrent;

// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GruSequenceTests
{
    private sealed class Case
    {
        public int B = 2, T = 4, F = 3, U = 5;
        public bool ResetAfter = true, ReturnSequences, GoBackwards, InitialState, Dropout, StateGradients, UseBias = true;
        public string Activation = "tanh", RecurrentActivation = "sigmoid";
        public double[] X = [], H0 = [], W = [], R = [], Bias = [], OutWeights = [], HWeights = [];
        public double[]? InputMask, RecurrentMask;

        public void Randomize(int seed)
        {
            var rng = new System.Random(seed);
            int g = 3 * U;
            X = RoundToFloat(RandomDoubles(rng, B * T * F, 1.0));
            H0 = RoundToFloat(RandomDoubles(rng, B * U, 0.8));
            W = RoundToFloat(RandomDoubles(rng, F * g, 0.6));
            R = RoundToFloat(RandomDoubles(rng, U * g, 0.6));
            Bias = RoundToFloat(RandomDoubles(rng, ResetAfter ? 2 * g : g, 0.5));
            OutWeights = RandomDoubles(rng, ReturnSequences ? B * T * U : B * U, 1.0);
            HWeights = RandomDoubles(rng, B * U, 1.0);
            if (Dropout)
            {
                InputMask = RandomMask(rng, B * F, 0.3);
                RecurrentMask = RandomMask(rng, B * U, 0.3);
            }
        }

        public RecurrentReference.Result Reference() => RecurrentReference.Gru(B, T, F, U, X, InitialState ? H0 : null, W, R,
            UseBias ? Bias : null, Activation, RecurrentActivation, ResetAfter, ReturnSequences, GoBackwards, InputMask, RecurrentMask);

        public double Loss()
        {
            var r = Reference();
            return WeightedSum(r.Output, OutWeights) + (StateGradients ? WeightedSum(r.FinalHidden, HWeights) : 0);
        }
    }

    [Theory]
    [InlineData(true, false, false, false, false, false, 5)]
    [InlineData(true, true, false, false, false, false, 5)]
    [InlineData(true, true, true, true, true, true, 5)]
    [InlineData(true, false, true, true, true, false, 19)]
    [InlineData(false, false, false, false, false, false, 5)]
    [InlineData(false, true, false, true, false, true, 5)]
    [InlineData(false, true, true, true, true, true, 19)]
    public void GradientsMatchFiniteDifferencesOfDoubleReference(bool resetAfter, bool returnSequences, bool goBackwards,
        bool initialState, bool dropout, bool stateGradients, int units)
    {
        var c = new Case
        {
            ResetAfter = resetAfter, U = units, ReturnSequences = returnSequences, GoBackwards = goBackwards,
            InitialState = initialState, Dropout = dropout, StateGradients = stateGradients,
        };
        c.Randomize(seed: 23 + units);
        CheckGradients(c);
    }

    [Theory]
    [InlineData(true, "tanh", "hard_sigmoid")]
    [InlineData(false, "relu", "sigmoid")]
    public void GradientsMatchFiniteDifferencesForOtherActivations(bool resetAfter, string activation, string recurrentActivation)
    {
        var c = new Case { ResetAfter = resetAfter, ReturnSequences = true, InitialState = true, Activation = activation, RecurrentActivation = recurrentActivation };
        c.Randomize(seed: 8);
        CheckGradients(c);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientsMatchFiniteDifferencesWithoutBias(bool resetAfter)
    {
        var c = new Case { ResetAfter = resetAfter, ReturnSequences = true, UseBias = false, InitialState = true };
        c.Randomize(seed: 4);
        CheckGradients(c);
    }

    private static void CheckGradients(Case c)
    {
        var seq = new GruSequence(c.F, c.U, GateActivations.Parse(c.Activation, "activation"),
            GateActivations.Parse(c.RecurrentActivation, "recurrentActivation"), c.ResetAfter, c.ReturnSequences, c.GoBackwards);
        var w = ToFloat(c.W);
        var r = ToFloat(c.R);
        var output = new float[c.OutWeights.Length];
        seq.Forward(c.B, c.T, ToFloat(c.X), c.InitialState ? ToFloat(c.H0) : default, w, r, c.UseBias ? ToFloat(c.Bias) : default,
            output, ToFloat(c.InputMask), ToFloat(c.RecurrentMask));
        var reference = c.Reference();
        AssertClose(output, reference.Output, "output", 1e-5, 2e-6);
        AssertClose(seq.FinalHidden, reference.FinalHidden, "final h", 1e-5, 2e-6);

        var dx = new float[c.X.Length];
        var dW = new float[c.W.Length];
        var dR = new float[c.R.Length];
        var dBias = new float[c.Bias.Length];
        var dH0 = new float[c.B * c.U];
        seq.Backward(ToFloat(c.OutWeights), c.StateGradients ? ToFloat(c.HWeights) : default, w, r, dx, dW, dR,
            c.UseBias ? dBias : default, dH0);

        AssertClose(dx, Numeric(c.X, c.Loss), "dx");
        AssertClose(dW, Numeric(c.W, c.Loss), "dKernel");
        AssertClose(dR, Numeric(c.R, c.Loss), "dRecurrentKernel");
        if (c.UseBias) AssertClose(dBias, Numeric(c.Bias, c.Loss), "dBias");
        if (c.InitialState) AssertClose(dH0, Numeric(c.H0, c.Loss), "dh0");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryKernelPathAgrees(bool resetAfter)
    {
        var c = new Case { ResetAfter = resetAfter, ReturnSequences = true, InitialState = true, Dropout = true, U = 27, B = 3 };
        c.Randomize(seed: 12);
        float[]? firstOut = null, firstDx = null, firstDR = null;
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector256, KernelPath.Vector512 })
        {
            if (path == KernelPath.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) continue;
            if (path == KernelPath.Vector256 && !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) continue;
            KernelSelector.Force(path);
            try
            {
                var seq = new GruSequence(c.F, c.U, resetAfter: resetAfter, returnSequences: true);
                var w = ToFloat(c.W); var r = ToFloat(c.R);
                var output = new float[c.OutWeights.Length];
                seq.Forward(c.B, c.T, ToFloat(c.X), ToFloat(c.H0), w, r, ToFloat(c.Bias), output, ToFloat(c.InputMask), ToFloat(c.RecurrentMask));
                var dx = new float[c.X.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
                seq.Backward(ToFloat(c.OutWeights), default, w, r, dx, dW, dR, default);
                if (firstOut is null) { firstOut = output; firstDx = dx; firstDR = dR; continue; }
                AssertNear(firstOut, output, $"output on {path}");
                AssertNear(firstDx!, dx, $"dx on {path}");
                AssertNear(firstDR!, dR, $"dRecurrentKernel on {path}");
            }
            finally { KernelSelector.Force(null); }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TwoThreadsGiveBitIdenticalResultsToOneThread(bool resetAfter)
    {
        // 16 rows × 4 steps of (27 × 81) products pass Gemm.ParallelMinFlops, so the steps are split
        // by batch rows; 8 rows × 27 units ends the first part mid-vector, where a tail runs on narrower lanes.
        var c = new Case { ResetAfter = resetAfter, B = 16, T = 4, F = 9, U = 27, ReturnSequences = true, InitialState = true, Dropout = true };
        c.Randomize(seed: 41);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        float[][]? single = null;
        foreach (int threads in new[] { 1, 2, 2 })
        {
            Threading.MaxThreads = threads;
            var seq = new GruSequence(c.F, c.U, resetAfter: resetAfter, returnSequences: true);
            var w = ToFloat(c.W); var r = ToFloat(c.R);
            var output = new float[c.OutWeights.Length];
            seq.Forward(c.B, c.T, ToFloat(c.X), ToFloat(c.H0), w, r, ToFloat(c.Bias), output, ToFloat(c.InputMask), ToFloat(c.RecurrentMask));
            var dx = new float[c.X.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
            var dB = new float[c.Bias.Length]; var dH0 = new float[c.B * c.U];
            seq.Backward(ToFloat(c.OutWeights), ToFloat(c.HWeights), w, r, dx, dW, dR, dB, dH0);
            float[][] results = [output, dx, dW, dR, dB, dH0];
            if (single is null) { single = results; continue; }
            for (int i = 0; i < results.Length; i++) Assert.Equal(single[i], results[i]);
        }
    }

    [Fact]
    public void BiasOfTheWrongConventionIsRefused()
    {
        var seq = new GruSequence(2, 3, resetAfter: true);
        var ex = Assert.Throws<ShapeMismatchException>(() =>
            seq.Forward(1, 2, new float[4], default, new float[2 * 9], new float[3 * 9], new float[9], new float[3]));
        Assert.Contains("resetAfter", ex.Message);
    }
}
