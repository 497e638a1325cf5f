using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Neurite.Tests.Shared;

namespace Neurite.Benchmarks;

/// <summary>
/// The cold-start figure of <c>neurite forecast</c> itself: each child process runs the tool's own entry point (its JIT
/// profile or early prewarm first, the arguments, the CSV, the classical fits, then <c>Fit</c> of every network of the
/// ensemble through <c>NeuralEnsemble.FitMember</c>), and times the training batches of that run from the library's
/// training events (the event source Neurite-Training) on the thread that trains.
/// </summary>
/// <remarks>
/// <c>sweep --cold --forecast SERIES.csv [--forecast ...] [--classify DATA.csv:TARGET ...] [--column value] [--steps 100] [--runs 5] [--child PATH]
/// [--variant ...] [--skip-as-built] [--jit-profile] [--no-jit-list] [--threads N]</c>. Per series and variant, each child
/// reports, for the run's first N training batches (member 0's, and the next members' where member 0 had fewer):
/// <list type="bullet">
/// <item>steps: the mean of the batches themselves (Fit's per-batch work and callbacks, the optimizer step), over the mean of
/// the last member's batches (warm: the same shapes, trained last);</item>
/// <item>span: the time from the first <c>Fit</c>'s call to the end of batch N, per batch (so also Fit's setup, the
/// shuffles, the validations and the callbacks' epoch ends between them), over the last member's whole <c>Fit</c> per batch;</item>
/// <item>the methods the JIT compiled on the training thread within that span (from the runtime's JIT events, bracketed by
/// <see cref="StepMarkers"/>), with their tier, and how many it compiled on other threads meanwhile.</item>
/// </list>
/// <c>--classify</c> runs <c>neurite classify</c> the same way. It fits one model, so where a run has one Fit its warm figures
/// are that Fit's last N batches (none of the first N among them: fewer where the Fit trained fewer than 2N), their span
/// from the end of the batch before them to the end of the last (its validations and epoch ends included).
/// Without <c>--jit-profile</c> the children run with <c>NEURITE_NO_JIT_PROFILE=1</c> (a version's first run: the early
/// prewarm); with it, each series and variant gets a fresh cache folder (<c>XDG_CACHE_HOME</c>), recorded by one
/// unmeasured child first. The tool's runtime settings are not the bench's: give them as the variant
/// (<c>DOTNET_TC_QuickJitForLoops=0;DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1</c>). <c>--no-jit-list</c> leaves the runtime's
/// JIT events off (their session costs the children a little CPU on another thread).
/// </remarks>
internal static class ColdForecast
{
    public static bool Handles(string[] args) => args.Contains("--forecast") || args.Contains("--classify") || args.Contains(ChildFlag);

    private const string ChildFlag = "--cold-forecast-child";

    public static void Run(string[] args)
    {
        if (Array.IndexOf(args, ChildFlag) is int at && at >= 0)
        {
            Environment.ExitCode = Child(args[(at + 1)..], Steps(args), !args.Contains("--no-jit-list"));
            return;
        }
        string column = SweepWorkload.Option(args, "--column") ?? "value";
        // Each run: a name and the tool's command line (its output folder added per child).
        var commands = Values(args, "--forecast").Select(path => (Name: Path.GetFileName(path), Cli: new[] { "forecast", path, "--column", column }))
            .Concat(Values(args, "--classify").Select(ClassifyCommandLine)).ToList();
        int runs = int.Parse(SweepWorkload.Option(args, "--runs") ?? "5", CultureInfo.InvariantCulture), steps = Steps(args);
        var variants = Values(args, "--variant");
        if (!args.Contains("--skip-as-built")) variants.Insert(0, "");
        if (variants.Count == 0) variants.Add("");
        string? child = SweepWorkload.Option(args, "--child");
        string? threads = SweepWorkload.Option(args, "--threads");
        bool jitProfile = args.Contains("--jit-profile"), jitList = !args.Contains("--no-jit-list");

        Console.WriteLine($"Cold start of the tool's networks (neurite forecast, classify): the run's first {steps} training batches over the last Fit's, median of {runs} children");
        if (child != null) Console.WriteLine($"  child program: {child}");
        Console.WriteLine("  steps: the batches alone; span: from the first Fit's call to batch N's end, per batch (Fit's setup, validations, epoch ends in between),");
        Console.WriteLine("  over the last member's whole Fit per batch (a run of one Fit, classify: over its last N batches); CPU = the training thread's, wall = the clock");
        Console.WriteLine(jitProfile
            ? "  with the tool's JIT profile: a fresh cache folder per series and variant, recorded by one unmeasured child"
            : "  without a JIT profile (NEURITE_NO_JIT_PROFILE=1): the tool's early prewarm");
        foreach (var (name, command) in commands)
            foreach (string variant in variants)
            {
                string? cache = jitProfile ? Directory.CreateTempSubdirectory("neurite-cold-cache-").FullName : null;
                if (cache != null) _ = Launch(child, command, threads, variant, steps, cache, jitList);
                var results = new List<ChildResult>();
                for (int r = 0; r < runs; r++) results.Add(Launch(child, command, threads, variant, steps, cache, jitList));
                if (cache != null) Directory.Delete(cache, recursive: true);
                Report(name, variant, steps, results);
            }
    }

    private static void Report(string name, string variant, int steps, List<ChildResult> results)
    {
        string Median(Func<ChildResult, double> value, string format)
        {
            var v = results.Select(value).Order().ToArray();
            return $"{v[v.Length / 2].ToString(format, CultureInfo.InvariantCulture)} [{string.Join(", ", v.Select(x => x.ToString(format, CultureInfo.InvariantCulture)))}]";
        }
        Console.WriteLine($"  {name} {(variant.Length == 0 ? "as built" : variant)}: first {results.Min(r => r.Counted)} batches of {results[0].BatchesPerEpoch} an epoch");
        Console.WriteLine($"    steps CPU ratio {Median(r => r.StepsFirstCpu / r.StepsSteadyCpu, "0.00")}, wall {Median(r => r.StepsFirstWall / r.StepsSteadyWall, "0.00")}");
        Console.WriteLine($"    span CPU ratio {Median(r => r.SpanFirstCpu / r.SpanSteadyCpu, "0.00")}, wall {Median(r => r.SpanFirstWall / r.SpanSteadyWall, "0.00")}");
        Console.WriteLine($"    warm per batch µs: step CPU {Median(r => r.StepsSteadyCpu * 1e3, "0.0")}, span CPU {Median(r => r.SpanSteadyCpu * 1e3, "0.0")}"
            + (results.All(r => r.WarmCounted > 0) ? $" (over {Median(r => r.WarmCounted, "0")} warm batches)" : ""));
        Console.WriteLine($"    first span CPU ms {Median(r => r.SpanFirstCpu * r.Counted, "0.00")} (of which outside the batches {Median(r => (r.SpanFirstCpu - r.StepsFirstCpu) * r.Counted, "0.00")}"
            + (results.All(r => !double.IsNaN(r.FitSetupCpu)) ? $"; before the first batch, Fit's setup {Median(r => r.FitSetupCpu, "0.00")}" : "")
            + $"), 1st step CPU ms {Median(r => r.FirstStepCpu, "0.00")}");
        Console.WriteLine($"    JIT on the training thread in the span: methods {Median(r => r.JitThreadMethods, "0")}, ms {Median(r => r.JitThreadMs, "0.0")}; all threads: methods {Median(r => r.JitMethods, "0")}, ms {Median(r => r.JitMs, "0.0")}");
        Console.WriteLine($"    first Fit at process ms {Median(r => r.FirstFitAtMs, "0")}; process wall ms {Median(r => r.ProcessMs, "0")}");
        if (results.Any(r => !double.IsNaN(r.StandInFitEndMs)))
            Console.WriteLine($"    early prewarm: its stand-in's Fit ended at process ms {Median(r => r.StandInFitEndMs, "0")}, its thread's last compile at {Median(r => r.EarlyLastCompileMs, "0")}");
        var listed = results.SelectMany(r => r.TrainingThreadJit.Distinct()).GroupBy(m => m).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
        foreach (var method in listed) Console.WriteLine($"      {method.Count()}/{results.Count} {method.Key}");
        if (results.Any(r => r.OtherThreadJit >= 0))
            Console.WriteLine($"    compiled on other threads in the span: {Median(r => r.OtherThreadJit, "0")}");
    }

    private sealed record ChildResult(double StepsFirstCpu, double StepsSteadyCpu, double StepsFirstWall, double StepsSteadyWall,
        double SpanFirstCpu, double SpanSteadyCpu, double SpanFirstWall, double SpanSteadyWall, double FirstStepCpu, int Counted, int BatchesPerEpoch,
        double JitThreadMethods, double JitThreadMs, double JitMethods, double JitMs, double FirstFitAtMs, double ProcessMs,
        List<string> TrainingThreadJit, int OtherThreadJit, double StandInFitEndMs, double EarlyLastCompileMs, int WarmCounted, double FitSetupCpu);

    /// <summary><c>DATA.csv:TARGET</c> as classify's command line, its name the file's and the target's.</summary>
    private static (string Name, string[] Cli) ClassifyCommandLine(string spec)
    {
        int colon = spec.LastIndexOf(':');
        if (colon <= 0 || colon == spec.Length - 1)
            throw new ArgumentException($"--classify takes DATA.csv:TARGET (the file and its class column); received '{spec}'.");
        string path = spec[..colon], target = spec[(colon + 1)..];
        return ($"classify {Path.GetFileName(path)}", ["classify", path, "--target", target]);
    }

    private static ChildResult Launch(string? childProgram, string[] command, string? threads, string variant, int steps, string? cache, bool jitList)
    {
        string self = childProgram ?? Environment.ProcessPath ?? throw new InvalidOperationException("The cold-start run needs the path of its own program to start a child.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(ColdForecast).Assembly.Location);
        string output = Directory.CreateTempSubdirectory("neurite-cold-forecast-").FullName;
        string[] cli = [.. command, "--out", output, "--json", .. threads is null ? Array.Empty<string>() : ["--threads", threads]];
        foreach (string a in (string[])["sweep", "--cold", "--steps", steps.ToString(CultureInfo.InvariantCulture), .. jitList ? Array.Empty<string>() : ["--no-jit-list"], ChildFlag, .. cli])
            start.ArgumentList.Add(a);
        if (cache != null) start.Environment["XDG_CACHE_HOME"] = cache;
        else start.Environment["NEURITE_NO_JIT_PROFILE"] = "1";
        foreach (string setting in variant.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = setting.Split('=', 2);
            start.Environment[kv[0]] = kv[1];
        }
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {self}.");
        string text = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        Directory.Delete(output, recursive: true);
        var lines = text.Split('\n');
        var line = lines.FirstOrDefault(l => l.StartsWith("COLDFIT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The cold-start child exited with code {child.ExitCode} without a result: {text}");
        var v = line[8..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var jit = lines.Where(l => l.StartsWith("JIT-TRAINING ", StringComparison.Ordinal)).Select(l => l[13..].Trim()).ToList();
        int others = lines.FirstOrDefault(l => l.StartsWith("JIT-OTHER ", StringComparison.Ordinal)) is string o ? int.Parse(o[10..].Trim(), CultureInfo.InvariantCulture) : -1;
        var early = (lines.FirstOrDefault(l => l.StartsWith("EARLY ", StringComparison.Ordinal)) ?? "EARLY NaN NaN")[6..].Trim().Split(' ')
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        // A child of an earlier build does not say how many warm batches it counted.
        return new ChildResult(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], (int)v[9], (int)v[10], v[11], v[12], v[13], v[14], v[15], v[16], jit, others, early[0], early[1],
            v.Length > 17 ? (int)v[17] : -1, v.Length > 18 ? v[18] : double.NaN);
    }

    /// <summary>In the fresh process: the tool's entry point with <paramref name="cli"/>, its output discarded, its training timed.</summary>
    private static int Child(string[] cli, int steps, bool jitList)
    {
        // The clock's first call (its P/Invoke stub) and the listeners' setup belong to no batch.
        _ = Harness.ThreadCpuMs();
        using var jit = jitList ? new JitListener() : null;
        using var timer = new FitTimer(Environment.CurrentManagedThreadId, steps);
        var (stdout, stderr) = (Console.Out, Console.Error);
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
        int code;
        try
        {
            var main = typeof(Cli.CliApp).Assembly.EntryPoint ?? throw new InvalidOperationException("The tool's assembly has no entry point.");
            code = (int)main.Invoke(null, [cli])!;
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
        double processMs = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
        if (code != 0)
        {
            Console.WriteLine($"The tool exited with code {code}: neurite {string.Join(' ', cli)}");
            return code;
        }
        var r = timer.Summarise();
        Console.WriteLine(FormattableString.Invariant(
            $"COLDFIT {r.StepsFirstCpu} {r.StepsSteadyCpu} {r.StepsFirstWall} {r.StepsSteadyWall} {r.SpanFirstCpu} {r.SpanSteadyCpu} {r.SpanFirstWall} {r.SpanSteadyWall} {r.FirstStepCpu} {r.Counted} {r.BatchesPerEpoch} ") +
            FormattableString.Invariant($"{timer.JitInSpan.ThreadMethods} {timer.JitInSpan.ThreadMs} {timer.JitInSpan.Methods} {timer.JitInSpan.Ms} {r.FirstFitAtMs} {processMs} {r.WarmCounted} {r.FirstGaps[0]}"));
        Console.WriteLine("first steps, thread CPU µs: " + string.Join(" ", r.FirstSteps.Select(v => (v * 1000).ToString("0.0", CultureInfo.InvariantCulture))));
        // Before each of those batches, since the previous one's end (the first: since Fit's call): setup, validations, epoch ends.
        Console.WriteLine("before each, thread CPU µs: " + string.Join(" ", r.FirstGaps.Select(v => (v * 1000).ToString("0.0", CultureInfo.InvariantCulture))));

        foreach (string line in timer.Breakdown()) Console.WriteLine(line);
        if (jit is not null) ListJit(jit, timer);
        return 0;
    }

    // The runtime hands its events over asynchronously: wait for the end marker's, then list what lies between the markers.
    private static void ListJit(JitListener listener, FitTimer timer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!listener.Events.Any(e => e.Name == nameof(StepMarkers.End)) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var events = listener.Events.ToArray();
        int begin = Array.FindIndex(events, e => e.Name == nameof(StepMarkers.Begin) && e.Type.EndsWith(nameof(StepMarkers), StringComparison.Ordinal));
        int end = Array.FindIndex(events, e => e.Name == nameof(StepMarkers.End) && e.Type.EndsWith(nameof(StepMarkers), StringComparison.Ordinal));
        if (begin < 0 || end < begin) return;
        ulong thread = events[begin].Thread;
        int others = 0;
        foreach (var e in events[(begin + 1)..end])
            if (e.Type.StartsWith("Neurite.Benchmarks.", StringComparison.Ordinal)) continue;
            else if (e.Thread == thread) Console.WriteLine($"JIT-TRAINING {JitListener.TierName(e.Tier)} {e.Type}.{e.Name}");
            else others++;
        Console.WriteLine(FormattableString.Invariant($"JIT-OTHER {others}"));
        // The early prewarm's thread: its stand-in's Fit, then its last compile (the short batches' prewarm after that Fit).
        var startUtc = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var last = events.LastOrDefault(e => e.Thread == timer.OtherFitThread && timer.OtherFitThread != 0);
        Console.WriteLine(FormattableString.Invariant(
            $"EARLY {timer.OtherFitEndMs} {(last is null ? double.NaN : (last.TimeStamp - startUtc).TotalMilliseconds)}"));
    }

    private static int Steps(string[] args) => int.Parse(SweepWorkload.Option(args, "--steps") ?? "100", CultureInfo.InvariantCulture);

    private static List<string> Values(string[] args, string name)
        => args.Select((a, i) => (a, i)).Where(t => t.a == name && t.i + 1 < args.Length).Select(t => args[t.i + 1]).ToList();

    /// <summary>What a child read from the training events: means in ms per batch.</summary>
    private sealed record Summary(double StepsFirstCpu, double StepsSteadyCpu, double StepsFirstWall, double StepsSteadyWall,
        double SpanFirstCpu, double SpanSteadyCpu, double SpanFirstWall, double SpanSteadyWall, double FirstStepCpu, int Counted, int BatchesPerEpoch,
        double FirstFitAtMs, double[] FirstSteps, int WarmCounted, double[] FirstGaps);

    /// <summary>
    /// Listens to the library's training events and reads the training thread's clocks at each of its events (the
    /// events of other threads, such as the early prewarm's stand-in, are left out); brackets the span of the first
    /// batches with <see cref="StepMarkers"/> for the JIT listing and with the JIT's counters.
    /// </summary>
    private sealed class FitTimer : EventListener
    {
        // TrainingEventSource's event numbers.
        private const int FitBegin = 1, BatchBegin = 2, BatchEnd = 3, FitEnd = 4;

        private readonly int _thread, _steps;
        private readonly List<(int Kind, double Cpu, long Wall, int Epoch)> _marks = new(1 << 16);
        private int _batchesEnded;
        private JitCounters _jitAtBegin;
        private double _firstFitAtMs;

        public FitTimer(int thread, int steps)
        {
            (_thread, _steps) = (thread, steps);
            // The listener's own first calls, made here rather than in the span it times.
            _marks.Add((FitBegin, Harness.ThreadCpuMs(), Stopwatch.GetTimestamp(), (int)(object)0));
            _ = _marks.Count;
            _marks.Clear();
            JitInSpan = JitCounters.Now() - JitCounters.Now();
            _ = ProcessMs();
        }

        public JitCounters JitInSpan { get; private set; }

        /// <summary>When another thread's Fit last ended (ms since the process started; NaN if none), and its OS thread.</summary>
        public double OtherFitEndMs { get; private set; } = double.NaN;

        public ulong OtherFitThread { get; private set; }

        private static double ProcessMs() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == TrainingEventSource.SourceName) EnableEvents(source, EventLevel.Verbose);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (_thread == 0) return;
            int kind = e.EventId;
            if (Environment.CurrentManagedThreadId != _thread)
            {
                // Another thread's Fit: the early prewarm's stand-in, fitted before (one hopes) the first member is.
                if (kind == FitEnd) (OtherFitEndMs, OtherFitThread) = (ProcessMs(), (ulong)e.OSThreadId);
                // The first read of an event's payload decodes it by the event's metadata: 60-140 µs of this listener's own
                // first calls, which landed in the training thread's first batch (the tool, with no listener, never pays
                // them). Read here, they are paid on the thread that trained first (the early prewarm's stand-in).
                if (kind is BatchBegin or BatchEnd) _ = e.Payload![0];
                return;
            }
            if (kind == FitBegin && _marks.Count == 0)
            {
                StepMarkers.Begin();
                _jitAtBegin = JitCounters.Now();
                _firstFitAtMs = ProcessMs();
            }
            double cpu = Harness.ThreadCpuMs();
            long wall = Stopwatch.GetTimestamp();
            _marks.Add((kind, cpu, wall, kind is BatchBegin or BatchEnd ? (int)e.Payload![0]! : -1));
            if (kind == BatchEnd && ++_batchesEnded == _steps)
            {
                JitInSpan = JitCounters.Now() - _jitAtBegin;
                StepMarkers.End();
            }
        }

        public Summary Summarise()
        {
            var batches = new List<(double Cpu, double Wall, int Index)>();
            var fits = new List<int>();
            for (int i = 0; i < _marks.Count; i++)
            {
                if (_marks[i].Kind == FitBegin) fits.Add(i);
                if (_marks[i].Kind == BatchEnd && i > 0 && _marks[i - 1].Kind == BatchBegin)
                    batches.Add((_marks[i].Cpu - _marks[i - 1].Cpu, Ms(_marks[i].Wall - _marks[i - 1].Wall), i));
            }
            if (batches.Count == 0 || fits.Count == 0) throw new InvalidOperationException("No training batch was seen on the thread that ran the tool.");
            int counted = Math.Min(_steps, batches.Count);
            var first = batches.Take(counted).ToArray();
            var (f0, endN) = (_marks[fits[0]], _marks[first[^1].Index]);
            int perEpoch = _marks.Skip(fits[0]).TakeWhile(m => m.Kind != FitEnd).Where(m => m.Kind == BatchEnd).GroupBy(m => m.Epoch).First().Count();
            (int Kind, double Cpu, long Wall, int Epoch) l0, l1;
            (double Cpu, double Wall, int Index)[] steady;
            if (fits.Count > 1)
            {
                // The last member: its Fit's batches, and its whole Fit.
                int lastFit = fits[^1], lastEnd = _marks.FindLastIndex(m => m.Kind == FitEnd);
                steady = batches.Where(b => b.Index > lastFit).ToArray();
                (l0, l1) = (_marks[lastFit], _marks[lastEnd]);
            }
            else
            {
                // One Fit (classify): its last N batches, none of the first N among them; the span from the end of the batch
                // before them to the end of the last, so the validations and epoch ends between them count, as in the first span.
                int warm = Math.Min(_steps, batches.Count - counted);
                if (warm < 1) throw new InvalidOperationException($"The one Fit trained {batches.Count} batches: none after the first {counted} to take as warm.");
                steady = batches.Skip(batches.Count - warm).ToArray();
                (l0, l1) = (_marks[batches[batches.Count - warm - 1].Index], _marks[steady[^1].Index]);
            }
            return new Summary(first.Average(b => b.Cpu), steady.Average(b => b.Cpu), first.Average(b => b.Wall), steady.Average(b => b.Wall),
                (endN.Cpu - f0.Cpu) / counted, (l1.Cpu - l0.Cpu) / steady.Length, Ms(endN.Wall - f0.Wall) / counted, Ms(l1.Wall - l0.Wall) / steady.Length,
                first[0].Cpu, counted, perEpoch, _firstFitAtMs, first.Select(b => b.Cpu).ToArray(), steady.Length,
                [.. first.Select((b, i) => (i == 0 ? f0.Cpu : _marks[first[i - 1].Index].Cpu) is double before ? _marks[b.Index - 1].Cpu - before : 0)]);
        }

        private static double Ms(long ticks) => ticks * 1e3 / Stopwatch.Frequency;

        /// <summary>
        /// The training thread's CPU µs between the events of the first and the last Fit, by kind: Fit's setup (its call to
        /// the first batch's begin), the batches, the gaps between an epoch's batches, the epochs' ends (the validation,
        /// the callbacks' epoch end, the next shuffle), and the last batch's end to Fit's end; the first Fit's within the
        /// first batches counted, the last Fit's per batch. Lines starting BREAKDOWN, for reading a child's output by hand.
        /// </summary>
        public IEnumerable<string> Breakdown()
        {
            var fits = Enumerable.Range(0, _marks.Count).Where(i => _marks[i].Kind == FitBegin).ToList();
            if (fits.Count == 0) yield break;
            foreach (var (label, fit) in new[] { ("first", fits[0]), ("last", fits[^1]) })
            {
                int end = _marks.FindIndex(fit, m => m.Kind == FitEnd);
                if (end < 0) continue;
                double setup = 0, inner = 0, epochs = 0, tail = 0, batchSum = 0;
                int batches = 0, epochGaps = 0;
                var epochList = new List<double>();
                var batchList = new List<double>();
                for (int i = fit + 1; i <= end && (label == "last" || batches < _steps); i++)
                {
                    var (a, b) = (_marks[i - 1], _marks[i]);
                    double us = (b.Cpu - a.Cpu) * 1e3;
                    if (a.Kind == FitBegin) setup += us;
                    else if (a.Kind == BatchBegin) { batchSum += us; batches++; if (batchList.Count < 12) batchList.Add(us); }
                    else if (b.Kind == FitEnd) tail += us;
                    else if (a.Epoch == b.Epoch) inner += us;
                    else { epochs += us; epochGaps++; if (epochList.Count < 12) epochList.Add(us); }
                }
                string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
                yield return $"BREAKDOWN {label} fit: batches {batches} ({F(batchSum)} µs, mean {F(batchSum / Math.Max(1, batches))}), setup {F(setup)}, " +
                    $"between batches {F(inner)}, epoch ends {epochGaps} ({F(epochs)}, mean {F(epochs / Math.Max(1, epochGaps))}), tail {F(tail)}";
                yield return $"BREAKDOWN {label} fit: first batches µs {string.Join(' ', batchList.Select(F))}; first epoch ends µs {string.Join(' ', epochList.Select(F))}";
            }
        }
    }

    /// <summary>The JIT's counters (<see cref="System.Runtime.JitInfo"/>), all threads and this one.</summary>
    private readonly record struct JitCounters(long Methods, double Ms, long ThreadMethods, double ThreadMs)
    {
        public static JitCounters Now() => new(System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,
            System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true), System.Runtime.JitInfo.GetCompilationTime(currentThread: true).TotalMilliseconds);

        public static JitCounters operator -(JitCounters a, JitCounters b)
            => new(a.Methods - b.Methods, a.Ms - b.Ms, a.ThreadMethods - b.ThreadMethods, a.ThreadMs - b.ThreadMs);
    }
}
