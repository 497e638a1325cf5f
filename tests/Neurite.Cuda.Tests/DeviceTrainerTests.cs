using Neurite.Layers;
using Neurite.Losses;
using Neurite.Optimizers;

namespace Neurite.Cuda.Tests;

/// <summary>
/// A whole training step on the device (weights and slots kept there, synced back on demand) against the
/// CPU backend's TrainOnBatch from the same weights, dropout seed and batches, driving the trainer directly
/// (DeviceResidentTrainingTests train it through Sequential).
/// </summary>
public class DeviceTrainerTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var accelerator in new[] { "cpu-accelerator", "cuda" })
            foreach (var setup in new[] { "softmax-adam", "sparse-rmsprop", "sigmoid-bce-sgd-momentum", "regression-mse-adam", "regression-mae-sgd" })
                data.Add(accelerator, setup);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StepsMatchTheCpuBackendFromTheSameWeights(string accelerator, string setup)
    {
        var device = Devices.For(accelerator);
        const int batch = 16, features = 6, batches = 5;
        var (cpuModel, x, y) = Build(setup, batch * batches, features);
        var (deviceModel, _, _) = Build(setup, batch * batches, features);
        Assert.Equal(cpuModel.GetWeights().Select(w => w.Span.ToArray()), deviceModel.GetWeights().Select(w => w.Span.ToArray()));

        using var trainer = new DeviceTrainer(deviceModel, device.Ops);
        // The first step alone, then an epoch of the remaining batches in order (a W3-like loop).
        for (int b = 0; b < batches; b++)
        {
            var xb = x.Slice(b * batch, batch);
            var yb = y.Slice(b * batch, batch);
            double expected = cpuModel.TrainOnBatch(xb, yb);
            Assert.True(trainer.TryTrainStep(xb, yb, default, out double actual), "the device declined a model it has kernels for");
            Assert.True(Math.Abs(expected - actual) <= Tolerance * Math.Max(Math.Abs(expected), 1e-3), $"batch {b}: loss {actual} vs the CPU's {expected}");
            if (b == 0 || b == batches - 1)
            {
                trainer.SyncToHost();
                var want = cpuModel.GetWeights();
                var got = deviceModel.GetWeights();
                for (int i = 0; i < want.Count; i++) Close.Assert(want[i].Span, got[i].Span, Tolerance, $"{setup} weight {i} after batch {b}");
                Assert.Equal(cpuModel.Optimizer!.Iterations, deviceModel.Optimizer!.Iterations);
            }
        }
        // Forward pass of the synced model (inference, on the CPU) against the CPU-trained one.
        Close.Assert(cpuModel.Predict(x, cancellationToken: TestContext.Current.CancellationToken).Span, deviceModel.Predict(x, cancellationToken: TestContext.Current.CancellationToken).Span, Tolerance, "predictions");
    }

    [Fact]
    public void TheCudaBackendGivesSequentialADeviceTrainerOnlyForAModelItPlans()
    {
        NeuriteRandom.SetSeed(3);
        var mlp = new Sequential(new Dense(2, "relu", inputShape: [3]), new Dense(1));
        mlp.Compile("mse", "adam");
        Assert.IsType<DeviceTrainer>(Devices.Cpu.CreateTrainingStrategy(mlp));
        var lstm = new Sequential(new Lstm(2, returnSequences: true, inputShape: [4, 3]), new Dropout(0.5), new Lstm(2), new Dense(1));
        lstm.Compile("mse", "adam");
        Assert.IsType<DeviceTrainer>(Devices.Cpu.CreateTrainingStrategy(lstm));
        var gru = new Sequential(new Gru(2, returnSequences: true, inputShape: [4, 3]), new Gru(2, resetAfter: false), new Dense(1));
        gru.Compile("mse", "adam");
        Assert.IsType<DeviceTrainer>(Devices.Cpu.CreateTrainingStrategy(gru));
        var simple = new Sequential(new SimpleRnn(2, inputShape: [4, 3]), new Dense(1));
        simple.Compile("mse", "adam");
        Assert.IsType<DeviceTrainer>(Devices.Cpu.CreateTrainingStrategy(simple));
        // A recurrent layer's own dropout masks have no device path yet, whatever its cell.
        RecurrentLayer[] withOwnDropout =
        [
            new Lstm(2, dropout: 0.2, inputShape: [4, 3]),
            new Gru(2, recurrentDropout: 0.2, inputShape: [4, 3]),
            new SimpleRnn(2, dropout: 0.2, inputShape: [4, 3]),
        ];
        foreach (var layer in withOwnDropout)
        {
            var withDropout = new Sequential(layer, new Dense(1));
            withDropout.Compile("mse", "adam");
            Assert.Null(Devices.Cpu.CreateTrainingStrategy(withDropout));
        }
        var huber = new Sequential(new Dense(2, inputShape: [3]));
        huber.Compile(new Huber(), "adam");
        Assert.Null(Devices.Cpu.CreateTrainingStrategy(huber));
    }

    [Fact]
    public void AModelWithoutDeviceKernelsIsDeclinedNotMistrained()
    {
        NeuriteRandom.SetSeed(5);
        var model = new Sequential(new Dense(4, "elu", inputShape: [3]), new Dense(1));
        model.Compile(new MeanSquaredError(), new Adam());
        model.Build([3]);
        using var trainer = new DeviceTrainer(model, Devices.Cpu.Ops);
        var before = model.GetWeights().Select(w => w.Span.ToArray()).ToList();
        Assert.False(trainer.TryTrainStep(Tensor.Zeros(2, 3), Tensor.Zeros(2, 1), default, out _));
        Assert.Equal(before, model.GetWeights().Select(w => w.Span.ToArray()));
    }

    private static (Sequential Model, Tensor X, Tensor Y) Build(string setup, int rows, int features)
    {
        NeuriteRandom.SetSeed(42);
        var x = new Tensor(Close.Random(rows * features, 50), rows, features);
        int classes = 3;
        Tensor y;
        Sequential model;
        switch (setup)
        {
            case "softmax-adam":
                model = new Sequential(new Dense(10, "relu", inputShape: [features]), new Dropout(0.25), new Dense(8, "tanh"), new Dense(classes, "softmax"));
                model.Compile(new CategoricalCrossentropy(), new Adam(0.01));
                y = OneHot(rows, classes);
                break;
            case "sparse-rmsprop":
                model = new Sequential(new Dense(10, "sigmoid", inputShape: [features]), new Dense(classes), new Activation("softmax"));
                model.Compile(new SparseCategoricalCrossentropy(), new RmsProp(0.01, momentum: 0.3, centered: true));
                y = new Tensor(Enumerable.Range(0, rows).Select(r => (float)(r % classes)).ToArray(), rows, 1);
                break;
            case "sigmoid-bce-sgd-momentum":
                model = new Sequential(new Dense(7, "relu", inputShape: [features]), new Dropout(0.5), new Dense(1, "sigmoid"));
                model.Compile(new BinaryCrossentropy(), new Sgd(0.1, momentum: 0.9, nesterov: true));
                y = new Tensor(Enumerable.Range(0, rows).Select(r => (float)(r % 2)).ToArray(), rows, 1);
                break;
            case "regression-mse-adam":
                model = new Sequential(new Dense(12, "tanh", inputShape: [features]), new Dense(2));
                model.Compile(new MeanSquaredError(), new Adam(0.01));
                y = new Tensor(Close.Random(rows * 2, 51), rows, 2);
                break;
            default:
                model = new Sequential(new Dense(5, inputShape: [features], useBias: false), new Activation("relu"), new Dense(1));
                model.Compile(new MeanAbsoluteError(), new Sgd(0.05));
                y = new Tensor(Close.Random(rows, 52), rows, 1);
                break;
        }
        model.Build([features]);
        return (model, x, y);
    }

    private static Tensor OneHot(int rows, int classes)
    {
        var data = new float[rows * classes];
        for (int r = 0; r < rows; r++) data[r * classes + (r * 7 + 3) % classes] = 1f;
        return new Tensor(data, rows, classes);
    }
}

/// <summary>A whole model trained through Backend.Use("cuda") (here ILGPU's CPU accelerator registered under that name).</summary>
public class CudaBackendModelTests
{
    [Fact]
    public void AStatefulLstmStackTrainsThroughTheCudaBackendAsOnTheCpu()
    {
        // Two threads would have the CPU train each batch as two halves sharing its packed LSTM weights:
        // that path must step aside for another backend (it once cast the device core to the CPU's).
        int threads = Neurite.Backends.Backend.MaxThreads;
        Neurite.Backends.Backend.MaxThreads = 2;
        try
        {
            var x = new Tensor(Close.Random(40 * 6 * 2, 60), 40, 6, 2);
            var y = new Tensor(Close.Random(40, 61), 40, 1);
            var losses = new List<double>();
            foreach (var backend in new[] { "cpu", "cuda" })
            {
                if (backend == "cuda") Neurite.Backends.Backend.Register("cuda", () => Devices.Cpu);
                Neurite.Backends.Backend.Use(backend);
                NeuriteRandom.SetSeed(17);
                var model = new Sequential(
                    new Lstm(12, returnSequences: true, stateful: true, inputShape: [6, 2], batchSize: 20),
                    new Lstm(8, stateful: true),
                    new Dense(1)) { Output = TextWriter.Null };
                model.Compile("mae", "adam");
                losses.Add(model.Fit(x, y, batchSize: 20, epochs: 2, verbose: 0, shuffle: false, cancellationToken: TestContext.Current.CancellationToken)["loss"][^1]);
            }
            Assert.True(Math.Abs(losses[1] - losses[0]) <= 1e-4 * Math.Abs(losses[0]), $"cuda loss {losses[1]} vs cpu {losses[0]}");
        }
        finally
        {
            Neurite.Backends.Backend.Use("cpu");
            CudaRegistration.Register();
            Neurite.Backends.Backend.MaxThreads = threads;
        }
    }

    [Theory]
    [InlineData("lstm-dropout-dense")]
    [InlineData("lstm-dropout-lstm")]
    [InlineData("lstm-with-input-and-recurrent-dropout")]
    public void AnLstmModelWithDropoutTrainsThroughTheCudaBackendAsOnTheCpu(string setup)
    {
        // The CPU trains recurrent batches as two halves; their dropout masks (and the global generator's
        // later draws, e.g. the shuffle) must be the whole batch's, as a backend that trains whole draws them.
        var x = new Tensor(Close.Random(40 * 5 * 3, 62), 40, 5, 3);
        var y = new Tensor(Close.Random(40, 63), 40, 1);
        var losses = new List<double>();
        try
        {
            foreach (var backend in new[] { "cpu", "cuda" })
            {
                if (backend == "cuda") Neurite.Backends.Backend.Register("cuda", () => Devices.Cpu);
                Neurite.Backends.Backend.Use(backend);
                NeuriteRandom.SetSeed(23);
                Sequential model = setup switch
                {
                    "lstm-dropout-dense" => new Sequential(new Lstm(10, inputShape: [5, 3]), new Dropout(0.3), new Dense(1)),
                    "lstm-dropout-lstm" => new Sequential(
                        new Lstm(10, returnSequences: true, inputShape: [5, 3]), new Dropout(0.3), new Lstm(6), new Dense(1)),
                    _ => new Sequential(new Lstm(10, dropout: 0.2, recurrentDropout: 0.3, inputShape: [5, 3]), new Dense(1)),
                };
                model.Output = TextWriter.Null;
                model.Compile("mse", "adam");
                losses.Add(model.Fit(x, y, batchSize: 20, epochs: 2, verbose: 0, cancellationToken: TestContext.Current.CancellationToken)["loss"][^1]);
            }
        }
        finally
        {
            Neurite.Backends.Backend.Use("cpu");
            CudaRegistration.Register();
        }
        Assert.True(Math.Abs(losses[1] - losses[0]) <= 1e-4 * Math.Abs(losses[0]), $"cuda loss {losses[1]} vs cpu {losses[0]}");
    }

    [Fact]
    public void AModelTrainedOnTheCpuFirstLeavesTheCpuHalvesBehindUnderCuda()
    {
        // Sequential picks its strategy from the active backend; the CPU halves share CPU-packed weights, so a
        // model that trained in halves on the CPU must not keep them once another backend is chosen.
        var x = new Tensor(Close.Random(40 * 5 * 3, 64), 40, 5, 3);
        var y = new Tensor(Close.Random(40, 65), 40, 1);
        NeuriteRandom.SetSeed(29);
        var model = new Sequential(new Lstm(8, inputShape: [5, 3]), new Dense(1)) { Output = TextWriter.Null };
        model.Compile("mse", "adam");
        model.Fit(x, y, batchSize: 20, epochs: 1, verbose: 0, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(model.HasHalfCopies);
        try
        {
            Neurite.Backends.Backend.Register("cuda", () => Devices.Cpu);
            Neurite.Backends.Backend.Use("cuda");
            model.Fit(x, y, batchSize: 20, epochs: 1, verbose: 0, cancellationToken: TestContext.Current.CancellationToken);
            Assert.False(model.HasHalfCopies);
        }
        finally
        {
            Neurite.Backends.Backend.Use("cpu");
            CudaRegistration.Register();
        }
    }
}
