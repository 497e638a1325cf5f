using GateActivation = Neurite.Backends.GateActivation;
using Neurite.Backends;
using Neurite.Backends.Cpu;

namespace Neurite.Cuda.Tests;

/// <summary>The device GRU (both reset conventions) and SimpleRNN sequences against the CPU cores, forward and through time.</summary>
public class GruAndSimpleRnnCoreTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string, string, bool, bool, bool> Cases()
    {
        var data = new TheoryData<string, string, bool, bool, bool>();
        foreach (var accelerator in new[] { "cpu-accelerator", "cuda" })
            foreach (var cell in new[] { "gru-reset-after", "gru-reset-before", "simple-rnn" })
                foreach (bool returnSequences in new[] { false, true })
                    foreach (bool goBackwards in new[] { false, true })
                        foreach (bool dropout in new[] { false, true })
                            data.Add(accelerator, cell, returnSequences, goBackwards, dropout);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackpropagationThroughTimeMatchTheCpu(string accelerator, string cell, bool returnSequences, bool goBackwards, bool dropout)
    {
        var device = Devices.For(accelerator);
        const int batch = 3, steps = 5, features = 4, units = 6;
        int gates = cell == "simple-rnn" ? 1 : 3, g = gates * units;
        int biasLength = cell == "gru-reset-after" ? 2 * g : g;
        var x = Close.Random(batch * steps * features, 40);
        var h0 = Close.Random(batch * units, 41);
        var kernel = Close.Random(features * g, 42, -0.5f, 0.5f);
        var recurrent = Close.Random(units * g, 43, -0.5f, 0.5f);
        var bias = Close.Random(biasLength, 44);
        var inputMask = dropout ? Mask(batch * features, 45) : [];
        var recurrentMask = dropout ? Mask(batch * units, 46) : [];
        int outputLength = returnSequences ? batch * steps * units : batch * units;
        var dOutput = Close.Random(outputLength, 47);
        var dFinalHidden = Close.Random(batch * units, 48);

        IRecurrentCore Create(IBackend backend) => cell switch
        {
            "simple-rnn" => backend.CreateSimpleRnn(features, units, GateActivation.Tanh, returnSequences, goBackwards),
            _ => backend.CreateGru(features, units, GateActivation.Tanh, GateActivation.Sigmoid, cell == "gru-reset-after", returnSequences, goBackwards),
        };
        var cpuCore = Create(new CpuBackend());
        var deviceCore = Create(device);
        Assert.IsType(cell == "simple-rnn" ? typeof(DeviceSimpleRnnCore) : typeof(DeviceGruCore), deviceCore);
        var results = new[] { cpuCore, deviceCore }.Select(core =>
        {
            var output = new float[outputLength];
            core.RunForward(batch, steps, x, h0, default, kernel, recurrent, bias, output, inputMask, recurrentMask);
            var finalHidden = core.FinalHidden.ToArray();
            var dx = new float[x.Length];
            // Weight gradients accumulate: start them from the same non-zero values.
            var dKernel = Close.Random(kernel.Length, 49);
            var dRecurrent = Close.Random(recurrent.Length, 50);
            var dBias = Close.Random(biasLength, 51);
            var dh0 = new float[h0.Length];
            core.RunBackward(dOutput, dFinalHidden, default, kernel, recurrent, dx, dKernel, dRecurrent, dBias, dh0, default);
            return new[] { output, finalHidden, dx, dKernel, dRecurrent, dBias, dh0 };
        }).ToArray();

        string[] names = ["output", "final h", "dx", "dKernel", "dRecurrentKernel", "dBias", "dh0"];
        for (int i = 0; i < names.Length; i++) Close.Assert(results[0][i], results[1][i], Tolerance, $"{cell} {names[i]}");
    }

    [Theory]
    [InlineData("gru-reset-after")]
    [InlineData("gru-reset-before")]
    [InlineData("simple-rnn")]
    public void WithoutBiasInitialStateOrInputGradientTheyStillMatch(string cell)
    {
        // The paths a first layer takes (no dx, no dh0) and useBias: false.
        const int batch = 2, steps = 4, features = 3, units = 5;
        int g = (cell == "simple-rnn" ? 1 : 3) * units;
        var x = Close.Random(batch * steps * features, 52);
        var kernel = Close.Random(features * g, 53, -0.5f, 0.5f);
        var recurrent = Close.Random(units * g, 54, -0.5f, 0.5f);
        var dOutput = Close.Random(batch * units, 55);
        IRecurrentCore Create(IBackend backend) => cell == "simple-rnn"
            ? backend.CreateSimpleRnn(features, units, GateActivation.Relu, false, false)
            : backend.CreateGru(features, units, GateActivation.Tanh, GateActivation.HardSigmoid, cell == "gru-reset-after", false, false);
        var results = new[] { Create(new CpuBackend()), Create(Devices.Cpu) }.Select(core =>
        {
            var output = new float[batch * units];
            core.RunForward(batch, steps, x, default, default, kernel, recurrent, default, output, default, default);
            var dKernel = new float[kernel.Length];
            var dRecurrent = new float[recurrent.Length];
            core.RunBackward(dOutput, default, default, kernel, recurrent, default, dKernel, dRecurrent, default, default, default);
            return new[] { output, dKernel, dRecurrent };
        }).ToArray();
        string[] names = ["output", "dKernel", "dRecurrentKernel"];
        for (int i = 0; i < names.Length; i++) Close.Assert(results[0][i], results[1][i], Tolerance, $"{cell} {names[i]}");
    }

    [Theory]
    [InlineData("gru-reset-after-with-dropout")]
    [InlineData("gru-reset-before-stacked")]
    [InlineData("simple-rnn-stateful")]
    public void AModelTrainsThroughTheCudaBackendAsOnTheCpu(string setup)
    {
        var x = new Tensor(Close.Random(40 * 5 * 3, 56), 40, 5, 3);
        var y = new Tensor(Close.Random(40, 57), 40, 1);
        var results = new List<(double Loss, List<float[]> Weights)>();
        try
        {
            foreach (var backend in new[] { "cpu", "cuda" })
            {
                if (backend == "cuda") Backend.Register("cuda", () => Devices.Cpu);
                Backend.Use(backend);
                NeuriteRandom.SetSeed(37);
                Sequential model = setup switch
                {
                    "gru-reset-after-with-dropout" => new Sequential(new Layers.Gru(8, dropout: 0.2, recurrentDropout: 0.3, inputShape: [5, 3]), new Layers.Dense(1)),
                    "gru-reset-before-stacked" => new Sequential(
                        new Layers.Gru(8, returnSequences: true, resetAfter: false, inputShape: [5, 3]), new Layers.Gru(4, resetAfter: false, goBackwards: true), new Layers.Dense(1)),
                    _ => new Sequential(new Layers.SimpleRnn(6, stateful: true, inputShape: [5, 3], batchSize: 20), new Layers.Dense(1)),
                };
                model.Output = TextWriter.Null;
                model.Compile("mse", "adam");
                bool stateful = setup.EndsWith("stateful", StringComparison.Ordinal);
                var history = model.Fit(x, y, batchSize: 20, epochs: 2, verbose: 0, shuffle: !stateful, cancellationToken: TestContext.Current.CancellationToken);
                results.Add((history["loss"][^1], model.GetWeights().Select(w => w.Span.ToArray()).ToList()));
            }
        }
        finally
        {
            Backend.Use("cpu");
            CudaRegistration.Register();
        }
        Close.Assert([(float)results[0].Loss], [(float)results[1].Loss], 1e-4, setup + " loss");
        for (int i = 0; i < results[0].Weights.Count; i++) Close.Assert(results[0].Weights[i], results[1].Weights[i], 1e-4, $"{setup} weight {i}");
    }

    private static float[] Mask(int length, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.NextDouble() < 0.25 ? 0f : 1f / 0.75f).ToArray();
    }
}
