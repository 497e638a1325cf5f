namespace Neurite.Callbacks;

/// <summary>Which pass a <see cref="ProgressReport"/> comes from.</summary>
public enum ProgressPhase { Train, Evaluate, Predict }

/// <summary>
/// The figures of Keras's progress bar after one batch: batch <see cref="Batch"/> (1-based) of <see cref="Steps"/>
/// in epoch <see cref="Epoch"/> (1-based) of <see cref="Epochs"/>, with the running loss and metrics
/// (empty for <see cref="ProgressPhase.Predict"/>). <see cref="EpochEnd"/> marks the report at an epoch's end,
/// whose <see cref="Logs"/> also hold the validation values.
/// </summary>
public sealed record ProgressReport(ProgressPhase Phase, int Epoch, int Epochs, int Batch, int Steps, bool EpochEnd,
    IReadOnlyDictionary<string, double> Logs);

/// <summary>
/// Passes the progress of <c>Fit</c>, <c>Evaluate</c> or <c>Predict</c> to an <see cref="IProgress{T}"/>, for code that
/// draws its own progress (a UI's <c>Progress&lt;T&gt;</c> reports on the UI thread). Each report holds a copy of the logs.
/// </summary>
public sealed class ProgressReporter(IProgress<ProgressReport> progress) : Callback
{
    private int _epoch;
    private CallbackParams? _fitParams;

    public override void OnTrainBegin(Logs logs) => _fitParams = Params;
    public override void OnEpochBegin(int epoch, Logs logs) => _epoch = epoch;
    public override void OnTrainBatchEnd(int batch, Logs logs) => Report(ProgressPhase.Train, _epoch, batch + 1, false, logs);
    public override void OnEpochEnd(int epoch, Logs logs) => Report(ProgressPhase.Train, epoch, Params?.Steps ?? 0, true, logs);
    // Fit's validation (its test batches run under Fit's parameters) reaches the caller through the epoch-end
    // report's val_ figures, as on Keras's bar; a later Evaluate gets parameters of its own and is reported.
    public override void OnTestBatchEnd(int batch, Logs logs)
    {
        if (Params is null || !ReferenceEquals(Params, _fitParams)) Report(ProgressPhase.Evaluate, 0, batch + 1, false, logs);
    }
    public override void OnPredictBatchEnd(int batch, Logs logs) => Report(ProgressPhase.Predict, 0, batch + 1, false, logs);

    private void Report(ProgressPhase phase, int epoch, int batch, bool epochEnd, Logs logs) =>
        progress.Report(new ProgressReport(phase, epoch + 1, Params?.Epochs ?? 1, batch, Params?.Steps ?? 0, epochEnd,
            new Dictionary<string, double>(logs, StringComparer.Ordinal)));
}
