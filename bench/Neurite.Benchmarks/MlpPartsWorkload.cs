using System.Diagnostics;
using System.Globalization;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Optimizers;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>mlpparts U B</c>: the pieces of the sweep's MLP step (Dense(U relu) ×2 → Dense(1), MSE, Adam) timed one by one on
/// one and two threads: each product of a hidden layer, the bias and activation passes, the bias gradient, Adam's
/// update of every weight, and the whole step; fastest and median of many calls, on the clock (run it on a quiet
/// machine), with the fork count per step. Shows what stays serial and what each fork costs.
/// </summary>
internal static class MlpPartsWorkload
{
    public static void Run(string[] args)
    {
        int units = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 512;
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
        var rng = new System.Random(5);
        float[] Random(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        float[] x = Random(batch * units), w = Random(units * units), z = new float[batch * units], a = new float[batch * units];
        float[] dz = Random(batch * units), dw = new float[units * units], dx = new float[batch * units], bias = Random(units), db = new float[units];
        var point = new SweepWorkload.Point(SweepWorkload.Kind.Mlp, units, batch, 1, units);
        Console.WriteLine($"MLP step parts at U={units} B={batch} (us per call: fastest / median)");
        Console.WriteLine($"  {"part",-36} {"1 thr",17} {"2 thr",17}  calls/step");
        var parts = new (string Name, int PerStep, Action Body)[]
        {
            ("forward x.W (B,U)x(U,U)", 2, () => Gemm.Multiply(x, w, z, batch, units, units)),
            ("dW = x^T.dz", 2, () => Gemm.Multiply(x, dz, dw, units, batch, units, transA: true)),
            ("dx = dz.W^T", 1, () => Gemm.Multiply(dz, w, dx, batch, units, units, transB: true)),
            ("AddBias (B,U)", 2, () => FastMath.AddBias(z, bias, batch, units)),
            ("Relu (B,U)", 2, () => ElementwiseKernels.Relu(z, a)),
            ("ReluBackward (B,U)", 2, () => ElementwiseKernels.ReluBackward(z, dz, dx)),
            ("SumRows (B,U)", 2, () => FastMath.SumRows(dz, db, batch, units, accumulate: false)),
        };
        foreach (var (name, perStep, body) in parts)
        {
            var one = Time(body, 1);
            var two = Time(body, 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-36} {one.Best * 1e6,8:0.0} {one.Median * 1e6,8:0.0} {two.Best * 1e6,8:0.0} {two.Median * 1e6,8:0.0}  {perStep}"));
        }
        // Two threads as the step rule has it, and split whatever the step's size (the rule's threshold at 0).
        foreach (var (threads, split) in new[] { (1, false), (2, false), (2, true) })
        {
            Threading.MaxThreads = threads;
            var (model, mx, my) = SweepWorkload.Build(point);
            if (split) model.MinSplitStepFlops = 0;
            for (int i = 0; i < 5; i++) model.TrainOnBatch(mx, my);
            var optimizer = model.Optimizer!;
            var parameters = model.TrainableParameters;
            var adam = Harness.Time(() => optimizer.Apply(parameters), repetitions: 15, repetitionSeconds: 0.02);
            var step = Harness.Time(() => model.TrainOnBatch(mx, my), repetitions: 15, repetitionSeconds: 0.02);
            WorkerPool.ResetCounters();
            WorkerPool.Instrument = true;
            for (int i = 0; i < 10; i++) model.TrainOnBatch(mx, my);
            WorkerPool.Instrument = false;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {threads} thr{(split ? " split" : "")}: Adam over all weights {adam.Best * 1e6,8:0.0} {adam.Median * 1e6,8:0.0}   step {step.Best * 1e6,8:0.0} {step.Median * 1e6,8:0.0}   forks/step {WorkerPool.Forks / 10.0:0.0}, worker wakes/step {WorkerPool.WorkerWakes / 10.0:0.0}, parts by worker/step {WorkerPool.PartsByWorkers / 10.0:0.0}"));
        }
        CrossCoreReads();
        ForkBreakdown(point);
        LayerBreakdown(point, 1, clock: false);
        LayerBreakdown(point, 1, clock: true);
        LayerBreakdown(point, 2, clock: true);
        Threading.MaxThreads = Environment.ProcessorCount;
    }

    /// <summary>TrainOnBatch's pieces (each layer's Forward and Backward, the loss, Adam) replayed by hand, each piece's
    /// fastest time over many steps, beside the whole step's: thread CPU time, or on the <paramref name="clock"/> (the only
    /// fair measure of two threads; run it on a quiet machine).</summary>
    private static void LayerBreakdown(SweepWorkload.Point point, int threads, bool clock)
    {
        Threading.MaxThreads = threads;
        var (model, x, y) = SweepWorkload.Build(point);
        // Two threads split the step whatever its size (the pieces are replayed by hand; the rule keeps TrainOnBatch's
        // own small step on one thread).
        model.MinSplitStepFlops = 0;
        for (int i = 0; i < 20; i++) model.TrainOnBatch(x, y);
        var layers = model.Layers;
        var names = new List<string>();
        foreach (var l in layers) names.Add($"{l.Name} forward");
        names.Add("loss");
        for (int i = layers.Count - 1; i >= 0; i--) names.Add($"{layers[i].Name} backward");
        names.Add("optimizer");
        names.Add("TrainOnBatch");
        var gradient = new float[y.Size];
        int steps = (int)Math.Clamp(2e9 / point.FlopPerStep, 20, 2000) * (clock ? 5 : 1);
        var samples = new double[names.Count, steps];
        for (int s = 0; s < steps; s++)
        {
            int at = 0;
            double Now() => clock ? Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency : Harness.ThreadCpuMs();
            void Take(double start) { samples[at, s] = Now() - start; at++; }
            Tensor a = x;
            foreach (var l in layers) { double t = Now(); a = l.Forward(a, training: true); Take(t); }
            double t0 = Now();
            model.Loss!.Compute(a.Span, y.Span, gradient, default, y.Shape[0], 1);
            Take(t0);
            Tensor g = Tensor.Zeros(y.Shape[0], 1);
            gradient.CopyTo(g.Span);
            for (int i = layers.Count - 1; i >= 0; i--) { double t = Now(); g = layers[i].Backward(g); Take(t); }
            t0 = Now();
            model.Optimizer!.Apply(model.TrainableParameters);
            Take(t0);
            t0 = Now();
            model.TrainOnBatch(x, y);
            Take(t0);
        }
        Console.WriteLine($"  {threads} thread(s), {(clock ? "clock" : "thread-CPU")} us of each piece over {steps} steps: fastest / median");
        double sumBest = 0, sumMedian = 0;
        for (int i = 0; i < names.Count; i++)
        {
            var piece = Enumerable.Range(0, steps).Select(s => samples[i, s]).Order().ToArray();
            double best = piece[0], median = piece[steps / 2];
            if (i < names.Count - 1) { sumBest += best; sumMedian += median; }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {names[i],-28} {best * 1e3,9:0.0} {median * 1e3,9:0.0}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {"sum of the pieces",-28} {sumBest * 1e3,9:0.0} {sumMedian * 1e3,9:0.0}"));
    }

    /// <summary>
    /// Two threads: each fork of a step (in step order) on the clock: the caller's serial time before it, the fork's span,
    /// the caller's and the worker's time in their parts, the worker's start after the fork and the caller's wait for it
    /// at the end; medians over the steps where the worker took a part of every fork (on a busy machine it is often
    /// descheduled and the caller runs both parts), beside one thread's step.
    /// </summary>
    private static void ForkBreakdown(SweepWorkload.Point point)
    {
        const int steps = 2000;
        Threading.MaxThreads = 2;
        var (model, x, y) = SweepWorkload.Build(point);
        model.MinSplitStepFlops = 0;
        for (int i = 0; i < 50; i++) model.TrainOnBatch(x, y);
        WorkerPool.ResetCounters();
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        WorkerPool.ForkLog = new WorkerPool.ForkRecord[64];
        WorkerPool.ResetCounters();
        WorkerPool.Instrument = true;
        model.TrainOnBatch(x, y);
        WorkerPool.Instrument = false;
        int forks = WorkerPool.ForkLogCount;
        WorkerPool.ForkLog = new WorkerPool.ForkRecord[forks * steps];
        var stepStart = new long[steps];
        var stepEnd = new long[steps];
        WorkerPool.ResetCounters();
        WorkerPool.Instrument = true;
        for (int s = 0; s < steps; s++)
        {
            stepStart[s] = Stopwatch.GetTimestamp();
            model.TrainOnBatch(x, y);
            stepEnd[s] = Stopwatch.GetTimestamp();
        }
        WorkerPool.Instrument = false;
        double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
        var log = WorkerPool.ForkLog;
        var engaged = Enumerable.Range(0, steps).Where(s => Enumerable.Range(0, forks).All(f => log[s * forks + f].PartsByWorker > 0)).ToArray();
        Console.WriteLine($"  2 thr split (the step rule's threshold at 0), forks of a step on the clock (us, medians over the {engaged.Length} of {steps} steps whose every fork the worker took part in):");
        Console.WriteLine($"    {"fork",-5} {"before",8} {"span",8} {"caller",8} {"worker",8} {"w.start",8} {"wait",8}");
        double Median(IEnumerable<double> values) { var v = values.Order().ToArray(); return v.Length == 0 ? double.NaN : v[v.Length / 2]; }
        for (int f = 0; f <= forks; f++)
        {
            double before = Median(engaged.Select(s => Us((f < forks ? log[s * forks + f].Start : stepEnd[s]) - (f > 0 ? log[s * forks + f - 1].End : stepStart[s]))));
            if (f == forks) { Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {"end",-5} {before,8:0.0}")); break; }
            var r = engaged.Select(s => log[s * forks + f]).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {f,-5} {before,8:0.0} {Median(r.Select(q => Us(q.End - q.Start))),8:0.0} {Median(r.Select(q => Us(q.CallerPartTicks))),8:0.0} {Median(r.Select(q => Us(q.WorkerPartTicks))),8:0.0} {Median(r.Select(q => Us(q.WorkerFirstStart - q.Start))),8:0.0} {Median(r.Select(q => Us(q.End - q.CallerDone))),8:0.0}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    step: median {Median(engaged.Select(s => Us(stepEnd[s] - stepStart[s]))):0.0} (those steps), {Median(Enumerable.Range(0, steps).Select(s => Us(stepEnd[s] - stepStart[s]))):0.0} (all)"));
        WorkerPool.ForkLog = [];
    }

    /// <summary>
    /// What a part pays for reading data the other core wrote last: the worker's thread CPU time to read (and write back)
    /// a buffer the caller has just written, against the same buffer written by the worker itself, per 64-byte line. Each
    /// fork's caller part waits until the worker's has started, so the worker runs one; thread CPU time, so another
    /// process on the cores does not count (run it anyway on a quiet machine if you can).
    /// </summary>
    private static unsafe void CrossCoreReads()
    {
        Threading.MaxThreads = 2;
        Console.WriteLine("  cross-core reads (worker thread CPU ns per 64-byte line, median over forks): KiB, written last by the caller / by the worker");
        foreach (int kib in new[] { 16, 64, 256, 1024 })
        {
            var probe = new LineProbe(kib * 1024 / sizeof(float));
            var other = new List<double>();
            var own = new List<double>();
            for (int round = 0; round < 400; round++)
            {
                bool callerWrites = round % 2 == 0;
                if (callerWrites) probe.Touch();
                probe.WorkerTouchesFirst = !callerWrites;
                probe.WorkerRan = false;
                WorkerPool.Run(probe, 2, 2);
                if (probe.WorkerRan) (callerWrites ? other : own).Add(probe.WorkerNs);
            }
            double Median(List<double> v) { v.Sort(); return v.Count == 0 ? double.NaN : v[v.Count / 2]; }
            int lines = kib * 1024 / 64;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {kib,5} KiB  {Median(other) / lines,6:0.0} / {Median(own) / lines,6:0.0}   ({other.Count} and {own.Count} forks with the worker)"));
        }
    }

    private sealed class LineProbe(int floats) : IParallelWork
    {
        private readonly float[] _data = new float[floats];
        private volatile bool _workerStarted;
        public bool WorkerTouchesFirst, WorkerRan;
        public double WorkerNs;
        private readonly int _callerThread = Environment.CurrentManagedThreadId;

        /// <summary>Reads and writes every value (one add each): the lines end modified in this core's cache.</summary>
        public void Touch()
        {
            var d = _data;
            for (int i = 0; i < d.Length; i += 16) d[i] += 1f;
        }

        public void Run(int part)
        {
            bool onCaller = Environment.CurrentManagedThreadId == _callerThread;
            if (onCaller)
            {
                var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
                while (!_workerStarted && Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
                _workerStarted = false;
                return;
            }
            _workerStarted = true;
            if (WorkerTouchesFirst) Touch();
            double start = Harness.ThreadCpuMs();
            Touch();
            WorkerNs = (Harness.ThreadCpuMs() - start) * 1e6;
            WorkerRan = true;
        }
    }

    private static (double Median, double Best) Time(Action body, int threads)
    {
        Threading.MaxThreads = threads;
        return Harness.Time(body, repetitions: 15, repetitionSeconds: 0.005, warmupSeconds: 0.2);
    }
}
