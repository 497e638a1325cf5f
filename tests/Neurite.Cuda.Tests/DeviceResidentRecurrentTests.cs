using Neurite.Backends;
using Neurite.Layers;

namespace Neurite.Cuda.Tests;

/// <summary>
/// LSTM stacks trained through <see cref="DeviceTrainer"/> (weights, slots and a stateful layer's h and c kept on the
/// device) against the CPU backend from the same seed; each state hook is shown by a scenario that needs it.
/// </summary>
public class DeviceResidentRecurrentTests
{
    private const double Tolerance = 1e-4;
    private const int Rows = 40, Steps = 6, Features = 2, Batch = 10;

    [Fact]
    public void AW3ShapedStatefulStackTrainsOnTheDeviceAsOnTheCpu()
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            var history = model.Fit(x, y, epochs: 2, batchSize: Batch, verbose: 0, shuffle: false, cancellationToken: Token);
            return (history["loss"].Select(v => (float)v).ToArray(), State(model));
        }, Stateful);
        Close.Assert(cpu.Item1, cuda.Item1, Tolerance, "losses");
        AssertAll(cpu.Item2, cuda.Item2, "weights and carried states after Fit");
    }

    [Fact]
    public void BackwardsAndStatelessLayersTrainOnTheDeviceAsOnTheCpu()
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            model.Fit(x, y, epochs: 2, batchSize: Batch, verbose: 0, cancellationToken: Token);
            return Weights(model);
        }, () => new Sequential(
            new Lstm(7, returnSequences: true, goBackwards: true, inputShape: [Steps, Features]),
            new Lstm(5, goBackwards: true, useBias: false),
            new Dense(1, "tanh")));
        AssertAll(cpu, cuda, "weights after Fit");
    }

    [Fact]
    public void GetStatesAfterTrainOnBatchSeesTheDevicesStates()
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            return ((RecurrentLayer)model.Layers[0]).GetStates().Select(t => t.Span.ToArray()).ToList();
        }, Stateful);
        AssertAll(cpu, cuda, "carried states read by GetStates");
    }

    [Fact]
    public void ResettingALayersStatesBetweenBatchesTakesEffectOnTheDevice()
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            model.Layers[0].ResetStates();
            TrainBatches(model, x, y, 2, 2);
            return State(model);
        }, Stateful);
        AssertAll(cpu, cuda, "weights and states after resetting the first layer's states");
    }

    [Fact]
    public void SetStatesBetweenBatchesTakesEffectOnTheDevice()
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            var layer = (RecurrentLayer)model.Layers[2];
            layer.SetStates([new Tensor(Close.Random(Batch * 4, 80), Batch, 4), new Tensor(Close.Random(Batch * 4, 81), Batch, 4)]);
            TrainBatches(model, x, y, 2, 2);
            return State(model);
        }, Stateful);
        AssertAll(cpu, cuda, "weights and states after SetStates");
    }

    [Fact]
    public void PredictingWithAStatefulModelBetweenBatchesCarriesItsStatesIntoTraining()
    {
        // Predict runs on the host and moves the carried states on: the device must take them up again.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            var predicted = model.Predict(x.Slice(0, Batch), verbose: 0, cancellationToken: Token).Span.ToArray();
            TrainBatches(model, x, y, 2, 2);
            var state = State(model);
            state.Add(predicted);
            return state;
        }, Stateful);
        AssertAll(cpu, cuda, "predictions, then weights and states after more training");
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Sequential Stateful() => new(
        new Lstm(8, returnSequences: true, stateful: true, inputShape: [Steps, Features], batchSize: Batch),
        new Dropout(0.3),
        new Lstm(4, stateful: true),
        new Dropout(0.2),
        new Dense(1));

    private static (Tensor X, Tensor Y) Data() =>
        (new Tensor(Close.Random(Rows * Steps * Features, 90), Rows, Steps, Features), new Tensor(Close.Random(Rows, 91), Rows, 1));

    private static void TrainBatches(Sequential model, Tensor x, Tensor y, int first, int count)
    {
        for (int b = first; b < first + count; b++) model.TrainOnBatch(x.Slice(b * Batch, Batch), y.Slice(b * Batch, Batch));
    }

    private static List<float[]> Weights(Sequential model) => model.GetWeights().Select(w => w.Span.ToArray()).ToList();

    /// <summary>The weights, then every stateful layer's carried states.</summary>
    private static List<float[]> State(Sequential model)
    {
        var all = Weights(model);
        foreach (var layer in model.Layers.OfType<RecurrentLayer>())
            if (layer.Stateful) all.AddRange(layer.GetStates().Select(t => t.Span.ToArray()));
        return all;
    }

    private static void AssertAll(List<float[]> expected, List<float[]> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Close.Assert(expected[i], actual[i], Tolerance, $"{what}, tensor {i}");
    }

    private static (T Cpu, T Cuda) Both<T>(Func<Sequential, T> scenario, Func<Sequential> build) =>
        (Run("cpu", scenario, build), Run("cuda", scenario, build));

    private static T Run<T>(string backend, Func<Sequential, T> scenario, Func<Sequential> build)
    {
        try
        {
            if (backend == "cuda") Backend.Register("cuda", () => Devices.Cpu);
            Backend.Use(backend);
            NeuriteRandom.SetSeed(43);
            var model = build();
            model.Output = TextWriter.Null;
            model.Compile("mae", "adam");
            var result = scenario(model);
            if (backend == "cuda") Assert.IsType<DeviceTrainer>(model.TrainingStrategy);
            return result;
        }
        finally
        {
            Backend.Use("cpu");
            CudaRegistration.Register();
        }
    }
}
