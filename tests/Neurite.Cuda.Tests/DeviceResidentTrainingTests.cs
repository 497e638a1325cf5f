using Neurite.IO;
using Neurite.Backends;
using Neurite.Callbacks;
using Neurite.Onnx;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Cuda.Tests;

/// <summary>
/// Sequential trained under <c>Backend.Use("cuda")</c> (ILGPU's CPU accelerator registered under that name) through
/// the device-resident <see cref="DeviceTrainer"/>, against the same scenario on the CPU backend from the same seed.
/// Each scenario reads or writes the host's weights where only a sync or an invalidation keeps them right, so each
/// fails without its hook (the comment on each says which).
/// </summary>
public class DeviceResidentTrainingTests
{
    private const double Tolerance = 1e-4;
    private const int Rows = 96, Features = 6, Classes = 3, Batch = 16;

    [Fact]
    public void FitForSeveralEpochsMatchesTheCpuInWeightsLossesMetricsAndPredictions()
    {
        var (x, y) = Data();
        var results = Both(model =>
        {
            var history = model.Fit(x, y, epochs: 3, batchSize: Batch, validationSplit: 0.25, verbose: 0, cancellationToken: Token);
            return (history, Weights(model), model.Predict(x, verbose: 0, cancellationToken: Token).Span.ToArray(),
                model.Evaluate(x, y, verbose: 0, cancellationToken: Token));
        }, expectDevice: true);
        var (cpu, cuda) = results;
        foreach (var key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
            Close.Assert(cpu.history[key].Select(v => (float)v).ToArray(), cuda.history[key].Select(v => (float)v).ToArray(), Tolerance, key);
        AssertWeights(cpu.Item2, cuda.Item2, "weights after Fit");
        Close.Assert(cpu.Item3, cuda.Item3, Tolerance, "predictions after Fit");
        foreach (var key in cpu.Item4.Keys) Close.Assert([(float)cpu.Item4[key]], [(float)cuda.Item4[key]], Tolerance, "evaluate " + key);
    }

    [Fact]
    public void ClassWeightsWeighTheDevicesLossAsTheCpusDoes()
    {
        var (x, y) = Data();
        var classWeight = new Dictionary<int, double> { [0] = 1, [1] = 3, [2] = 0.5 };
        var (cpu, cuda) = Both(model =>
        {
            var history = model.Fit(x, y, epochs: 2, batchSize: Batch, classWeight: classWeight, verbose: 0, cancellationToken: Token);
            return (history["loss"].Select(v => (float)v).ToArray(), Weights(model));
        }, expectDevice: true);
        Close.Assert(cpu.Item1, cuda.Item1, Tolerance, "class-weighted losses");
        AssertWeights(cpu.Item2, cuda.Item2, "weights after class-weighted training");
    }

    [Fact]
    public void GetWeightsAfterTrainOnBatchSeesTheDevicesWeights()
    {
        // Layer.GetWeights syncs through HeldBy; without it the host still shows the initial weights.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 3);
            return model.Layers.SelectMany(l => l.GetWeights()).Select(w => w.Span.ToArray()).ToList();
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "layer weights after TrainOnBatch");
    }

    [Fact]
    public void PredictAndEvaluateAfterTrainOnBatchUseTheTrainedWeights()
    {
        // Predict and Evaluate sync before their forward passes, which read the weight tensors directly.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 3);
            var predictions = model.Predict(x, verbose: 0, cancellationToken: Token).Span.ToArray();
            TrainBatches(model, x, y, 2);
            return (predictions, model.Evaluate(x, y, verbose: 0, cancellationToken: Token)["loss"]);
        }, expectDevice: true);
        Close.Assert(cpu.predictions, cuda.predictions, Tolerance, "predictions");
        Close.Assert([(float)cpu.Item2], [(float)cuda.Item2], Tolerance, "evaluate loss");
    }

    [Fact]
    public void OnnxExportAfterTrainOnBatchWritesTheDevicesWeights()
    {
        // The exporter reads each layer's GetWeights; from the parameters' tensors it wrote the initial weights.
        var (x, y) = Data();
        var (direct, afterSync) = Run("cuda", model =>
        {
            TrainBatches(model, x, y, 2);
            var exported = model.ToOnnxBytes();
            _ = model.GetWeights();
            return (exported, model.ToOnnxBytes());
        }, expectDevice: true);
        Assert.Equal(afterSync, direct);
    }

    [Fact]
    public void SetWeightsBetweenTwoFitCallsTakesEffectOnTheDevice()
    {
        // SetWeights (the layers', through HeldBy) drops the device's copies; without it the second Fit would go on from the trained weights.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            var initial = model.GetWeights();
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
            model.SetWeights(initial);
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
            return Weights(model);
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "weights after SetWeights and a second Fit");
    }

    [Fact]
    public void TheTensorsReadDirectlyAtEachEpochsEndAndAfterFitAreTheTrainedOnes()
    {
        // A callback may read a parameter's tensor directly (no hook on it): Fit syncs before the epoch's callbacks and at its end.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            var seen = new TensorReader(model);
            model.Fit(x, y, epochs: 2, batchSize: Batch, verbose: 0, callbacks: [seen], cancellationToken: Token);
            return seen.Snapshots;
        }, expectDevice: true);
        Assert.Equal(2, cuda.Count);
        for (int i = 0; i < cpu.Count; i++) Close.Assert(cpu[i], cuda[i], Tolerance, $"kernel read directly, snapshot {i}");
    }

    [Fact]
    public void AFitCancelledMidEpochLeavesTheTrainedWeightsInTheTensors()
    {
        // No epoch ends: only the sync on Fit's way out brings the batches trained so far home.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
            Assert.Throws<TrainingCanceledException>(() =>
                model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, callbacks: [new CancelAfterBatch(cancel, 2)], cancellationToken: cancel.Token));
            return model.Layers.SelectMany(l => l.Parameters).Select(p => p.Value.Span.ToArray()).ToList();
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "kernels read directly after a cancelled Fit");
    }

    [Fact]
    public void SettingALayersWeightsDirectlyBetweenTrainOnBatchCallsTakesEffectOnTheDevice()
    {
        // The layer's own SetWeights tells the device (through HeldBy): no model-level call is involved.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            var initial = model.Layers[0].GetWeights();
            TrainBatches(model, x, y, 2);
            model.Layers[0].SetWeights(initial);
            TrainBatches(model, x, y, 2, first: 2);
            return Weights(model);
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "weights after resetting the first layer between batches");
    }

    [Fact]
    public void SaveWeightsFromABatchCallbackWritesTheWeightsTrainedSoFar()
    {
        // The files' writers sync first: a checkpoint mid-epoch holds the weights after that batch, not the initial ones.
        var (x, y) = Data();
        var dir = Directory.CreateTempSubdirectory("neurite-cuda-save");
        try
        {
            var (cpu, cuda) = Both(model =>
            {
                string path = Path.Combine(dir.FullName, $"{Backend.Current}.weights.h5");
                model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, shuffle: false,
                    callbacks: [new SaveAfterBatch(model, 2, path)], cancellationToken: Token);
                var reloaded = Build();
                reloaded.LoadWeights(path);
                return Weights(reloaded);
            }, expectDevice: true);
            AssertWeights(cpu, cuda, "weights saved after batch 2");
            Assert.NotEqual(Weights(Build())[0], cuda[0]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadWeightsBetweenFitCallsTakesEffectOnTheDevice()
    {
        var (x, y) = Data();
        var dir = Directory.CreateTempSubdirectory("neurite-cuda-load");
        try
        {
            var (cpu, cuda) = Both(model =>
            {
                string path = Path.Combine(dir.FullName, $"{Backend.Current}.weights.h5");
                model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
                model.SaveWeights(path);
                model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
                model.LoadWeights(path);
                model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
                return Weights(model);
            }, expectDevice: true);
            AssertWeights(cpu, cuda, "weights after LoadWeights and a third Fit");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void CompilingAnotherOptimizerBetweenFitCallsStartsItsOwnSlots()
    {
        // Compile forgets the strategy; without it the device would run SGD's momentum on Adam's first moment.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
            model.Compile("categorical_crossentropy", new Sgd(0.05, momentum: 0.9), ["accuracy"]);
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
            return Weights(model);
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "weights after recompiling with SGD");
    }

    [Fact]
    public void FreezingAWeightBetweenFitCallsTakesEffectOnTheDevice()
    {
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
            model.Layers[0].Parameters[0].Trainable = false;
            var frozen = model.Layers[0].Parameters[0].Value.Span.ToArray();
            model.Fit(x, y, epochs: 1, batchSize: Batch, verbose: 0, cancellationToken: Token);
            Assert.Equal(frozen, model.Layers[0].GetWeights()[0].Span.ToArray());
            return Weights(model);
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "weights after freezing the first kernel");
    }

    [Fact]
    public void SwitchingBackendAfterTrainOnBatchCarriesTheDevicesWeightsOver()
    {
        // Forgetting a strategy (a new backend, a new layer, a new compilation) brings its weights home first.
        var (x, y) = Data();
        var expected = Run("cpu", model => { TrainBatches(model, x, y, 4); return Weights(model); });
        var actual = Run("cuda", model =>
        {
            TrainBatches(model, x, y, 2);
            Backend.Use("cpu");
            TrainBatches(model, x, y, 2, first: 2);
            return Weights(model);
        }, expectDevice: true);
        AssertWeights(expected, actual, "weights after two batches on each backend");
    }

    [Fact]
    public void AWithBatchSizeCopyReadsAndWritesTheOriginsDeviceWeights()
    {
        // The copy shares the origin's tensors: it syncs the origin's device before reading and invalidates it after writing.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            TrainBatches(model, x, y, 2);
            var copy = model.WithBatchSize(4);
            var predicted = copy.Predict(x.Slice(0, 8), verbose: 0, cancellationToken: Token).Span.ToArray();
            var copiedWeights = copy.GetWeights().Select(w => w.Span.ToArray()).ToList();
            copy.TrainOnBatch(x.Slice(0, 4), y.Slice(0, 4));
            TrainBatches(model, x, y, 2, first: 2);
            return (predicted, copiedWeights, Weights(model));
        }, expectDevice: true);
        Close.Assert(cpu.predicted, cuda.predicted, Tolerance, "the copy's predictions");
        AssertWeights(cpu.copiedWeights, cuda.copiedWeights, "the copy's weights");
        AssertWeights(cpu.Item3, cuda.Item3, "the origin's weights after the copy trained");
    }

    [Fact]
    public void SetWeightsOnAWithBatchSizeCopyTakesEffectOnTheOriginsDevice()
    {
        // The copy's layers are not the device's: only the model-level SetWeights tells the origin.
        var (x, y) = Data();
        var (cpu, cuda) = Both(model =>
        {
            var initial = model.GetWeights();
            var copy = model.WithBatchSize(4);
            TrainBatches(model, x, y, 2);
            copy.SetWeights(initial);
            TrainBatches(model, x, y, 2, first: 2);
            return Weights(model);
        }, expectDevice: true);
        AssertWeights(cpu, cuda, "the origin's weights after its copy's SetWeights");
    }

    [Fact]
    public void AModelTheDeviceHasNoKernelsForTrainsLayerByLayer()
    {
        var model = Run("cuda", model =>
        {
            var (x, y) = Data();
            var elu = new Sequential(new Dense(4, "elu", inputShape: [Features]), new Dense(Classes, "softmax")) { Output = TextWriter.Null };
            elu.Compile("categorical_crossentropy", "adam");
            elu.TrainOnBatch(x.Slice(0, Batch), y.Slice(0, Batch));
            return elu;
        }, expectDevice: true);
        Assert.Null(model.TrainingStrategy);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static (Tensor X, Tensor Y) Data()
    {
        var x = new Tensor(Close.Random(Rows * Features, 70), Rows, Features);
        var y = new float[Rows * Classes];
        for (int r = 0; r < Rows; r++) y[r * Classes + (r * 5 + 1) % Classes] = 1f;
        return (x, new Tensor(y, Rows, Classes));
    }

    private static Sequential Build()
    {
        NeuriteRandom.SetSeed(31);
        var model = new Sequential(new Dense(16, "relu", inputShape: [Features]), new Dropout(0.2), new Dense(8, "tanh"), new Dense(Classes, "softmax"))
        {
            Output = TextWriter.Null,
        };
        model.Compile("categorical_crossentropy", new Adam(0.01), ["accuracy"]);
        return model;
    }

    private static void TrainBatches(Sequential model, Tensor x, Tensor y, int count, int first = 0)
    {
        for (int b = first; b < first + count; b++) model.TrainOnBatch(x.Slice(b * Batch, Batch), y.Slice(b * Batch, Batch));
    }

    private static List<float[]> Weights(Sequential model) => model.GetWeights().Select(w => w.Span.ToArray()).ToList();

    private static void AssertWeights(List<float[]> expected, List<float[]> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Close.Assert(expected[i], actual[i], Tolerance, $"{what}, weight {i}");
    }

    private static (T Cpu, T Cuda) Both<T>(Func<Sequential, T> scenario, bool expectDevice) =>
        (Run("cpu", scenario), Run("cuda", scenario, expectDevice));

    /// <summary>Runs the scenario on a fresh seeded model under the backend; under cuda, checks the device trainer trained it.</summary>
    private static T Run<T>(string backend, Func<Sequential, T> scenario, bool expectDevice = false)
    {
        try
        {
            if (backend == "cuda") Backend.Register("cuda", () => Devices.Cpu);
            Backend.Use(backend);
            var model = Build();
            var result = scenario(model);
            if (backend == "cuda" && expectDevice && result is not Sequential)
                Assert.True(model.TrainingStrategy is DeviceTrainer || Backend.Current == "cpu", "the model trained layer by layer, not on the device");
            return result;
        }
        finally
        {
            Backend.Use("cpu");
            CudaRegistration.Register();
        }
    }

    private sealed class TensorReader(Sequential model) : Callback
    {
        public List<float[]> Snapshots { get; } = [];

        public override void OnEpochEnd(int epoch, Logs logs) => Snapshots.Add(model.Layers[^1].Parameters[0].Value.Span.ToArray());
    }

    private sealed class CancelAfterBatch(CancellationTokenSource source, int batch) : Callback
    {
        public override void OnTrainBatchEnd(int index, Logs logs)
        {
            if (index == batch) source.Cancel();
        }
    }

    private sealed class SaveAfterBatch(Sequential model, int batch, string path) : Callback
    {
        public override void OnTrainBatchEnd(int index, Logs logs)
        {
            if (index == batch) model.SaveWeights(path);
        }
    }
}
