using Neurite.Callbacks;

namespace Neurite;

/// <summary>Progress, callbacks and cancellation shared by <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>.</summary>
public sealed partial class Sequential
{
    /// <summary>
    /// The <see cref="Neurite.History"/> of the latest <see cref="Fit"/> (Keras's <c>model.history</c>), also when
    /// that Fit was cancelled: it then holds the epochs that completed. Null before the first Fit.
    /// </summary>
    public History? History { get; private set; }

    /// <summary>
    /// <see cref="Fit"/> on a thread-pool thread, for UI and server code that must not block. The model must not
    /// be used otherwise until the task ends. A cancellation during training ends the task as cancelled; awaiting
    /// it throws the <see cref="TrainingCanceledException"/>, with the completed epochs' History. A token already
    /// cancelled at the call gives a cancelled task that does not train.
    /// </summary>
    public Task<History> FitAsync(Tensor x, Tensor y, int epochs = 1, int? batchSize = null, double validationSplit = 0,
        (Tensor X, Tensor Y)? validationData = null, bool? shuffle = null, int verbose = 1,
        IEnumerable<Callback>? callbacks = null, IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0,
        CancellationToken cancellationToken = default)
    {
        RequireCompiled(nameof(FitAsync));
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var callbackList = callbacks?.ToList();
        return Task.Run(() => Fit(x, y, epochs, batchSize, validationSplit, validationData, shuffle, verbose, callbackList,
            classWeight, initialEpoch, cancellationToken), cancellationToken);
    }

    /// <summary>Keras's live bar only where it can be redrawn: verbose 1 on a console that is not redirected.</summary>
    private bool LiveBar(int verbose) => verbose == 1 && ReferenceEquals(Output, Console.Out) && !Console.IsOutputRedirected;

    private static void CheckVerbose(int verbose)
    {
        if (verbose is < 0 or > 2) throw new NeuriteException($"verbose must be 0, 1 or 2. Received verbose={verbose}.");
    }

    /// <summary>The callbacks of one Evaluate or Predict pass, with a progress logger when <paramref name="verbose"/> asks for one.</summary>
    private List<Callback> PassCallbacks(IEnumerable<Callback>? callbacks, int verbose, int rows, int batch)
    {
        int steps = (rows + batch - 1) / batch;
        var list = callbacks is null ? [] : new List<Callback>(callbacks);
        if (verbose > 0) list.Add(new ProgressLogger(verbose, steps, 0, Output, LiveBar(verbose)));
        var runParams = new CallbackParams(1, steps, verbose);
        foreach (var c in list)
        {
            c.Model = this;
            c.Params = runParams;
        }
        return list;
    }

    private static void ThrowIfCancelled(List<Callback>? callbacks, CancellationToken cancellationToken)
    {
        if (!cancellationToken.IsCancellationRequested) return;
        if (callbacks is not null)
            foreach (var c in callbacks)
                if (c is ProgressLogger progress) progress.Interrupt();
        throw new OperationCanceledException(cancellationToken);
    }

    private static TrainingCanceledException Canceled(History history, ProgressLogger? progress, int epoch, int completedBatches,
        int stepsPerEpoch, CancellationToken cancellationToken)
    {
        progress?.Interrupt();
        return new TrainingCanceledException(history, epoch, completedBatches, stepsPerEpoch, cancellationToken);
    }
}
