using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Recurrent;

/// <summary>
/// Large sequences take each step's input projection inside the step's recurrent products
/// (<see cref="Gemm.MultiplyWithLead"/>) instead of one pass over all steps first, and make dR, dW and dBias in one
/// pass over the gate gradients (<see cref="Gemm.AddTransposedProducts"/>). Each value is the same chain either way
/// (bias, then x̃W over the features, then h̃R; each weight gradient over the rows in order), so every output and
/// gradient must keep its bits.
/// </summary>
/// <remarks>Alone: which pass runs depends on the process-wide thread count, which other tests change.</remarks>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class FusedProjectionTests
{
    // 16 rows × 40 steps × 4·64 gates pass the 128 Ki gate values from which the steps fuse the projection.
    private const int Batch = 16, Steps = 40, Units = 64;

    [Theory]
    [MemberData(nameof(Cases))]
    public void LstmStepsWithTheProjectionGiveTheBitsOfProjectingFirst(KernelPath path, int features, bool bias, bool dropout, int threads)
    {
        using var _ = KernelPaths.Force(path);
        var results = new List<float[][]>();
        foreach (bool fused in new[] { false, true })
        {
            var seq = new LstmSequence(features, Units, returnSequences: true) { AllowFusion = fused };
            results.Add(RunLstm(seq, features, bias, dropout, threads));
            Assert.Equal(fused, seq.FusedProjection);
            Assert.Equal(fused && threads == 1, seq.WeightGradientsShareAPass); // two threads split the weight gradients' products
        }
        for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
    }

    /// <summary>
    /// Small passes fuse too (<see cref="RecurrentSequence.SmallPassesFuse"/>): the steps take the projection at any size, and
    /// the weight gradients share a pass from 16 Ki gate values (a Panel-wide multiple of gates), with the bits of separate passes.
    /// Shapes: the sweep's LSTM(32) half of 8 rows × 10 steps (10 Ki gate values: separate weight gradients), its LSTM(64) half
    /// of 16 × 20 with 8 features (the small-feature projection, shared), W3's first layer's half (400 gates: separate).
    /// </summary>
    [Theory]
    [MemberData(nameof(SmallCases))]
    public void SmallLstmPassesFuseWithTheBitsOfSeparatePasses(KernelPath path, int batch, int steps, int units, int features, bool shared)
    {
        using var _ = KernelPaths.Force(path);
        var results = new List<float[][]>();
        foreach (bool fused in new[] { false, true })
        {
            var seq = new LstmSequence(features, units, returnSequences: true) { AllowFusion = fused };
            results.Add(RunLstm(seq, features, bias: true, dropout: true, threads: 1, batch, steps, units));
            Assert.Equal(fused, seq.FusedProjection);
            Assert.Equal(fused && shared, seq.WeightGradientsShareAPass);
        }
        for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
    }

    public static TheoryData<KernelPath, int, int, int, int, bool> SmallCases()
    {
        var data = new TheoryData<KernelPath, int, int, int, int, bool>();
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (path == KernelPath.Scalar || !KernelSelector.IsSupported(path)) continue; // the scalar path always projects first
            data.Add(path, 8, 10, 32, 16, false);
            data.Add(path, 16, 20, 64, 8, true);
            data.Add(path, 25, 10, 100, 2, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SimpleRnnStepsWithTheProjectionGiveTheBitsOfProjectingFirst(KernelPath path, int features, bool bias, bool dropout, int threads)
    {
        using var _ = KernelPaths.Force(path);
        const int units = 4 * Units; // one gate: as many gate values as the LSTM's
        var results = new List<float[][]>();
        foreach (bool fused in new[] { false, true })
        {
            var seq = new SimpleRnnSequence(features, units, returnSequences: true) { AllowFusion = fused };
            using var keptThreads = KernelPaths.KeepMaxThreads();
            Threading.MaxThreads = threads;
            var w = KernelPaths.RandomValues(features * units, 1, 0.3f);
            var r = KernelPaths.RandomValues(units * units, 2, 0.1f);
            var b = bias ? KernelPaths.RandomValues(units, 3, 0.5f) : [];
            var x = KernelPaths.RandomValues(Batch * Steps * features, 4);
            var inputMask = dropout ? KernelPaths.DropoutMask(Batch * features, 5) : [];
            var recurrentMask = dropout ? KernelPaths.DropoutMask(Batch * units, 6) : [];
            var output = new float[Batch * Steps * units];
            seq.Forward(Batch, Steps, x, default, w, r, b, output, inputMask, recurrentMask);
            var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length]; var dB = new float[units];
            seq.Backward(KernelPaths.RandomValues(output.Length, 7), default, w, r, dx, dW, dR, bias ? dB : default);
            results.Add([output, dx, dW, dR, dB]);
            Assert.Equal(fused, seq.FusedProjection);
            Assert.Equal(fused && threads == 1, seq.WeightGradientsShareAPass); // two threads split the weight gradients' products
        }
        for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GruStepsWithTheProjectionAndSharedWeightGradientPassesGiveTheBitsOfSeparatePasses(KernelPath path, int features, bool bias, bool dropout, int threads)
    {
        using var _ = KernelPaths.Force(path);
        const int units = 96; // 3U = 288, a multiple of 32; 16 × 40 × 288 gate values pass the threshold
        foreach (bool resetAfter in new[] { true, false })
        {
            var results = new List<float[][]>();
            foreach (bool fused in new[] { false, true })
            {
                var seq = new GruSequence(features, units, resetAfter: resetAfter, returnSequences: true) { AllowFusion = fused };
                using var keptThreads = KernelPaths.KeepMaxThreads();
                Threading.MaxThreads = threads;
                var w = KernelPaths.RandomValues(features * 3 * units, 21, 0.3f);
                var r = KernelPaths.RandomValues(units * 3 * units, 22, 0.2f);
                var b = bias ? KernelPaths.RandomValues(seq.BiasLength, 23, 0.5f) : [];
                var x = KernelPaths.RandomValues(Batch * Steps * features, 24);
                var h0 = KernelPaths.RandomValues(Batch * units, 25, 0.5f);
                var inputMask = dropout ? KernelPaths.DropoutMask(Batch * features, 26) : [];
                var recurrentMask = dropout ? KernelPaths.DropoutMask(Batch * units, 27) : [];
                var output = new float[Batch * Steps * units];
                seq.Forward(Batch, Steps, x, h0, w, r, b, output, inputMask, recurrentMask);
                var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
                var dB = new float[seq.BiasLength]; var dH0 = new float[Batch * units];
                seq.Backward(KernelPaths.RandomValues(output.Length, 28), default, w, r, dx, dW, dR, bias ? dB : default, dH0);
                results.Add([output, dx, dW, dR, dB, dH0]);
                Assert.Equal(fused, seq.FusedProjection);
                Assert.Equal(fused && threads == 1, seq.WeightGradientsShareAPass);
            }
            for (int i = 0; i < results[0].Length; i++) Assert.Equal(results[0][i], results[1][i]);
        }
    }

    [Theory]
    [MemberData(nameof(GruCases))]
    public void GruStepsWithTheProjectionMatchTheDoubleReferenceAndGiveOneThreadsBitsOnTwo(KernelPath path, bool resetAfter)
    {
        using var _ = KernelPaths.Force(path);
        const int units = 96, features = 12;
        var rng = new System.Random(resetAfter ? 31 : 32);
        var x = GradientCheck.RoundToFloat(GradientCheck.RandomDoubles(rng, Batch * Steps * features, 1.0));
        var h0 = GradientCheck.RoundToFloat(GradientCheck.RandomDoubles(rng, Batch * units, 0.5));
        var w = GradientCheck.RoundToFloat(GradientCheck.RandomDoubles(rng, features * 3 * units, 0.3));
        var r = GradientCheck.RoundToFloat(GradientCheck.RandomDoubles(rng, units * 3 * units, 0.2));
        var bias = GradientCheck.RoundToFloat(GradientCheck.RandomDoubles(rng, resetAfter ? 6 * units : 3 * units, 0.5));
        var inputMask = GradientCheck.RandomMask(rng, Batch * features, 0.3);
        var recurrentMask = GradientCheck.RandomMask(rng, Batch * units, 0.3);
        var reference = RecurrentReference.Gru(Batch, Steps, features, units, x, h0, w, r, bias, "tanh", "sigmoid", resetAfter,
            returnSequences: true, goBackwards: false, inputMask, recurrentMask);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        float[][]? single = null;
        foreach (int threads in new[] { 1, 2 })
        {
            Threading.MaxThreads = threads;
            var seq = new GruSequence(features, units, resetAfter: resetAfter, returnSequences: true);
            var fw = GradientCheck.ToFloat(w); var fr = GradientCheck.ToFloat(r);
            var output = new float[Batch * Steps * units];
            seq.Forward(Batch, Steps, GradientCheck.ToFloat(x), GradientCheck.ToFloat(h0), fw, fr, GradientCheck.ToFloat(bias), output,
                GradientCheck.ToFloat(inputMask), GradientCheck.ToFloat(recurrentMask));
            Assert.True(seq.FusedProjection);
            var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length];
            var dB = new float[bias.Length]; var dH0 = new float[Batch * units];
            seq.Backward(KernelPaths.RandomValues(output.Length, 33), default, fw, fr, dx, dW, dR, dB, dH0);
            float[][] results = [output, dx, dW, dR, dB, dH0];
            if (single is null)
            {
                GradientCheck.AssertClose(output, reference.Output, "output", 1e-4, 1e-5);
                single = results;
                continue;
            }
            for (int i = 0; i < results.Length; i++) Assert.Equal(single[i], results[i]);
        }
    }

    public static TheoryData<KernelPath, bool> GruCases()
    {
        var data = new TheoryData<KernelPath, bool>();
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (path == KernelPath.Scalar || !KernelSelector.IsSupported(path)) continue; // the scalar path always projects first
            data.Add(path, true);
            data.Add(path, false);
        }
        return data;
    }

    public static TheoryData<KernelPath, int, bool, bool, int> Cases()
    {
        var data = new TheoryData<KernelPath, int, bool, bool, int>();
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (path == KernelPath.Scalar || !KernelSelector.IsSupported(path)) continue; // the scalar path always projects first
            // 3 features: the small-feature projection; 12: the GEMM projection; 1 and 2 threads; with and without bias and masks.
            data.Add(path, 3, true, false, 1);
            data.Add(path, 12, true, true, 1);
            data.Add(path, 12, false, false, 1);
            data.Add(path, 3, true, true, 2);
            data.Add(path, 12, true, false, 2);
        }
        return data;
    }

    private static float[][] RunLstm(LstmSequence seq, int features, bool bias, bool dropout, int threads,
        int batch = Batch, int steps = Steps, int units = Units)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = threads;
        int g = 4 * units;
        var w = KernelPaths.RandomValues(features * g, 11, 0.3f);
        var r = KernelPaths.RandomValues(units * g, 12, 0.2f);
        var b = bias ? KernelPaths.RandomValues(g, 13, 0.5f) : [];
        var x = KernelPaths.RandomValues(batch * steps * features, 14);
        var h0 = KernelPaths.RandomValues(batch * units, 15, 0.5f);
        var c0 = KernelPaths.RandomValues(batch * units, 16, 0.5f);
        var inputMask = dropout ? KernelPaths.DropoutMask(batch * features, 17) : [];
        var recurrentMask = dropout ? KernelPaths.DropoutMask(batch * units, 18) : [];
        var output = new float[batch * steps * units];
        seq.Forward(batch, steps, x, h0, c0, w, r, b, output, inputMask, recurrentMask);
        var dx = new float[x.Length]; var dW = new float[w.Length]; var dR = new float[r.Length]; var dB = new float[g];
        var dH0 = new float[batch * units]; var dC0 = new float[batch * units];
        seq.Backward(KernelPaths.RandomValues(output.Length, 19), default, default, w, r, dx, dW, dR, bias ? dB : default, dH0, dC0);
        return [output, seq.FinalCell.ToArray(), dx, dW, dR, dB, dH0, dC0];
    }
}
