using System.Diagnostics;
using System.Globalization;

namespace Neurite.Callbacks;

/// <summary>
/// Prints progress like Keras: verbose 1 draws a live bar on a terminal (one line per epoch, or per
/// <c>Evaluate</c> / <c>Predict</c>, when output is redirected), verbose 2 prints one line per epoch (or pass).
/// </summary>
public sealed class ProgressLogger(int verbose, int stepsPerEpoch, int epochs, TextWriter output, bool liveBar) : Callback
{
    private readonly Stopwatch _epochWatch = new();
    private int _batchesDone;

    public override void OnEpochBegin(int epoch, Logs logs)
    {
        output.WriteLine($"Epoch {epoch + 1}/{epochs}");
        Start();
    }

    public override void OnTrainBatchEnd(int batch, Logs logs) => BatchEnd(batch, logs);

    public override void OnEpochEnd(int epoch, Logs logs) => Finish(logs);

    public override void OnTestBegin(Logs logs) => Start();
    public override void OnTestBatchEnd(int batch, Logs logs) => BatchEnd(batch, logs);
    public override void OnTestEnd(Logs logs) => Finish(logs);

    public override void OnPredictBegin(Logs logs) => Start();
    public override void OnPredictBatchEnd(int batch, Logs logs) => BatchEnd(batch, logs);
    public override void OnPredictEnd(Logs logs) => Finish(logs);

    /// <summary>Ends a live bar's line when a pass stops early (cancellation), so later output starts on a line of its own.</summary>
    internal void Interrupt()
    {
        if (verbose == 1 && liveBar && _batchesDone > 0) output.WriteLine();
        _batchesDone = 0;
    }

    private void Start()
    {
        _epochWatch.Restart();
        _batchesDone = 0;
    }

    private void BatchEnd(int batch, Logs logs)
    {
        _batchesDone = batch + 1;
        if (verbose == 1 && liveBar)
            output.Write($"\r{Bar(_batchesDone)}{Suffix(logs)}");
    }

    private void Finish(Logs logs)
    {
        var elapsed = _epochWatch.Elapsed;
        double msPerStep = elapsed.TotalMilliseconds / Math.Max(1, stepsPerEpoch);
        string timing = $"{Math.Round(elapsed.TotalSeconds):0}s {FormatStep(msPerStep)}";
        if (verbose == 1 && liveBar)
            output.WriteLine($"\r{Bar(stepsPerEpoch)} - {timing}{Suffix(logs)}");
        else
            output.WriteLine($"{stepsPerEpoch}/{stepsPerEpoch} - {timing}{Suffix(logs)}");
        _batchesDone = 0;
    }

    private string Bar(int done)
    {
        const int width = 30;
        int filled = stepsPerEpoch == 0 ? width : done * width / stepsPerEpoch;
        string bar = filled >= width ? new string('━', width) : new string('━', filled) + new string('─', width - filled);
        string count = done.ToString().PadLeft(stepsPerEpoch.ToString().Length);
        return $"{count}/{stepsPerEpoch} {bar}";
    }

    private static string Suffix(Logs logs) => logs.Count == 0 ? "" : " - " + FormatLogs(logs);

    private static string FormatStep(double ms) => ms >= 1 ? $"{ms:0}ms/step" : $"{ms * 1000:0}us/step";

    internal static string FormatLogs(Logs logs) =>
        string.Join(" - ", logs.Select(kv => $"{kv.Key}: {kv.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"));
}
