using Neurite.Backends;
using Neurite.Layers;

namespace Neurite.Cuda.Tests;

/// <summary>
/// Recurrent stacks (LSTM, GRU in both reset conventions, SimpleRNN) trained through <see cref="DeviceTrainer"/> (weights,
/// slots and a stateful layer's carried states kept on the device) against the CPU backend from the same seed; each
/// state hook is shown by a scenario that needs it, and each cuda run proves the trainer planned the whole model.
/// </summary>
public class DeviceResidentRecurrentTests
{
    private const double Tolerance = 1e-4;
    private const int Rows = 40, Steps = 6, Features = 2, Batch = 10;

    public static TheoryData<string> Cells() => new("lstm", "gru", "gru-reset-before", "simple-rnn");

    /// <summary>A cell carrying two states and one carrying one, for the hooks every cell shares (the CPU accelerator is slow).</summary>
    public static TheoryData<string> StateCounts() => new("lstm", "simple-rnn");

    [Theory]
    [MemberData(nameof(Cells))]
    public void AW3ShapedStatefulStackTrainsOnTheDeviceAsOnTheCpu(string cell)
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            var history = model.Fit(x, y, epochs: 3, batchSize: Batch, verbose: 0, shuffle: false, cancellationToken: Token);
            var state = State(model);
            state.Add(history["loss"].Select(v => (float)v).ToArray());
            state.Add(model.Predict(x, batchSize: Batch, verbose: 0, cancellationToken: Token).Span.ToArray());
            return state;
        }, () => Stateful(cell));
        AssertAll(cpu, cuda, "weights and carried states after Fit, then the epochs' losses, then predictions");
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void BackwardsAndStatelessLayersTrainOnTheDeviceAsOnTheCpu(string cell)
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            model.Fit(x, y, epochs: 2, batchSize: Batch, verbose: 0, cancellationToken: Token);
            var weights = Weights(model);
            weights.Add(model.Predict(x, verbose: 0, cancellationToken: Token).Span.ToArray());
            return weights;
        }, () => new Sequential(
            Recurrent(cell, 7, returnSequences: true, goBackwards: true, inputShape: [Steps, Features]),
            Recurrent(cell, 5, goBackwards: true, useBias: false),
            new Dense(1, "tanh")));
        AssertAll(cpu, cuda, "weights after Fit, then predictions");
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void GetStatesAndResetStatesBetweenFitCallsSeeAndChangeTheDevicesStates(string cell)
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, shuffle: false, cancellationToken: Token);
            var seen = State(model);
            model.ResetStates();
            Assert.All(((RecurrentLayer)model.Layers[0]).GetStates(), s => Assert.All(s.Span.ToArray(), v => Assert.Equal(0f, v)));
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, shuffle: false, cancellationToken: Token);
            seen.AddRange(State(model));
            return seen;
        }, () => Stateful(cell));
        AssertAll(cpu, cuda, "weights and states after a Fit, then after ResetStates and another Fit");
    }

    [Theory]
    [MemberData(nameof(StateCounts))]
    public void GetStatesAfterTrainOnBatchSeesTheDevicesStates(string cell)
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            return ((RecurrentLayer)model.Layers[0]).GetStates().Select(t => t.Span.ToArray()).ToList();
        }, () => Stateful(cell));
        AssertAll(cpu, cuda, "carried states read by GetStates");
    }

    [Theory]
    [MemberData(nameof(StateCounts))]
    public void ResettingALayersStatesBetweenBatchesTakesEffectOnTheDevice(string cell)
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            model.Layers[0].ResetStates();
            TrainBatches(model, x, y, 2, 2);
            return State(model);
        }, () => Stateful(cell));
        AssertAll(cpu, cuda, "weights and states after resetting the first layer's states");
    }

    [Theory]
    [MemberData(nameof(StateCounts))]
    public void SetStatesBetweenBatchesTakesEffectOnTheDevice(string cell)
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 0, 2);
            var layer = (RecurrentLayer)model.Layers[2];
            int count = layer.GetStates().Count;
            layer.SetStates(Enumerable.Range(0, count).Select(i => new Tensor(Close.Random(Batch * 4, 80 + i), Batch, 4)).ToList());
            TrainBatches(model, x, y, 2, 2);
            return State(model);
        }, () => Stateful(cell));
        AssertAll(cpu, cuda, "weights and states after SetStates");
    }

    [Theory]
    [MemberData(nameof(StateCounts))]
    public void PredictingWithAStatefulModelBetweenBatchesCarriesItsStatesIntoTraining(string cell)
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
        }, () => Stateful(cell));
        AssertAll(cpu, cuda, "predictions, then weights and states after more training");
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>W3's shape: two stateful layers of the cell, the first returning sequences, Dropout after each, a Dense head.</summary>
    private static Sequential Stateful(string cell) => new(
        Recurrent(cell, 8, returnSequences: true, stateful: true, inputShape: [Steps, Features], batchSize: Batch),
        new Dropout(0.3),
        Recurrent(cell, 4, stateful: true),
        new Dropout(0.2),
        new Dense(1));

    private static RecurrentLayer Recurrent(string cell, int units, bool returnSequences = false, bool goBackwards = false, bool stateful = false,
        bool useBias = true, int[]? inputShape = null, int? batchSize = null) => cell switch
    {
        "lstm" => new Lstm(units, useBias: useBias, returnSequences: returnSequences, goBackwards: goBackwards, stateful: stateful,
            inputShape: inputShape, batchSize: batchSize),
        "gru" or "gru-reset-before" => new Gru(units, useBias: useBias, returnSequences: returnSequences, goBackwards: goBackwards, stateful: stateful,
            resetAfter: cell == "gru", inputShape: inputShape, batchSize: batchSize),
        "simple-rnn" => new SimpleRnn(units, useBias: useBias, returnSequences: returnSequences, goBackwards: goBackwards, stateful: stateful,
            inputShape: inputShape, batchSize: batchSize),
        _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "no such cell"),
    };

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
            // The backend hands Sequential a DeviceTrainer only for a model it plans whole, and that plan must still hold
            // (a trainer that stopped planning would let every step fall back to training layer by layer).
            if (backend == "cuda") Assert.True(Assert.IsType<DeviceTrainer>(model.TrainingStrategy).Plans(), "the model trained layer by layer, not on the device");
            return result;
        }
        finally
        {
            Backend.Use("cpu");
            CudaRegistration.Register();
        }
    }
}
