using System.Diagnostics;
using System.Globalization;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>sweep --thread-cpu</c>: two threads' gain judged from CPU time, which other processes on a shared machine
/// do not inflate the way they inflate the clock. Per point, one thread's CPU time per step against the CPU time
/// of the training thread and of the kernel worker during the same steps on two threads.
/// </summary>
/// <remarks>
/// <para>On two threads the training thread runs its half and then spins until the worker's half is done, and the
/// worker spins briefly between forks, so both threads are on a core for the whole step when the machine is quiet:
/// a quiet step then lasts about the training thread's CPU time, and about half of the two threads' sum. So
/// "one ÷ caller" and "2·one ÷ sum" estimate the quiet machine's gain; a sum above one thread's time is what the two
/// halves cost each other (shared L3 and memory, the spin). A thread that is descheduled while the other spins
/// shortens the spin, so under load both estimates lean high; read them beside each other.</para>
/// <para>The clock cannot show the gain on a shared Linux machine: with <c>sched_autogroup_enabled</c> the kernel shares the
/// cores fairly between busy sessions, not threads, so while another session is busy a second thread only splits this
/// session's share.</para>
/// <para>The worker's CPU time comes from <c>/proc/self/task/TID/schedstat</c> (Linux only).</para>
/// </remarks>
internal static class ThreadCpuScaling
{
    public static void Run(IEnumerable<SweepWorkload.Point> points, int steps)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.WriteLine("sweep --thread-cpu reads each thread's CPU time from /proc and runs on Linux only.");
            return;
        }
        Console.WriteLine("Two threads from CPU time: ms per step (fastest of the steps), one thread against the training thread and the kernel worker on two");
        Console.WriteLine($"  {"point",-34} {"1 thr",9} {"caller",9} {"worker",9} {"sum",9}  one÷caller  2·one÷sum  (clock ms of those steps: 1 thr, 2 thr)");
        foreach (var point in points)
        {
            var one = Measure(point, 1, steps);
            var two = Measure(point, 2, steps);
            if (two.Worker < 0)
            {
                Console.WriteLine($"  {point,-34} {one.Caller,9:0.0}   (two threads never forked: no kernel worker thread)");
                continue;
            }
            double sum = two.Caller + two.Worker;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {point,-34} {one.Caller,9:0.0} {two.Caller,9:0.0} {two.Worker,9:0.0} {sum,9:0.0}  {one.Caller / two.Caller,10:0.00} {2 * one.Caller / sum,10:0.00}  ({one.Clock:0.0}, {two.Clock:0.0})"));
        }
    }

    /// <summary>The step whose training thread used the least CPU time: that thread's and the worker's CPU ms in it (-1: no
    /// worker) and the step's clock time.</summary>
    private static (double Caller, double Worker, double Clock) Measure(SweepWorkload.Point point, int threads, int steps)
    {
        Threading.MaxThreads = threads;
        var (model, x, y) = SweepWorkload.Build(point);
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        string? worker = threads > 1 ? FindWorker() : null;
        (double Caller, double Worker, double Clock) best = (double.MaxValue, -1, 0);
        for (int i = 0; i < steps; i++)
        {
            double workerStart = worker != null ? TaskCpuMs(worker) : 0, callerStart = Harness.ThreadCpuMs();
            long clockStart = Stopwatch.GetTimestamp();
            model.TrainOnBatch(x, y);
            double clock = Stopwatch.GetElapsedTime(clockStart).TotalMilliseconds;
            double caller = Harness.ThreadCpuMs() - callerStart;
            double workerMs = worker != null ? TaskCpuMs(worker) - workerStart : -1;
            if (caller < best.Caller) best = (caller, workerMs, clock);
        }
        return best;
    }

    // WorkerPool names its threads "Neurite kernel worker N"; Linux keeps the first 15 characters.
    private static string? FindWorker() =>
        Directory.GetDirectories("/proc/self/task").Select(Path.GetFileName)
            .FirstOrDefault(tid => File.ReadAllText($"/proc/self/task/{tid}/comm").StartsWith("Neurite kernel", StringComparison.Ordinal));

    private static double TaskCpuMs(string tid) =>
        long.Parse(File.ReadAllText($"/proc/self/task/{tid}/schedstat").Split(' ')[0], CultureInfo.InvariantCulture) / 1e6;
}
