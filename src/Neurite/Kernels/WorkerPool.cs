using System.Diagnostics;

namespace Neurite.Kernels;

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
/// <c>Parallel.For</c> costs about 1.8 µs per fork/join on the project machine, a spinning
/// persistent worker about 0.15 µs (PERFORMANCE.md), which is what makes two threads pay on the
/// LSTM's 10-µs products. Idle workers spin for <see cref="SpinMicroseconds"/> and then block on a
/// semaphore, so an idle pool burns no CPU. Part p runs on thread p mod T (thread 0 is the caller),
/// so the assignment of parts to threads is deterministic. Only one fork runs at a time; a caller
/// that finds the pool busy (another thread, or a nested call from inside a part) runs every part
/// itself, which gives the same results because parts never depend on which thread runs them.
/// </remarks>
internal static class WorkerPool
{
    private const int SpinMicroseconds = 200;

    private sealed class Worker
    {
        public readonly int Index;
        public readonly SemaphoreSlim Wake = new(0);
        public int Sleeping;
        // Written by the caller before Ticket is bumped; read by this worker after it sees the bump.
        public IParallelWork? Work;
        public int Parts;
        public int Threads;
        public int Ticket;
        public Worker(int index) => Index = index;
    }

    private static readonly object s_growLock = new();
    private static Worker[] s_workers = [];
    private static int s_busy;

    private static int s_pending;
    private static Exception? s_failure;

    /// <summary>Runs <c>work.Run(p)</c> for p in [0, parts) on up to <paramref name="threads"/> threads, the caller included.</summary>
    public static void Run(IParallelWork work, int parts, int threads)
    {
        threads = Math.Min(threads, parts);
        if (threads <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) work.Run(p);
            return;
        }
        try
        {
            EnsureWorkers(threads - 1);
            s_failure = null;
            Volatile.Write(ref s_pending, threads - 1);
            var workers = s_workers;
            for (int w = 0; w < threads - 1; w++)
            {
                var worker = workers[w];
                worker.Work = work;
                worker.Parts = parts;
                worker.Threads = threads;
                Interlocked.Increment(ref worker.Ticket); // full fence: the fields above are visible first
                if (Interlocked.CompareExchange(ref worker.Sleeping, 0, 1) == 1)
                    worker.Wake.Release();
            }

            Exception? mine = null;
            try
            {
                for (int p = 0; p < parts; p += threads) work.Run(p);
            }
            catch (Exception e) { mine = e; }

            var spinner = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
            for (int w = 0; w < threads - 1; w++) workers[w].Work = null;
            if (mine != null) throw mine;
            if (s_failure != null) throw new AggregateException("A kernel worker thread failed.", s_failure);
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
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
                var worker = new Worker(i);
                grown[i] = worker;
                var thread = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"Neurite kernel worker {i + 1}" };
                thread.Start();
            }
            s_workers = grown;
        }
    }

    private static void Loop(Worker me)
    {
        int seen = 0;
        long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        while (true)
        {
            // Wait for a ticket newer than the last one handled: spin briefly, then block.
            long spinStart = Stopwatch.GetTimestamp();
            int spins = 0;
            while (Volatile.Read(ref me.Ticket) == seen)
            {
                if (++spins < 64) { Thread.SpinWait(8); continue; }
                spins = 0;
                if (Stopwatch.GetTimestamp() - spinStart < spinTicks) { Thread.Yield(); continue; }
                Interlocked.Exchange(ref me.Sleeping, 1);
                if (Volatile.Read(ref me.Ticket) != seen)
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
            seen++;
            int threads = me.Threads;
            var work = me.Work!;
            int parts = me.Parts;
            try
            {
                for (int p = me.Index + 1; p < parts; p += threads) work.Run(p);
            }
            catch (Exception e)
            {
                s_failure = e;
            }
            Interlocked.Decrement(ref s_pending);
        }
    }
}
