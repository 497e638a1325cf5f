using System.Diagnostics;
using System.Globalization;

namespace Neurite.Benchmarks;

/// <summary>
/// What the machine's CPUs did besides this process over a window, from Linux's <c>/proc/stat</c>: the share of all
/// CPUs' time the hypervisor ran something else instead (steal) and the share other processes of this machine used.
/// A two-thread reading on two shared vCPUs is only as good as these are low; without them a slow reading cannot be told
/// from a slow build.
/// </summary>
internal readonly record struct HostCpu(long Steal, long Busy, long Total, TimeSpan OwnCpu)
{
    /// <summary>Null where <c>/proc/stat</c> cannot be read (not Linux).</summary>
    public static HostCpu? Read()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            using var reader = new StreamReader("/proc/stat");
            // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in USER_HZ ticks; guest time is
            // already inside user and nice.
            var fields = reader.ReadLine()!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 9 || fields[0] != "cpu") return null;
            long At(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
            long busy = At(1) + At(2) + At(3) + At(6) + At(7);
            long steal = At(8);
            return new HostCpu(steal, busy, busy + At(4) + At(5) + steal, Process.GetCurrentProcess().TotalProcessorTime);
        }
        catch (IOException) { return null; }
    }

    /// <summary>Ticks per second of <c>/proc/stat</c>'s counters: USER_HZ, 100 on every Linux architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Accumulates windows (start, end) and gives the stolen and the others' shares of all CPUs' time over them.</summary>
    public sealed class Tally
    {
        private long steal, others, total;

        public void Add(HostCpu? start, HostCpu? end)
        {
            if (start is not { } a || end is not { } b) return;
            steal += b.Steal - a.Steal;
            total += b.Total - a.Total;
            long ownTicks = (long)Math.Round((b.OwnCpu - a.OwnCpu).TotalSeconds * TicksPerSecond);
            others += Math.Max(0, b.Busy - a.Busy - ownTicks);
        }

        /// <summary>"steal %  others %" over the windows added, or "n/a" where nothing could be read.</summary>
        public string Text => total <= 0 ? "    n/a" : $"{100.0 * steal / total,5:0} {100.0 * others / total,6:0}";
    }
}
