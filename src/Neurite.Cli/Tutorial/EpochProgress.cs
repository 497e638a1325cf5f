using System.Diagnostics;
using System.Globalization;
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
        string metrics = string.Join(" - ", values.Select(kv => $"{kv.Key}: {kv.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"));
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{label} epoch {epoch.ToString().PadLeft(totalEpochs.ToString().Length)}/{totalEpochs} - {metrics} - {seconds:0.0}s elapsed, {left:0.0}s left");
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
}

/// <summary>Feeds <see cref="EpochProgress"/> from Fit's epoch ends (for models trained in one Fit call).</summary>
internal sealed class EpochProgressCallback(EpochProgress progress) : Callback
{
    public override void OnEpochEnd(int epoch, Logs logs) => progress.EpochDone(epoch + 1, logs);
}
