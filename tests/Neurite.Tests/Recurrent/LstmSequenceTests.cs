using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;
using Neurite.Tests.Kernels;
using static Neurite.Tests.Recurrent.GradientCheck;

namespace Neurite.Tests.Recurrent;

// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class LstmSequenceTests
{
    private sealed class Case
    {
        public int B = 2, T = 4, F = 3, U = 5;
        public bool ReturnSequences, GoBackwards, InitialState, Dropout, StateGradients, UseBias = true;
        public string Activation = "tanh", RecurrentActivation = "sigmoid";
        public double[] X = [], H0 = [], C0 = [], W = [], R = [], Bias = [], OutWeights = [], HWeights = [], CWeights = [];
        public double[]? InputMask, RecurrentMask;

        public void Randomize(int seed)
        {
            var rng = new System.Random(seed);
            int g = 4 * U;
            X = RoundToFloat(RandomDoubles(rng, B * T * F, 1.0));
            H0 = RoundToFloat(RandomDoubles(rng, B * U, 0.8));
            C0 = RoundToFloat(RandomDoubles(rng, B * U, 0.8));
            W = RoundToFloat(RandomDoubles(rng, F * g, 0.6));
            R = RoundToFloat(RandomDoubles(rng, U * g, 0.6));
            Bias = RoundToFloat(RandomDoubles(rng, g, 0.5));
            OutWeights = RandomDoubles(rng, ReturnSequences ? B * T * U : B * U, 1.0);
            HWeights = RandomDoubles(rng, B * U, 1.0);
            CWeights = RandomDoubles(rng, B * U, 1.0);
            if (Dropout)
            {
                InputMask = RandomMask(rng, B * F, 0.3);
                RecurrentMask = RandomMask(rng, B * U, 0.3);
            }
        }

        public double Loss()
        {
            var r = RecurrentReference.Lstm(B, T, F, U, X, InitialState ? H0 : null, InitialState ? C0 : null, W, R,
                UseBias ? Bias : null, Activation, RecurrentActivation, ReturnSequences, GoBackwards, InputMask, RecurrentMask);
            return WeightedSum(r.Output, OutWeights)
                + (StateGradients ? WeightedSum(r.FinalHidden, HWeights) + WeightedSum(r.FinalCell, CWeights) : 0);
        }
    }

    [Theory]
    [InlineData(false, false, false, false, false, 5)]
    [InlineData(true, false, false, false, false, 5)]
    [InlineData(true, true, false, false, false, 5)]
    [InlineData(false, true, true, false, true, 5)]
    [InlineData(true, false, true, true, true, 5)]
    [InlineData(false, false, true, true, false, 5)]
    [InlineData(true, true, true, true, true, 19)]
    public void GradientsMatchFiniteDifferencesOfDoubleReference(bool returnSequences, bool goBackwards, bool initialState,
        bool dropout, bool stateGradients, int units)
    {
        var c = new Case
        {
            U = units, ReturnSequences = returnSequences, GoBackwards = goBackwards, InitialState = initialState,
            Dropout = dropout, StateGradients = stateGradients,
        };
        c.Randomize(seed: 17 + units);
        CheckGradients(c);
    }

    [Theory]
    [InlineData("tanh", "hard_sigmoid")]
    [InlineData("relu", "sigmoid")]
    [InlineData("linear", "sigmoid")]
    public void GradientsMatchFiniteDifferencesForOtherActivations(string activation, string recurrentActivation)
    {
        var c = new Case { ReturnSequences = true, InitialState = true, Activation = activation, RecurrentActivation = recurrentActivation };
        c.Randomize(seed: 5);
        CheckGradients(c);
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesWithoutBias()
    {
        var c = new Case { ReturnSequences = true, UseBias = false };
        c.Randomize(seed: 9);
        CheckGradients(c);
    }

    private static void CheckGradients(Case c)
    {
        int g = 4 * c.U;
        var seq = new LstmSequence(c.F, c.U, GateActivations.Parse(c.Activation, "activation"),
            GateActivations.Parse(c.RecurrentActivation, "recurrentActivation"), c.ReturnSequences, c.GoBackwards);
        var w = ToFloat(c.W);
        var r = ToFloat(c.R);
        var output = new float[c.OutWeights.Length];
        seq.Forward(c.B, c.T, ToFloat(c.X), c.InitialState ? ToFloat(c.H0) : default, c.InitialState ? ToFloat(c.C0) : default,
            w, r, c.UseBias ? ToFloat(c.Bias) : default, output, ToFloat(c.InputMask), ToFloat(c.RecurrentMask));

        var reference = RecurrentReference.Lstm(c.B, c.T, c.F, c.U, c.X, c.InitialState ? c.H0 : null, c.InitialState ? c.C0 : null,
            c.W, c.R, c.UseBias ? c.Bias : null, c.Activation, c.RecurrentActivation, c.ReturnSequences, c.GoBackwards,
            c.InputMask, c.RecurrentMask);
        AssertClose(output, reference.Output, "output", 1e-5, 2e-6);
        AssertClose(seq.FinalHidden, reference.FinalHidden, "final h", 1e-5, 2e-6);
        AssertClose(seq.FinalCell, reference.FinalCell, "final c", 1e-5, 2e-6);

        var dx = new float[c.X.Length];
        var dW = new float[c.W.Length];
        var dR = new float[c.R.Length];
        var dBias = new float[g];
        var dH0 = new float[c.B * c.U];
        var dC0 = new float[c.B * c.U];
        seq.Backward(ToFloat(c.OutWeights), c.StateGradients ? ToFloat(c.HWeights) : default, c.StateGradients ? ToFloat(c.CWeights) : default,
            w, r, dx, dW, dR, c.UseBias ? dBias : default, dH0, dC0);

        AssertClose(dx, Numeric(c.X, c.Loss), "dx");
        AssertClose(dW, Numeric(c.W, c.Loss), "dKernel");
        AssertClose(dR, Numeric(c.R, c.Loss), "dRecurrentKernel");
        if (c.UseBias) AssertClose(dBias, Numeric(c.Bias, c.Loss), "dBias");
        if (c.InitialState)
        {
            AssertClose(dH0, Numeric(c.H0, c.Loss), "dh0");
            AssertClose(dC0, Numeric(c.C0, c.Loss), "dc0");
        }
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesWithManyFeatures()
    {
        // More features than SequenceLayout.SmallFeatureCount: the input projection is a GEMM and dx
        // uses the packed transposed kernel.
        var c = new Case { F = 17, ReturnSequences = true, InitialState = true, Dropout = true };
        c.Randomize(seed: 23);
        CheckGradients(c);
    }

    [Theory]
    [InlineData(9, 3)]
    [InlineData(2, 10)]
    public void TwoThreadsGiveBitIdenticalResultsToOneThread(int features, int steps)
    {
        // 16 rows × (64 × 256) recurrent products pass Gemm.ParallelMinFlops, so the steps are split by
        // batch rows. With 2 features the input weight gradients take the small-feature path, which
        // 10 steps make big enough to split its 256 columns across threads too.
        var c = new Case { B = 16, T = steps, F = features, U = 64, ReturnSequences = true, InitialState = true, Dropout = true };
        c.Randomize(seed: 31);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        float[][]? single = null;
        foreach (int threads in new[] { 1, 2, 2 })
        {
            Threading.MaxThreads = threads;
            var seq = new LstmSequence(c.F, c.U, returnSequences: true);
            var w = ToFloat(c.W); var r = ToFloat(c.R);
            var output = new float[c.OutWeights.Length];
            seq.Forward(c.B, c.T, ToFloat(c.X), ToFloat(c.H0), ToFloat(c.C0), w, r, ToFloat(c.Bias), output,
                ToFloat(c.InputMask), ToFloat(c.RecurrentMask));
            var dx = new float[c.X.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
            var dB = new float[4 * c.U]; var dH0 = new float[c.B * c.U]; var dC0 = new float[c.B * c.U];
            seq.Backward(ToFloat(c.OutWeights), ToFloat(c.HWeights), ToFloat(c.CWeights), w, r, dx, dW, dR, dB, dH0, dC0);
            float[][] results = [output, seq.FinalCell.ToArray(), dx, dW, dR, dB, dH0, dC0];
            if (single is null) { single = results; continue; }
            for (int i = 0; i < results.Length; i++) Assert.Equal(single[i], results[i]);
        }
    }

    [Fact]
    public void WeightGradientsAccumulateAcrossBackwardCalls()
    {
        var c = new Case { ReturnSequences = true };
        c.Randomize(seed: 3);
        var seq = new LstmSequence(c.F, c.U, returnSequences: true);
        var w = ToFloat(c.W); var r = ToFloat(c.R); var bias = ToFloat(c.Bias);
        var output = new float[c.OutWeights.Length];
        var dW = new float[w.Length]; var dR = new float[r.Length]; var dB = new float[bias.Length];
        seq.Forward(c.B, c.T, ToFloat(c.X), default, default, w, r, bias, output);
        seq.Backward(ToFloat(c.OutWeights), default, default, w, r, default, dW, dR, dB);
        var once = (float[])dW.Clone();
        var onceR = (float[])dR.Clone();
        // Each Backward consumes its Forward's gates, so the second pass runs the same batch forward again.
        seq.Forward(c.B, c.T, ToFloat(c.X), default, default, w, r, bias, output);
        seq.Backward(ToFloat(c.OutWeights), default, default, w, r, default, dW, dR, dB);
        for (int i = 0; i < dW.Length; i++) Assert.Equal(2 * once[i], dW[i], 1e-5f);
        for (int i = 0; i < dR.Length; i++) Assert.Equal(2 * onceR[i], dR[i], 1e-5f);
    }

    [Fact]
    public void BackwardTwiceAfterOneForwardIsRefusedWithAClearMessage()
    {
        var c = new Case { ReturnSequences = true };
        c.Randomize(seed: 3);
        var seq = new LstmSequence(c.F, c.U, returnSequences: true);
        var w = ToFloat(c.W); var r = ToFloat(c.R); var bias = ToFloat(c.Bias);
        var dW = new float[w.Length]; var dR = new float[r.Length]; var dB = new float[bias.Length];
        seq.Forward(c.B, c.T, ToFloat(c.X), default, default, w, r, bias, new float[c.OutWeights.Length]);
        seq.Backward(ToFloat(c.OutWeights), default, default, w, r, default, dW, dR, dB);
        var error = Assert.Throws<InvalidOperationException>(() =>
            seq.Backward(ToFloat(c.OutWeights), default, default, w, r, default, dW, dR, dB));
        Assert.Contains("twice after one", error.Message);
        Assert.Contains("Run Forward", error.Message);
    }

    [Theory]
    [MemberData(nameof(KernelPaths.Supported), MemberType = typeof(KernelPaths))]
    public void FirstStepFromZeroStateIsBitIdenticalToTheScalarGateFormulas(KernelPath path)
    {
        // One step from h = c = 0 with two features and no bias: z = Σ_f x·W as one fused chain from 0
        // (h·R adds only zeros), so h = σ(z_o)·tanh(σ(z_i)·tanh(z_c)) can be written out with
        // GateMath's scalar formulas. U = 27 leaves ragged vectors in both U and 4U on every width.
        using var _ = KernelPaths.Force(path);
        int batch = 3, features = 2, units = 27, g4 = 4 * units;
        var x = KernelPaths.RandomValues(batch * features, seed: 5);
        var w = KernelPaths.RandomValues(features * g4, seed: 6);
        var r = KernelPaths.RandomValues(units * g4, seed: 7);
        var seq = new LstmSequence(features, units);
        var output = new float[batch * units];
        seq.Forward(batch, 1, x, default, default, w, r, default, output);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < units; j++)
            {
                float Z(int gate)
                {
                    float z = 0f;
                    for (int f = 0; f < features; f++) z = MathF.FusedMultiplyAdd(x[b * features + f], w[f * g4 + gate * units + j], z);
                    return z;
                }
                float i = GateMath.Sigmoid(Z(0)), f0 = GateMath.Sigmoid(Z(1)), g = GateMath.Tanh(Z(2)), o = GateMath.Sigmoid(Z(3));
                float c = MathF.FusedMultiplyAdd(f0, 0f, i * g);
                float expected = o * GateMath.Tanh(c);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(output[b * units + j]),
                    $"{path}: h[{b}, {j}] is {output[b * units + j]:R}, the scalar formulas give {expected:R}");
            }
    }

    [Fact]
    public void EveryKernelPathAgrees()
    {
        var c = new Case { ReturnSequences = true, InitialState = true, Dropout = true, U = 27, B = 3 };
        c.Randomize(seed: 11);
        float[]? firstOut = null, firstDx = null, firstDR = null;
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector256, KernelPath.Vector512 })
        {
            if (path == KernelPath.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) continue;
            if (path == KernelPath.Vector256 && !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) continue;
            KernelSelector.Force(path);
            try
            {
                var seq = new LstmSequence(c.F, c.U, returnSequences: true);
                var w = ToFloat(c.W); var r = ToFloat(c.R);
                var output = new float[c.OutWeights.Length];
                seq.Forward(c.B, c.T, ToFloat(c.X), ToFloat(c.H0), ToFloat(c.C0), w, r, ToFloat(c.Bias), output,
                    ToFloat(c.InputMask), ToFloat(c.RecurrentMask));
                var dx = new float[c.X.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
                seq.Backward(ToFloat(c.OutWeights), default, default, w, r, dx, dW, dR, default);
                if (firstOut is null) { firstOut = output; firstDx = dx; firstDR = dR; continue; }
                AssertNear(firstOut, output, $"output on {path}");
                AssertNear(firstDx!, dx, $"dx on {path}");
                AssertNear(firstDR!, dR, $"dRecurrentKernel on {path}");
            }
            finally { KernelSelector.Force(null); }
        }
    }

    [Fact]
    public void WrongInputLengthIsRefusedWithShapes()
    {
        var seq = new LstmSequence(3, 4);
        var ex = Assert.Throws<ShapeMismatchException>(() =>
            seq.Forward(2, 5, new float[29], default, default, new float[3 * 16], new float[4 * 16], default, new float[8]));
        Assert.Contains("(B=2, T=5, F=3)", ex.Message);
        Assert.Contains("29", ex.Message);
    }
}
