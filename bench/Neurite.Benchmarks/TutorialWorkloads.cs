using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Benchmarks;

/// <summary>
/// W1 and W2 of PERFORMANCE.md: the tutorial's iris and breast-cancer training, in ms per epoch
/// (median of repetitions of whole Fit calls), beside the TorchSharp figures measured on this machine kind.
/// </summary>
internal static class TutorialWorkloads
{
    private const double TorchSharpW1Ms = 0.63, TorchSharpW2Ms = 1.4;

    public static void RunW1(string[] args)
    {
        var iris = Iris.Load();
        var x = iris.ToTensor([.. Iris.FeatureNames]);
        var y = CategoricalEncoding.OneHot(iris.Categorical("Species"));
        var split = Iris.TutorialSplit();
        var (xTrain, _) = split.Apply(x);
        var (yTrain, _) = split.Apply(y);
        Report("W1 iris: Dense(4->3 softmax), SGD 0.01, 103 rows, batch 5, validation 0.2", TorchSharpW1Ms, 100, 5, xTrain, yTrain,
            () => new Sequential(new Dense(3, "softmax", inputShape: [4])), () => new Sgd(0.01), args);
    }

    public static void RunW2(string[] args)
    {
        var table = BreastCancer.LoadComplete();
        var x = CategoricalEncoding.OneHot(table, [.. BreastCancer.AttributeNames]);
        var y = CategoricalEncoding.OneHot(table.Categorical("Class"));
        var split = BreastCancer.TutorialSplit();
        var (xTrain, _) = split.Apply(x);
        var (yTrain, _) = split.Apply(y);
        Report("W2 breast cancer: Dense(89->8 relu, 5 relu, 2 softmax), Adam, 481 rows, batch 50, validation 0.2", TorchSharpW2Ms, 50, 50, xTrain, yTrain,
            () => new Sequential(new Dense(8, "relu", inputShape: [89]), new Dense(5, "relu"), new Dense(2, "softmax")), () => new Adam(), args);
    }

    // Steady state is measured: a few seconds of warm-up let the JIT finish tiering (the first few
    // hundred epochs of a fresh process run partly unoptimised code; the hot library methods are marked
    // AggressiveOptimization, which cuts but does not remove that).
    private static void Report(string title, double peerMs, int epochs, int batch, Tensor x, Tensor y,
        Func<Sequential> build, Func<Optimizer> optimizer, string[] args)
    {
        bool quick = args.Contains("--quick");
        // --threads N sets Threading.MaxThreads (default: the library's, every core).
        int threadsAt = Array.IndexOf(args, "--threads");
        if (threadsAt >= 0) Neurite.Backends.Cpu.Kernels.Threading.MaxThreads = int.Parse(args[threadsAt + 1], System.Globalization.CultureInfo.InvariantCulture);
        NeuriteRandom.SetSeed(17);
        var model = build();
        model.Output = TextWriter.Null;
        model.Compile("categorical_crossentropy", optimizer(), ["accuracy"]);
        var (median, best) = Harness.Time(() => model.Fit(x, y, epochs: epochs, batchSize: batch, validationSplit: 0.2, verbose: 0),
            repetitions: quick ? 5 : 21, repetitionSeconds: 0.05, warmupSeconds: quick ? 1 : 3);
        double msPerEpoch = median * 1000 / epochs, bestMs = best * 1000 / epochs;
        var xb = x.Slice(0, batch);
        var yb = y.Slice(0, batch);
        double bytesPerStep = Harness.AllocatedBytesPerCall(() => model.TrainOnBatch(xb, yb));
        Console.WriteLine(title);
        Console.WriteLine($"  ms per epoch: median {msPerEpoch:0.0000}, best {bestMs:0.0000}  (TorchSharp {peerMs} ms: {peerMs / msPerEpoch:0.0}x faster at the median)");
        Console.WriteLine($"  bytes allocated per training step once warm: {bytesPerStep:0}");
    }
}
