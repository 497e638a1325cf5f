using System.Diagnostics;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>A piece of parallel work: <see cref="Run"/> is called once for each part number.</summary>
/// <remarks>Callers keep one instance and refill its fields per call, so forking allocates nothing.</remarks>
internal interface IParallelWork
{
    void Run(int part);
}

/// <summary>
/// Persistent worker threads for fork/join over a few parts, cheap enough for microsecond kernels.
/// </summary>
/// <remarks>
/// <para><c>Parallel.For</c> costs about 1.8 µs per fork/join on the project machine, a spinning
/// persistent worker about 0.15 µs (PERFORMANCE.md), which is what makes two threads pay on the
/// LSTM's 10-µs products. Idle workers spin for <see cref="SpinMicroseconds"/> and then block on a
/// semaphore, so an idle pool burns no CPU.</para>
/// <para>Parts are claimed, not assigned: the caller and every worker take the next unclaimed part
/// until none is left, and the caller waits only for parts already taken. On a shared machine a
/// worker is often descheduled or still asleep when a fork starts; the caller then runs its parts
/// itself instead of waiting a time slice for it, so two threads never cost much more than one.
/// Which thread runs a part never changes a result: the parts (the partition of the work) depend
/// only on the arguments, and parts never depend on each other.</para>
/// <para>Only one fork runs at a time; a caller that finds the pool busy (another thread, or a
/// nested call from inside a part, see <see cref="InsidePart"/>) runs every part itself.</para>
/// </remarks>
internal static class WorkerPool
{
    private const int SpinMicroseconds = 200;

    private sealed class Worker
    {
        public readonly SemaphoreSlim Wake = new(0);
        public int Sleeping;
    }

    private static readonly object s_growLock = new();
    private static Worker[] s_workers = [];
    private static int s_busy;

    // The claim word: generation in the high 32 bits, parts not yet claimed in the low 32. A part is
    // claimed by a compare-exchange that also checks the generation, so a worker that wakes late
    // can never take a part of a later fork; part numbers count down from parts-1.
    private static long s_claim;
    private static int s_generation;
    private static IParallelWork? s_work;
    private static int s_done;
    private static Exception? s_failure;
    private static long s_forkTimestamp;

    [ThreadStatic] private static bool t_insidePart;
    [ThreadStatic] private static bool t_keptOnThisThread;
    private static long s_callerPartTicks, s_workerPartTicks, s_workerFirstStart;
    private static int s_partsByWorker;

    /// <summary>True on a thread that is running a part of a fork, or whose caller keeps its work here
    /// (<see cref="KeepOnThisThread"/>): work started there should not fork.</summary>
    public static bool InsidePart => t_insidePart || t_keptOnThisThread;

    /// <summary>
    /// While true, every kernel this thread starts runs on it alone, as on one thread (the same bits either way, see the
    /// class remarks): for work whose pieces are too small to pay for moving their data between cores
    /// (<c>Sequential</c>'s training step). Returns the previous setting, for the caller to restore.
    /// </summary>
    public static bool KeepOnThisThread(bool keep)
    {
        bool previous = t_keptOnThisThread;
        t_keptOnThisThread = keep;
        return previous;
    }

    /// <summary>Counters for the benchmark's diagnosis of fork/join costs; collected only while <see cref="Instrument"/> is set.</summary>
    public static bool Instrument;
    public static long Forks, PartsByWorkers, WorkerWakes, StartLatencyTicks, StartLatencySamples, ForkTicks;

    public static void ResetCounters()
    {
        Forks = PartsByWorkers = WorkerWakes = StartLatencyTicks = StartLatencySamples = ForkTicks = 0;
        ForkLogCount = 0;
    }

    /// <summary>One fork as the benchmark's step breakdown sees it (Stopwatch ticks), logged only while <see cref="Instrument"/> is set.</summary>
    public struct ForkRecord
    {
        public long Start, CallerDone, End, CallerPartTicks, WorkerPartTicks, WorkerFirstStart;
        public int PartsByWorker;
    }

    /// <summary>The forks since <see cref="ResetCounters"/>, up to the log's length (the benchmark sizes it).</summary>
    public static ForkRecord[] ForkLog = [];
    public static int ForkLogCount;

    /// <summary>Runs <c>work.Run(p)</c> for p in [0, parts) on up to <paramref name="threads"/> threads, the caller included.</summary>
    public static void Run(IParallelWork work, int parts, int threads)
    {
        threads = Math.Min(threads, parts);
        if (threads <= 1 || InsidePart || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) work.Run(p);
            return;
        }
        try
        {
            EnsureWorkers(threads - 1);
            s_failure = null;
            s_work = work;
            Volatile.Write(ref s_done, 0);
            int generation = ++s_generation;
            if (Instrument) { Forks++; s_forkTimestamp = Stopwatch.GetTimestamp(); }
            Interlocked.Exchange(ref s_claim, ((long)generation << 32) | (uint)parts); // full fence: s_work and s_done are visible first
            var workers = s_workers;
            for (int w = 0; w < threads - 1; w++)
            {
                var worker = workers[w];
                if (Interlocked.CompareExchange(ref worker.Sleeping, 0, 1) == 1)
                {
                    if (Instrument) Interlocked.Increment(ref WorkerWakes);
                    worker.Wake.Release();
                }
            }

            RunClaimedParts(generation, work, byWorker: false);
            long callerDone = Instrument ? Stopwatch.GetTimestamp() : 0;
            while (Volatile.Read(ref s_done) != parts) Thread.SpinWait(4);
            if (Instrument)
            {
                long end = Stopwatch.GetTimestamp();
                ForkTicks += end - s_forkTimestamp;
                if (ForkLogCount < ForkLog.Length)
                {
                    ref var r = ref ForkLog[ForkLogCount++];
                    r.Start = s_forkTimestamp; r.CallerDone = callerDone; r.End = end;
                    r.CallerPartTicks = s_callerPartTicks; r.WorkerPartTicks = s_workerPartTicks;
                    r.WorkerFirstStart = s_workerFirstStart; r.PartsByWorker = s_partsByWorker;
                }
                s_callerPartTicks = s_workerPartTicks = s_workerFirstStart = 0; s_partsByWorker = 0;
            }
            s_work = null;
            if (s_failure != null) throw new AggregateException("A kernel part failed.", s_failure);
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static bool TryClaim(int generation, out int part)
    {
        while (true)
        {
            long word = Volatile.Read(ref s_claim);
            int left = (int)word;
            if ((int)(word >> 32) != generation || left <= 0) { part = -1; return false; }
            if (Interlocked.CompareExchange(ref s_claim, word - 1, word) == word) { part = left - 1; return true; }
        }
    }

    private static void RunClaimedParts(int generation, IParallelWork? work, bool byWorker)
    {
        bool first = true;
        while (TryClaim(generation, out int part))
        {
            // Valid while this part is unfinished: the caller replaces s_work only after every part is done.
            work ??= s_work!;
            if (byWorker && Instrument)
            {
                Interlocked.Increment(ref PartsByWorkers);
                if (first)
                {
                    Interlocked.Add(ref StartLatencyTicks, Stopwatch.GetTimestamp() - s_forkTimestamp);
                    Interlocked.Increment(ref StartLatencySamples);
                }
            }
            long partStart = Instrument ? Stopwatch.GetTimestamp() : 0;
            if (byWorker && Instrument && first) s_workerFirstStart = partStart;
            first = false;
            t_insidePart = true;
            try { work.Run(part); }
            catch (Exception e) { s_failure = e; }
            finally { t_insidePart = false; }
            if (Instrument)
            {
                long ticks = Stopwatch.GetTimestamp() - partStart;
                if (byWorker) { Interlocked.Add(ref s_workerPartTicks, ticks); Interlocked.Increment(ref s_partsByWorker); }
                else s_callerPartTicks += ticks;
            }
            Interlocked.Increment(ref s_done);
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        lock (s_growLock)
        {
            if (s_workers.Length >= count) return;
            var grown = new Worker[count];
            Array.Copy(s_workers, grown, s_workers.Length);
            for (int i = s_workers.Length; i < count; i++)
            {
                var worker = new Worker();
                grown[i] = worker;
                var thread = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"Neurite kernel worker {i + 1}" };
                thread.Start();
            }
            s_workers = grown;
        }
    }

    private static void Loop(Worker me)
    {
        int seen = (int)(Volatile.Read(ref s_claim) >> 32);
        long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        while (true)
        {
            // Wait for a generation newer than the last one handled: spin briefly, then block.
            long spinStart = Stopwatch.GetTimestamp();
            int spins = 0;
            while ((int)(Volatile.Read(ref s_claim) >> 32) == seen)
            {
                if (++spins < 64) { Thread.SpinWait(8); continue; }
                spins = 0;
                if (Stopwatch.GetTimestamp() - spinStart < spinTicks) { Thread.Yield(); continue; }
                Interlocked.Exchange(ref me.Sleeping, 1);
                if ((int)(Volatile.Read(ref s_claim) >> 32) != seen)
                {
                    // A fork arrived while going to sleep: cancel, unless the caller already took the flag and released us.
                    if (Interlocked.CompareExchange(ref me.Sleeping, 0, 1) == 0) me.Wake.Wait();
                }
                else
                {
                    me.Wake.Wait();
                }
                spinStart = Stopwatch.GetTimestamp();
            }
            seen = (int)(Volatile.Read(ref s_claim) >> 32);
            RunClaimedParts(seen, null, byWorker: true);
        }
    }
}
