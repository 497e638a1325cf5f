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
        foreach (int threads in new[] { 1, 2 })
        {
            Threading.MaxThreads = threads;
            var (model, mx, my) = SweepWorkload.Build(point);
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
                $"  {threads} thr: Adam over all weights {adam.Best * 1e6,8:0.0} {adam.Median * 1e6,8:0.0}   step {step.Best * 1e6,8:0.0} {step.Median * 1e6,8:0.0}   forks/step {WorkerPool.Forks / 10.0:0.0}, worker wakes/step {WorkerPool.WorkerWakes / 10.0:0.0}, parts by worker/step {WorkerPool.PartsByWorkers / 10.0:0.0}"));
        }
        LayerBreakdown(point);
        Threading.MaxThreads = Environment.ProcessorCount;
    }

    /// <summary>One thread: TrainOnBatch's pieces (each layer's Forward and Backward, the loss, Adam) replayed by hand,
    /// each piece's fastest thread-CPU time over many steps, beside the whole step's.</summary>
    private static void LayerBreakdown(SweepWorkload.Point point)
    {
        Threading.MaxThreads = 1;
        var (model, x, y) = SweepWorkload.Build(point);
        for (int i = 0; i < 20; i++) model.TrainOnBatch(x, y);
        var layers = model.Layers;
        var names = new List<string>();
        foreach (var l in layers) names.Add($"{l.Name} forward");
        names.Add("loss");
        for (int i = layers.Count - 1; i >= 0; i--) names.Add($"{layers[i].Name} backward");
        names.Add("optimizer");
        names.Add("TrainOnBatch");
        var best = Enumerable.Repeat(double.MaxValue, names.Count).ToArray();
        var gradient = new float[y.Size];
        int steps = (int)Math.Clamp(2e9 / point.FlopPerStep, 20, 2000);
        for (int s = 0; s < steps; s++)
        {
            int at = 0;
            void Take(double start) { best[at] = Math.Min(best[at], Harness.ThreadCpuMs() - start); at++; }
            Tensor a = x;
            foreach (var l in layers) { double t = Harness.ThreadCpuMs(); a = l.Forward(a, training: true); Take(t); }
            double t0 = Harness.ThreadCpuMs();
            model.Loss!.Compute(a.Span, y.Span, gradient, default, y.Shape[0], 1);
            Take(t0);
            Tensor g = Tensor.Zeros(y.Shape[0], 1);
            gradient.CopyTo(g.Span);
            for (int i = layers.Count - 1; i >= 0; i--) { double t = Harness.ThreadCpuMs(); g = layers[i].Backward(g); Take(t); }
            t0 = Harness.ThreadCpuMs();
            model.Optimizer!.Apply(model.TrainableParameters);
            Take(t0);
            t0 = Harness.ThreadCpuMs();
            model.TrainOnBatch(x, y);
            Take(t0);
        }
        Console.WriteLine($"  one thread, fastest thread-CPU us of each piece over {steps} steps:");
        double sum = 0;
        for (int i = 0; i < names.Count; i++)
        {
            if (i < names.Count - 1) sum += best[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {names[i],-28} {best[i] * 1e3,9:0.0}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {"sum of the pieces",-28} {sum * 1e3,9:0.0}"));
    }

    private static (double Median, double Best) Time(Action body, int threads)
    {
        Threading.MaxThreads = threads;
        return Harness.Time(body, repetitions: 15, repetitionSeconds: 0.005, warmupSeconds: 0.2);
    }
}
