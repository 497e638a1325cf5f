using System.Diagnostics;
using System.Runtime.InteropServices;
using Neurite;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Optimizers;

// W1 or W2 exactly as the benchmark's tutorial workloads train them (same data, model, optimizer, batch and
// validation split), timed in this thread's CPU time per epoch: on a shared machine the clock also counts the time
// other processes hold the core, CPU time does not. Usage: CpuAb w1|w2|w3|mlp:U,B[,threads] [Fit (mlp: TrainOnBatch) calls to time].
string workload = args.Length > 0 ? args[0] : "w1";
int calls = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
Tensor x, y;
Func<Sequential> build;
Func<Optimizer> optimizer;
int epochs, batch;
int mlpThreads = 0;
if (workload == "w1")
{
    var iris = Iris.Load();
    var split = Iris.TutorialSplit();
    (x, _) = split.Apply(iris.ToTensor([.. Iris.FeatureNames]));
    (y, _) = split.Apply(CategoricalEncoding.OneHot(iris.Categorical("Species")));
    build = () => new Sequential(new Dense(3, "softmax", inputShape: [4]));
    optimizer = () => new Sgd(0.01);
    epochs = 10;
    batch = 5;
}
else if (workload == "w2")
{
    var table = BreastCancer.LoadComplete();
    var split = BreastCancer.TutorialSplit();
    (x, _) = split.Apply(CategoricalEncoding.OneHot(table, [.. BreastCancer.AttributeNames]));
    (y, _) = split.Apply(CategoricalEncoding.OneHot(table.Categorical("Class")));
    build = () => new Sequential(new Dense(8, "relu", inputShape: [89]), new Dense(5, "relu"), new Dense(2, "softmax"));
    optimizer = () => new Adam();
    epochs = 5;
    batch = 50;
}
else if (workload == "w3")
{
    // The benchmark's W3 on one thread: stateful LSTM(100, seq) -> Dropout -> LSTM(50) -> Dropout -> Dense(1), MAE,
    // Adam, 2000 windows (10, 2) in batches of 50, one epoch per Fit then ResetStates (see Train below).
    var rng = new System.Random(1);
    x = Tensor.Zeros(2000, 10, 2);
    y = Tensor.Zeros(2000, 1);
    for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
    for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
    build = () => new Sequential(
        new Lstm(100, returnSequences: true, stateful: true, inputShape: [10, 2], batchSize: 50),
        new Dropout(0.5), new Lstm(50, stateful: true), new Dropout(0.5), new Dense(1));
    optimizer = () => new Adam();
    epochs = 1;
    batch = 50;
    // Before the engine the thread count lived in Neurite.Kernels.Threading (public); later in an internal class
    // of the same name: set it by reflection in both.
    SetThreads(1);
}
else if (workload.StartsWith("mlp:", StringComparison.Ordinal))
{
    // The sweep's MLP point mlp:U,B[,threads]: Dense(U relu) x2 -> Dense(1), MSE, Adam, one TrainOnBatch per call (see Train).
    var n = workload[4..].Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    int units = n[0];
    batch = n[1];
    mlpThreads = n.Length > 2 ? n[2] : 1;
    var rng = new System.Random(3);
    x = Tensor.Zeros(batch, units);
    y = Tensor.Zeros(batch, 1);
    for (int i = 0; i < x.Size; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
    for (int i = 0; i < y.Size; i++) y.Span[i] = (float)(rng.NextDouble() * 2 - 1);
    build = () => new Sequential(new Dense(units, "relu", inputShape: [units]), new Dense(units, "relu"), new Dense(1));
    optimizer = () => new Adam();
    epochs = 1;
    SetThreads(mlpThreads);
}
else
{
    Console.Error.WriteLine($"Unknown workload '{workload}': give w1, w2, w3 or mlp:U,B[,threads].");
    return 2;
}

// The seed call by reflection: builds before the engine named the class Neurite.Random, later ones NeuriteRandom.
var seeding = (typeof(Sequential).Assembly.GetType("Neurite.NeuriteRandom") ?? typeof(Sequential).Assembly.GetType("Neurite.Random"))!
    .GetMethod("SetSeed", [typeof(int)])!;
seeding.Invoke(null, [17]);
var model = build();
model.Output = TextWriter.Null;
bool recurrent = workload == "w3";
if (mlpThreads > 0) model.Compile("mse", optimizer());
else if (recurrent) model.Compile("mae", optimizer());
else model.Compile("categorical_crossentropy", optimizer(), ["accuracy"]);
void Train()
{
    if (mlpThreads > 0) model.TrainOnBatch(x, y);
    else if (recurrent)
    {
        model.Fit(x, y, epochs: 1, batchSize: batch, shuffle: false, verbose: 0);
        model.ResetStates();
    }
    else model.Fit(x, y, epochs: epochs, batchSize: batch, validationSplit: 0.2, verbose: 0);
}

// Three seconds of warm-up let the JIT finish tiering, as the benchmark's do.
var warm = Stopwatch.StartNew();
while (warm.Elapsed.TotalSeconds < 3) Train();
var nsPerEpoch = new double[calls];
// On two threads (mlp:U,B,2) the kernel worker's CPU time too, from /proc (WorkerPool names it "Neurite kernel worker N").
string? worker = mlpThreads > 1
    ? Directory.GetDirectories("/proc/self/task").Select(Path.GetFileName)
        .FirstOrDefault(tid => File.ReadAllText($"/proc/self/task/{tid}/comm").StartsWith("Neurite kernel", StringComparison.Ordinal))
    : null;
var workerNs = new double[calls];
for (int i = 0; i < calls; i++)
{
    double workerStart = worker != null ? TaskCpuNs(worker) : 0;
    double start = ThreadCpuNs();
    Train();
    nsPerEpoch[i] = (ThreadCpuNs() - start) / epochs;
    workerNs[i] = worker != null ? TaskCpuNs(worker) - workerStart : 0;
}
if (worker != null)
{
    // The worker's time of the caller's fastest quarter of the steps: both threads' CPU per step on a quiet machine.
    var order = Enumerable.Range(0, calls).OrderBy(i => nsPerEpoch[i]).ToArray();
    double fastWorker = order.Take(Math.Max(1, calls / 4)).Select(i => workerNs[i]).Order().ElementAt(Math.Max(1, calls / 4) / 2);
    Console.Write($"worker ns (median of the caller's fastest quarter) {fastWorker:0}; ");
}
Array.Sort(nsPerEpoch);
Console.WriteLine($"{workload} thread CPU ns per epoch: min {nsPerEpoch[0]:0} p10 {nsPerEpoch[calls / 10]:0} p25 {nsPerEpoch[calls / 4]:0} median {nsPerEpoch[calls / 2]:0}");
return 0;

static void SetThreads(int threads)
{
    // Before the engine the thread count lived in Neurite.Kernels.Threading (public); later in an internal class
    // of the same name: set it by reflection in both.
    const System.Reflection.BindingFlags any = System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
    var threading = typeof(Sequential).Assembly.GetTypes().First(t => t.Name == "Threading" && t.GetProperty("MaxThreads", any) is not null);
    threading.GetProperty("MaxThreads", any)!.SetValue(null, threads);
}

static double TaskCpuNs(string tid) =>
    long.Parse(File.ReadAllText($"/proc/self/task/{tid}/schedstat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

static double ThreadCpuNs()
{
    if (OperatingSystem.IsLinux() && ClockGetTime(3, out var t) == 0) return t.Seconds * 1e9 + t.Nanoseconds;
    throw new PlatformNotSupportedException("CpuAb reads CLOCK_THREAD_CPUTIME_ID, which only Linux has here.");
}

[DllImport("libc", EntryPoint = "clock_gettime")]
static extern int ClockGetTime(int clock, out TimeSpec time);

[StructLayout(LayoutKind.Sequential)]
struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}
