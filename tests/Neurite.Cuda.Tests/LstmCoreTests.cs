using GateActivation = Neurite.Backends.GateActivation;
using Neurite.Backends.Cpu;
using Neurite.Layers;

namespace Neurite.Cuda.Tests;

/// <summary>The device LSTM sequence (one input product, per step a recurrent product and the fused gate kernels) against the CPU core.</summary>
public class LstmCoreTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string, bool, bool, bool> Cases()
    {
        var data = new TheoryData<string, bool, bool, bool>();
        foreach (var accelerator in new[] { "cpu-accelerator", "cuda" })
            foreach (bool returnSequences in new[] { false, true })
                foreach (bool goBackwards in new[] { false, true })
                    foreach (bool dropout in new[] { false, true })
                        data.Add(accelerator, returnSequences, goBackwards, dropout);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackpropagationThroughTimeMatchTheCpu(string accelerator, bool returnSequences, bool goBackwards, bool dropout)
    {
        var device = Devices.For(accelerator);
        const int batch = 3, steps = 5, features = 4, units = 6, g = 4 * units;
        var x = Close.Random(batch * steps * features, 20);
        var h0 = Close.Random(batch * units, 21);
        var c0 = Close.Random(batch * units, 22);
        var kernel = Close.Random(features * g, 23, -0.5f, 0.5f);
        var recurrent = Close.Random(units * g, 24, -0.5f, 0.5f);
        var bias = Close.Random(g, 25);
        var inputMask = dropout ? Mask(batch * features, 26) : [];
        var recurrentMask = dropout ? Mask(batch * units, 27) : [];
        int outputLength = returnSequences ? batch * steps * units : batch * units;
        var dOutput = Close.Random(outputLength, 28);
        var dFinalHidden = Close.Random(batch * units, 29);
        var dFinalCell = Close.Random(batch * units, 30);

        var cpu = new CpuBackend().CreateLstm(features, units, GateActivation.Tanh, GateActivation.Sigmoid, returnSequences, goBackwards);
        var gpu = device.CreateLstm(features, units, GateActivation.Tanh, GateActivation.Sigmoid, returnSequences, goBackwards);
        var results = new[] { cpu, gpu }.Select(core =>
        {
            var output = new float[outputLength];
            core.RunForward(batch, steps, x, h0, c0, kernel, recurrent, bias, output, inputMask, recurrentMask);
            var finalHidden = core.FinalHidden.ToArray();
            var finalCell = core.FinalCell.ToArray();
            var dx = new float[x.Length];
            // Weight gradients accumulate: start them from the same non-zero values.
            var dKernel = Close.Random(kernel.Length, 31);
            var dRecurrent = Close.Random(recurrent.Length, 32);
            var dBias = Close.Random(g, 33);
            var dh0 = new float[h0.Length];
            var dc0 = new float[c0.Length];
            core.RunBackward(dOutput, dFinalHidden, dFinalCell, kernel, recurrent, dx, dKernel, dRecurrent, dBias, dh0, dc0);
            return new[] { output, finalHidden, finalCell, dx, dKernel, dRecurrent, dBias, dh0, dc0 };
        }).ToArray();

        string[] names = ["output", "final h", "final c", "dx", "dKernel", "dRecurrentKernel", "dBias", "dh0", "dc0"];
        for (int i = 0; i < names.Length; i++) Close.Assert(results[0][i], results[1][i], Tolerance, names[i]);
    }

    private static float[] Mask(int length, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.NextDouble() < 0.25 ? 0f : 1f / 0.75f).ToArray();
    }
}
