using System.Diagnostics;
using System.Globalization;
using System.Text;
using Neurite.Callbacks;

namespace Neurite.Cli.Tutorial;

/// <summary>
/// Progress of a long training loop: one line redrawn in place on a terminal, otherwise a line at every
/// tenth of the run (and the last epoch), each with the time so far and the time left.
/// </summary>
internal sealed class EpochProgress(TextWriter output, int totalEpochs, bool live, string label)
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly int _every = Math.Max(1, totalEpochs / 10);

    public TimeSpan Elapsed => _watch.Elapsed;

    /// <summary>Reports that <paramref name="epoch"/> (1-based) finished with these values.</summary>
    public void EpochDone(int epoch, IReadOnlyDictionary<string, double> values)
    {
        bool last = epoch == totalEpochs;
        if (!live && epoch % _every != 0 && !last && epoch != 1) return;
        double seconds = _watch.Elapsed.TotalSeconds;
        double left = seconds / epoch * (totalEpochs - epoch);
        string line = Line(label, epoch, totalEpochs, values, seconds, left);
        if (live)
        {
            output.Write("\r" + line.PadRight(100));
            if (last) output.WriteLine();
        }
        else
        {
            output.WriteLine(line);
        }
    }

    /// <summary>
    /// "label epoch   e/total - name: 0.0000 - ... - 0.0s elapsed, 0.0s left", the epoch padded to the total's width.
    /// </summary>
    /// <remarks>
    /// Appended piece by piece rather than through LINQ and string.Join: classify prints epoch 1's line within its first
    /// 100 batches on the training thread, where that line took 37–73 µs (the LINQ query and string.Join 30 of them) against
    /// 7–9 µs batches, although the early prewarm's stand-in had run the same code on its own thread
    /// (bench/results/cold-start-s11.md).
    /// </remarks>
    internal static string Line(string label, int epoch, int totalEpochs, IReadOnlyDictionary<string, double> values, double seconds, double left)
    {
        var invariant = CultureInfo.InvariantCulture;
        string epochText = epoch.ToString(invariant), totalText = totalEpochs.ToString(invariant);
        var line = new StringBuilder(160).Append(label).Append(" epoch ")
            .Append(' ', Math.Max(0, totalText.Length - epochText.Length)).Append(epochText).Append('/').Append(totalText).Append(" - ");
        bool first = true;
        foreach (var (name, value) in values)
        {
            if (!first) line.Append(" - ");
            line.Append(name).Append(": ").Append(value.ToString("0.0000", invariant));
            first = false;
        }
        return line.Append(" - ").Append(seconds.ToString("0.0", invariant)).Append("s elapsed, ").Append(left.ToString("0.0", invariant)).Append("s left").ToString();
    }
}

/// <summary>Feeds <see cref="EpochProgress"/> from Fit's epoch ends (for models trained in one Fit call).</summary>
internal sealed class EpochProgressCallback(EpochProgress progress) : Callback
{
    public override void OnEpochEnd(int epoch, Logs logs) => progress.EpochDone(epoch + 1, logs);
}
