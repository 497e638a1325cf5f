namespace Neurite.Backends.Cpu.Kernels;

/// <summary>How many threads the kernels may use.</summary>
/// <remarks>
/// The default is every core of the machine, as TensorFlow's CPU kernels do. Kernels split work only
/// where it is big enough to gain, and the split never changes a result: every output element is
/// computed by the same instruction sequence whatever the thread count, and a recurrent model's
/// batches are split into halves whether one thread runs them or two (so its training uses at most
/// two threads). Set 1 to keep a process to one core (e.g. beside other work on a shared machine).
/// </remarks>
internal static class Threading
{
    /// <summary>The most threads a kernel may use, counting the calling thread. At least 1.</summary>
    public const int Limit = 64;

    private static int _maxThreads = Math.Clamp(Environment.ProcessorCount, 1, Limit);

    /// <summary>The most threads a kernel may use, counting the calling thread (1 to <see cref="Limit"/>; default: the processor count).</summary>
    public static int MaxThreads
    {
        get => _maxThreads;
        set
        {
            if (value < 1 || value > Limit)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"Backend.MaxThreads must be between 1 and {Limit}. Received {value}. Use 1 for single-threaded kernels or Environment.ProcessorCount to use every core.");
            _maxThreads = value;
        }
    }
}
