using System.Diagnostics;
using System.Globalization;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>mlpsplit U,B [U,B ...] [--rounds R]</c> (or any sweep point, <c>lstm:U,B,T,D</c>): the sweep's MLP step on one thread against the same step split over two
/// (the step rule's threshold at 0), in alternating blocks of steps on one model, on the clock. A loaded machine often
/// leaves the kernel worker unscheduled, and the caller then runs every part itself: the two-thread figure counts only the
/// steps whose every fork the worker took part in (the rest are listed as a share), so the ratio reads what the split does
/// when the second core is there, not how often it is. Both sides still share the cores' caches with whatever else runs.
/// </summary>
internal static class MlpSplitWorkload
{
    public static void Run(string[] args)
    {
        int rounds = 20;
        var points = new List<SweepWorkload.Point>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds") { rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); continue; }
            points.Add(SweepWorkload.Point.Parse(args[i].Contains(':') ? args[i] : "mlp:" + args[i]));
        }
        if (points.Count == 0) points.Add(SweepWorkload.Point.Parse("mlp:128,64"));
        Console.WriteLine("MLP step, one thread against split over two (clock, µs per step; two threads: steps whose every fork the worker joined)");
        Console.WriteLine($"  {"point",-24} {"MFLOP",7} {"1 thr med",10} {"2 thr med",10} {"1÷2",6} {"1 thr best",11} {"2 thr best",11} {"1÷2",6}  steps joined");
        foreach (var point in points)
        {
            var (model, x, y) = SweepWorkload.Build(point);
            model.MinSplitStepFlops = 0;
            foreach (int threads in new[] { 1, 2, 1, 2 })
            {
                Threading.MaxThreads = threads;
                var warm = Stopwatch.StartNew();
                while (warm.Elapsed.TotalSeconds < 0.15) model.TrainOnBatch(x, y);
            }
            int perBlock = (int)Math.Clamp(0.03 / (point.FlopPerStep / 100e9), 5, 500);
            var one = new List<double>();
            var two = new List<double>();
            int twoSteps = 0;
            WorkerPool.ForkLog = new WorkerPool.ForkRecord[64];
            for (int r = 0; r < rounds; r++)
            {
                Threading.MaxThreads = 1;
                for (int s = 0; s < perBlock; s++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    model.TrainOnBatch(x, y);
                    one.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1e3);
                }
                Threading.MaxThreads = 2;
                for (int s = 0; s < perBlock; s++)
                {
                    WorkerPool.ResetCounters();
                    WorkerPool.Instrument = true;
                    long t0 = Stopwatch.GetTimestamp();
                    model.TrainOnBatch(x, y);
                    double us = Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1e3;
                    WorkerPool.Instrument = false;
                    twoSteps++;
                    bool joined = WorkerPool.ForkLogCount > 0;
                    for (int f = 0; f < WorkerPool.ForkLogCount; f++) joined &= WorkerPool.ForkLog[f].PartsByWorker > 0;
                    if (joined) two.Add(us);
                }
            }
            WorkerPool.ForkLog = [];
            one.Sort();
            two.Sort();
            double Median(List<double> v) => v.Count == 0 ? double.NaN : v[v.Count / 2];
            double Best(List<double> v) => v.Count == 0 ? double.NaN : v[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {(point.Kind == SweepWorkload.Kind.Mlp ? $"U={point.Units} B={point.Batch}" : point.ToString().Trim()),-24} {point.FlopPerStep / 1e6,7:0.0} {Median(one),10:0.0} {Median(two),10:0.0} {Median(one) / Median(two),6:0.00} {Best(one),11:0.0} {Best(two),11:0.0} {Best(one) / Best(two),6:0.00}  {two.Count} of {twoSteps}"));
        }
        Threading.MaxThreads = Environment.ProcessorCount;
    }
}
