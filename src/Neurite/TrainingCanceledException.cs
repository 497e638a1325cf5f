namespace Neurite;

/// <summary>
/// Thrown by <see cref="Sequential.Fit"/> when its cancellation token is cancelled. Training stops between
/// batches: the model keeps the weights (and optimizer state, and recurrent states) of the last completed
/// batch, and <see cref="History"/> holds the epochs that completed. <see cref="Sequential.History"/> is the
/// same object.
/// </summary>
public sealed class TrainingCanceledException : OperationCanceledException
{
    internal TrainingCanceledException(History history, int epoch, int completedBatches, int stepsPerEpoch, CancellationToken token)
        : base(Describe(history, epoch, completedBatches, stepsPerEpoch), token)
    {
        History = history;
        Epoch = epoch;
        CompletedBatches = completedBatches;
        StepsPerEpoch = stepsPerEpoch;
    }

    /// <summary>The epochs that completed before the cancellation (their logs, as an uncancelled Fit returns them).</summary>
    public History History { get; }

    /// <summary>The epoch (0-based) that was running when training stopped.</summary>
    public int Epoch { get; }

    /// <summary>Batches of <see cref="Epoch"/> that completed (0: stopped before it began); the weights are those after the last completed batch.</summary>
    public int CompletedBatches { get; }

    /// <summary>Batches per epoch.</summary>
    public int StepsPerEpoch { get; }

    private static string Describe(History history, int epoch, int completedBatches, int stepsPerEpoch)
    {
        int completed = history.Epoch.Count;
        string epochs = $"History holds the {completed} completed epoch{(completed == 1 ? "" : "s")}";
        return completedBatches == 0
            ? $"Training was cancelled before epoch {epoch + 1}. The model keeps the weights of the last completed batch; {epochs}."
            : $"Training was cancelled during epoch {epoch + 1}, after {completedBatches} of its {stepsPerEpoch} batches. The model keeps the weights of that last completed batch; {epochs}.";
    }
}
