using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Benchmarks;

/// <summary>
/// The cold-start figure of the sweep: the mean of the first N training steps in a fresh process over the
/// mean of N steps once that process is warm (both in the same child process, so a shared machine slows
/// both alike; on a quiet machine the warm mean and median agree).
/// </summary>
/// <remarks>
/// <c>sweep --cold [--steps 100] [--runs 3] [--point lstm:U,B,T,D ...] [--variant NAME=VALUE;NAME=VALUE ...] [--child PATH]</c>
/// starts this program again as a child per point, variant and run. A variant is a set of environment
/// variables for the child (e.g. <c>DOTNET_TieredCompilation=0</c>); the first variant is the runtime
/// configuration the program was built with, unless <c>--skip-as-built</c>. Without <c>--variant</c> the JIT settings worth comparing are run.
/// <c>--child</c> names another build of this program to start instead (e.g. one published with ReadyToRun).
/// <c>--jit-profile</c> starts the children as the neurite CLI starts: with a multicore-JIT profile
/// (<see cref="ProfileOptimization"/>) in a fresh folder per point and variant, recorded by one unmeasured child first;
/// <c>--prewarm</c> with the library's kernel prewarm (<see cref="Sequential.PrewarmAsync"/>) started right after the model is built
/// (<c>--prewarm-wait</c>: and waited for before the first step);
/// <c>--lead-ms N</c> has each child sleep N ms after it builds the model (and starts the prewarm) and before the first step,
/// standing in for the CLI's work between knowing the model and training.
/// <c>--early-prewarm</c> starts, first thing, the CLI's early prewarm of a stand-in model (src/Neurite.Cli/EarlyPrewarm.cs: classify's
/// MLP and forecast's one-layer network; no command prewarms a recurrent model early, so the recurrent points' stand-ins have no CLI counterpart)
/// and <c>--startup-ms N</c> keeps the main thread busy N ms before it builds the model (the CLI's parsing and reading):
/// with <c>--jit-profile --prewarm</c> the children start in the CLI's order. As the CLI's, the stand-in then fits one step of zeros
/// once its prewarm is done; <c>--early-prewarm-only</c> leaves that out (the CLI before s7-first). The stand-in has 3 outputs
/// (classify's guess), or <c>--stand-in-outputs N</c> (1: the point's own, as forecast's guess of its horizon is by default).
/// <c>--forecast SERIES.csv</c> runs <c>neurite forecast</c> itself in the children instead (<see cref="ColdForecast"/>).
/// </remarks>
internal static class ColdStart
{
    private static readonly string[] DefaultVariants =
    [
        "DOTNET_TieredPGO=0",
        "DOTNET_TC_QuickJitForLoops=0",
        "DOTNET_TieredPGO=0;DOTNET_TC_QuickJitForLoops=0",
        "DOTNET_TieredCompilation=0",
    ];

    private static readonly string[] DefaultPoints = ["lstm:64,32,20,8", "gru:64,32,20,8", "lstm:128,64,50,16", "mlp:128,64"];

    public static void Run(string[] args)
    {
        if (ColdForecast.Handles(args))
        {
            ColdForecast.Run(args);
            return;
        }
        int childAt = Array.IndexOf(args, "--cold-child");
        if (childAt >= 0)
        {
            // First, as the neurite CLI does before it parses its arguments: play back the JIT profile of the previous
            // process on a background thread and record this one's for the next.
            if (SweepWorkload.Option(args, "--jit-profile-folder") is string folder)
            {
                ProfileOptimization.SetProfileRoot(folder);
                ProfileOptimization.StartProfile("sweep-cold.jitprofile");
            }
            var childPoint = SweepWorkload.Point.Parse(args[childAt + 1]);
            Threading.MaxThreads = Threads(args);
            // Then, as the CLI does next (src/Neurite.Cli/EarlyPrewarm.cs), the prewarm of a stand-in for the model, from what
            // the command line says; the CLI's argument parsing and reading of the data follow, here a busy main thread.
            if (args.Contains("--early-prewarm") || args.Contains("--early-prewarm-only")) StartEarlyPrewarm(childPoint, !args.Contains("--early-prewarm-only"),
                int.Parse(SweepWorkload.Option(args, "--stand-in-outputs") ?? "3", CultureInfo.InvariantCulture));
            if (SweepWorkload.Option(args, "--startup-ms") is string startup) Spin(int.Parse(startup, CultureInfo.InvariantCulture));
            Child(childPoint, Steps(args), Threads(args), args.Contains("--prewarm") || args.Contains("--prewarm-wait"), args.Contains("--prewarm-wait"),
                SweepWorkload.Option(args, "--lead-ms") is string lead ? int.Parse(lead, CultureInfo.InvariantCulture) : 0);
            return;
        }

        int runs = int.Parse(SweepWorkload.Option(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        var points = Values(args, "--point");
        if (points.Count == 0) points = [.. DefaultPoints];
        var variants = Values(args, "--variant");
        if (variants.Count == 0) variants = [.. DefaultVariants];
        // --skip-as-built: only the variants named (e.g. the tool's own setting), not the build's runtime configuration too.
        if (!args.Contains("--skip-as-built")) variants.Insert(0, "");
        int steps = Steps(args), threads = Threads(args);
        // Another build of this program as the child, e.g. one published with ReadyToRun as the neurite tool is.
        string? child = SweepWorkload.Option(args, "--child");
        // The CLI's startup: a multicore-JIT profile recorded by one unmeasured process, then played back (and
        // rewritten) by each measured one.
        bool jitProfile = args.Contains("--jit-profile");
        // The library's kernel prewarm (Sequential.PrewarmAsync), started right after the model is built; --prewarm-wait
        // waits for it before the first step (what a longer startup would give).
        bool prewarmWait = args.Contains("--prewarm-wait");
        bool prewarm = prewarmWait || args.Contains("--prewarm");
        string? leadMs = SweepWorkload.Option(args, "--lead-ms");
        // The CLI's order (neurite classify): the early prewarm of a stand-in model first, then its startup's work.
        bool earlyPrewarmOnly = args.Contains("--early-prewarm-only");
        bool earlyPrewarm = earlyPrewarmOnly || args.Contains("--early-prewarm");
        string? startupMs = SweepWorkload.Option(args, "--startup-ms");
        string? standInOutputs = SweepWorkload.Option(args, "--stand-in-outputs");

        Console.WriteLine($"Cold start: mean of the first {steps} TrainOnBatch steps of a fresh process over the mean of {steps} warm steps, {threads} thread(s), median of {runs} runs");
        if (child != null) Console.WriteLine($"  child program: {child}");
        Console.WriteLine("  CPU ratio: the training thread's CPU time (what a quiet machine's clock would show for one thread); wall ratio: the clock");
        Console.WriteLine("  JIT a+b methods c+d ms: compiled in the first step + in the other first steps (all threads; the latter mostly the background tier-up); on this thread: the training thread's share of the first step's");
        Console.WriteLine($"  process: from the process's start to the end of the first {steps} steps, CPU ms of all its threads / wall ms");
        if (earlyPrewarm) Console.WriteLine($"  with the CLI's early prewarm: a stand-in model (first layer's inputs = its units, {standInOutputs ?? "3"} outputs) built and prewarmed on a background thread first thing{(earlyPrewarmOnly ? "" : ", then fitted one step of zeros")}");
        if (startupMs != null) Console.WriteLine($"  each child's main thread spins {startupMs} ms before it builds the model (the CLI's argument parsing and data reading)");
        if (leadMs != null) Console.WriteLine($"  each child sleeps {leadMs} ms between building the model and its first step (the CLI's startup, which a background compile can overlap)");
        if (prewarm) Console.WriteLine($"  with the kernel prewarm: Sequential.PrewarmAsync right after the model is built{(prewarmWait ? ", waited for before the first step" : "")}");
        if (jitProfile) Console.WriteLine("  with the CLI's JIT profile: one unmeasured process records it, each measured one plays it back and records it again");
        foreach (string point in points)
            foreach (string variant in variants)
            {
                var (cpuRatios, wallRatios) = (new List<double>(), new List<double>());
                string detail = "";
                string? profileFolder = null;
                if (jitProfile)
                {
                    profileFolder = Directory.CreateTempSubdirectory("neurite-cold-").FullName;
                    Launch(child, point, variant, steps, threads, prewarm, prewarmWait, profileFolder, leadMs, earlyPrewarm, startupMs, earlyPrewarmOnly, standInOutputs);
                }
                for (int r = 0; r < runs; r++)
                {
                    var v = Launch(child, point, variant, steps, threads, prewarm, prewarmWait, profileFolder, leadMs, earlyPrewarm, startupMs, earlyPrewarmOnly, standInOutputs);
                    wallRatios.Add(v[0] / v[1]);
                    cpuRatios.Add(v[3] / v[4]);
                    detail += $" {v[3]:0.00}/{v[4]:0.00} (1st {v[5]:0}, JIT {v[6]:0}+{v[10]:0} methods {v[7]:0}+{v[11]:0} ms, on this thread {v[8]:0} in {v[9]:0} ms; process {v[15]:0}/{v[16]:0})";
                }
                if (profileFolder != null) Directory.Delete(profileFolder, recursive: true);
                cpuRatios.Sort();
                wallRatios.Sort();
                Console.WriteLine($"  {point,-18} {(variant.Length == 0 ? "as built" : variant),-48} CPU ratio {cpuRatios[runs / 2]:0.00} " +
                    $"[{string.Join(", ", cpuRatios.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)))}], wall ratio {wallRatios[runs / 2]:0.00}; CPU ms first {steps}/warm:{detail}");
            }
    }

    private static int Steps(string[] args) => int.Parse(SweepWorkload.Option(args, "--steps") ?? "100", CultureInfo.InvariantCulture);

    private static int Threads(string[] args) => int.Parse(SweepWorkload.Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);

    private static List<string> Values(string[] args, string name)
        => args.Select((a, i) => (a, i)).Where(t => t.a == name && t.i + 1 < args.Length).Select(t => args[t.i + 1]).ToList();

    private static double[] Launch(string? childProgram, string point, string variant, int steps, int threads, bool prewarm, bool prewarmWait, string? profileFolder, string? leadMs,
        bool earlyPrewarm = false, string? startupMs = null, bool earlyPrewarmOnly = false, string? standInOutputs = null)
    {
        string self = childProgram ?? Environment.ProcessPath ?? throw new InvalidOperationException("The cold-start run needs the path of its own program to start a child.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        // Under `dotnet Neurite.Benchmarks.dll` the process is the muxer: pass the assembly to it again.
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(ColdStart).Assembly.Location);
        foreach (string a in new[] { "sweep", "--cold", "--cold-child", point, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        if (profileFolder != null) { start.ArgumentList.Add("--jit-profile-folder"); start.ArgumentList.Add(profileFolder); }
        if (prewarm) start.ArgumentList.Add("--prewarm");
        if (prewarmWait) start.ArgumentList.Add("--prewarm-wait");
        if (leadMs != null) { start.ArgumentList.Add("--lead-ms"); start.ArgumentList.Add(leadMs); }
        if (earlyPrewarm) start.ArgumentList.Add(earlyPrewarmOnly ? "--early-prewarm-only" : "--early-prewarm");
        if (startupMs != null) { start.ArgumentList.Add("--startup-ms"); start.ArgumentList.Add(startupMs); }
        if (standInOutputs != null) { start.ArgumentList.Add("--stand-in-outputs"); start.ArgumentList.Add(standInOutputs); }
        foreach (string setting in variant.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = setting.Split('=', 2);
            start.Environment[kv[0]] = kv[1];
        }
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {self}.");
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("COLD ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The cold-start child exited with code {child.ExitCode} without a result: {output}");
        return line[5..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>
    /// The CLI's early prewarm for the point's model: a stand-in with the point's layers, its first layer taking as many
    /// inputs as it has units and its last giving 3 outputs (or --stand-in-outputs) (the widths the CLI does not know before it reads the data),
    /// the point's batch as its fixed batch size, compiled (which starts its prewarm) on a background thread.
    /// </summary>
    private static void StartEarlyPrewarm(SweepWorkload.Point point, bool trainStep, int outputs)
    {
        new Thread(() =>
        {
            Layer first = point.Kind switch
            {
                SweepWorkload.Kind.Mlp => new Dense(point.Units, "relu", inputShape: [point.Units], batchSize: point.Batch),
                SweepWorkload.Kind.Lstm => new Lstm(point.Units, inputShape: [point.Steps, point.Features], batchSize: point.Batch),
                SweepWorkload.Kind.Gru or SweepWorkload.Kind.GruBefore => new Gru(point.Units, resetAfter: point.Kind == SweepWorkload.Kind.Gru, inputShape: [point.Steps, point.Features], batchSize: point.Batch),
                _ => new SimpleRnn(point.Units, inputShape: [point.Steps, point.Features], batchSize: point.Batch),
            };
            var standIn = point.Kind == SweepWorkload.Kind.Mlp
                ? new Sequential(first, new Dense(point.Units, "relu"), new Dense(outputs))
                : new Sequential(first, new Dense(outputs));
            standIn.Output = TextWriter.Null;
            standIn.Compile("mse", "adam");
            // Compile starts it unless the child has turned that off meanwhile: a model alike gets the same prewarm.
            var prewarm = standIn.PrewarmAsync();
            // Then, as the CLI's does, one epoch of one batch of zeros, validated on the same batch, after its kernels are
            // compiled: the process's first calls of the training path. --early-prewarm-only leaves that out (the CLI before s7-first).
            if (!trainStep) return;
            prewarm.Wait();
            var x = Tensor.Zeros([point.Batch, .. standIn.Layers[0].InputShape]);
            var y = Tensor.Zeros(point.Batch, outputs);
            standIn.Fit(x, y, epochs: 1, batchSize: point.Batch, validationData: (x, y), shuffle: false, verbose: 0);
        })
        { IsBackground = true, Name = "early prewarm" }.Start();
    }

    private static void Spin(int ms)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < ms) Thread.SpinWait(100);
    }

    /// <summary>In the fresh process: time each of the first <paramref name="steps"/> steps, train on until the JIT has
    /// settled (at least 2 s and 3 × steps), then time <paramref name="steps"/> more and print both, as wall-clock
    /// means and as this thread's CPU-time means.</summary>
    /// <remarks>The thread's CPU time leaves out the time other processes hold the core, so on a shared machine it is
    /// the better guess at a quiet machine's wall clock for one thread: it counts the JIT compiling on this thread
    /// (first calls, and everything when tiering is off), not the background tier-up, which a quiet second core runs
    /// beside the training.</remarks>
    private static void Child(SweepWorkload.Point point, int steps, int threads, bool prewarm, bool prewarmWait, int leadMs)
    {
        Threading.MaxThreads = threads;
        // Compile starts no prewarm of its own here (its default batch is not the point's): the child starts it, or not.
        Backend.PrewarmOnCompile = false;
        var (model, x, y) = SweepWorkload.Build(point);
        if (prewarm)
        {
            var ready = model.PrewarmAsync(point.Batch);
            if (prewarmWait) ready.Wait();
        }
        // Stands in for the CLI's work before training (arguments, data), which a background compile overlaps.
        if (leadMs > 0) Thread.Sleep(leadMs);
        var (firstWall, firstCpu) = (new double[steps], new double[steps]);
        // The clock's own first call (its P/Invoke stub is compiled then) belongs to no step.
        _ = Harness.ThreadCpuMs();
        var run = Stopwatch.StartNew();
        var jitAtStart = JitCount.Now();
        var jitAfterFirst = jitAtStart;
        TimeSteps(model, x, y, firstWall, firstCpu, () => jitAfterFirst = JitCount.Now());
        var jitAfterFirstSteps = JitCount.Now();
        // What the whole process spent until here, the background JIT included (multicore JIT's player, the tier-up).
        using var self = Process.GetCurrentProcess();
        double processCpuMs = self.TotalProcessorTime.TotalMilliseconds, processWallMs = (DateTime.Now - self.StartTime).TotalMilliseconds;
        for (int i = 0; i < 3 * steps || run.Elapsed.TotalSeconds < 2; i++) model.TrainOnBatch(x, y);
        var (steadyWall, steadyCpu) = (new double[steps], new double[steps]);
        var jitBeforeSteady = JitCount.Now();
        TimeSteps(model, x, y, steadyWall, steadyCpu);
        var jitSteady = JitCount.Now() - jitBeforeSteady;
        var (first, rest) = (jitAfterFirst - jitAtStart, jitAfterFirstSteps - jitAfterFirst);
        // Means, not medians, of the warm steps: on a shared machine preemptions land in both means alike.
        Console.WriteLine(FormattableString.Invariant(
            $"COLD {firstWall.Average()} {steadyWall.Average()} {firstWall[0]} {firstCpu.Average()} {steadyCpu.Average()} {firstCpu[0]} ") +
            FormattableString.Invariant(
            $"{first.Methods} {first.Ms} {first.ThreadMethods} {first.ThreadMs} {rest.Methods} {rest.Ms} {rest.ThreadMethods} {rest.ThreadMs} {jitSteady.Methods} {processCpuMs} {processWallMs}"));
        // For a look at how the first steps settle: sweep --cold --cold-child POINT prints them all.
        Console.WriteLine("first steps, thread CPU µs: " + string.Join(" ", firstCpu.Select(v => (v * 1000).ToString("0.0", CultureInfo.InvariantCulture))));
        Console.WriteLine($"JIT, first step: {first}; steps 2-{steps}: {rest}; {steps} warm steps: {jitSteady}");
    }

    /// <summary>Methods the JIT compiled so far and the time it spent, in all threads and on this one (the training
    /// thread waits for those; the others are the background tier-up).</summary>
    private readonly record struct JitCount(long Methods, double Ms, long ThreadMethods, double ThreadMs)
    {
        public static JitCount Now() => new(JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime().TotalMilliseconds,
            JitInfo.GetCompiledMethodCount(currentThread: true), JitInfo.GetCompilationTime(currentThread: true).TotalMilliseconds);

        public static JitCount operator -(JitCount a, JitCount b)
            => new(a.Methods - b.Methods, a.Ms - b.Ms, a.ThreadMethods - b.ThreadMethods, a.ThreadMs - b.ThreadMs);

        public override string ToString() => FormattableString.Invariant(
            $"{Methods} methods in {Ms:0.0} ms ({ThreadMethods} in {ThreadMs:0.0} ms on the training thread)");
    }

    private static void TimeSteps(Sequential model, Tensor x, Tensor y, double[] wallMs, double[] cpuMs, Action? afterFirst = null)
    {
        for (int i = 0; i < wallMs.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            double c0 = Harness.ThreadCpuMs();
            model.TrainOnBatch(x, y);
            cpuMs[i] = Harness.ThreadCpuMs() - c0;
            wallMs[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i == 0) afterFirst?.Invoke();
        }
    }
}
