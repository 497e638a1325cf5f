using Neurite.Backends;

namespace Neurite;

/// <summary>What the backend's training strategy (<see cref="ITrainingStrategy"/>) reads of a model.</summary>
/// <remarks>
/// A strategy may keep the weights, optimizer slots and carried states elsewhere while it trains (the CUDA
/// backend keeps them on the device across batches). The model therefore brings its host copies up to date
/// (<see cref="SyncHostFromBackend"/>) before anything reads them (weights, files, Predict, Evaluate, the epoch's
/// callbacks, the end of Fit) and tells the strategy (<see cref="HostWritten"/>) after anything writes them
/// (SetWeights, LoadWeights, ResetStates, SetStates, inference on a stateful model). A new compilation or
/// layer forgets the strategy; the next step asks the backend for a new one.
/// </remarks>
public sealed partial class Sequential
{
    private ITrainingStrategy? _trainingStrategy;
    // The backend that made _trainingStrategy: a model built under one backend and trained under another
    // must get the other's strategy (the CPU's halves share CPU-packed weights no other backend has).
    private IBackend? _trainingStrategyBackend;
    // The model whose weight tensors this one shares (a WithBatchSize copy): its strategy's copies count too.
    private Sequential? _weightsOrigin;

    /// <summary>False trains every batch whole, layer by layer, even where the backend has a strategy of its own (the tests' and the benchmark's comparison).</summary>
    internal bool TrainInHalves { get; set; } = true;

    /// <summary>True once the CPU backend has trained a batch of this model in halves; for tests.</summary>
    internal bool HasHalfCopies => _trainingStrategy is Backends.Cpu.HalvesTraining { HasCopies: true };

    /// <summary>The strategy training this model now (null: layer by layer); for tests.</summary>
    internal ITrainingStrategy? TrainingStrategy => _trainingStrategy;

    /// <summary>True for a model sharing another's weight tensors (<see cref="WithBatchSize"/>); a backend may train such a copy layer by layer.</summary>
    internal bool SharesWeights => _weightsOrigin is not null;

    /// <summary>The CPU backend's smallest half, for tests.</summary>
    internal const int MinRowsPerHalf = Backends.Cpu.HalvesTraining.MinRowsPerHalf;

    /// <summary>
    /// Compiles ahead, on a background thread, the backend code a training step of this model runs with batches of
    /// <paramref name="batchSize"/> rows, so that the first steps of a fresh process run optimised kernels instead of
    /// waiting for the JIT: on the CPU, the matrix-product kernels its layers' shapes pick, the bias, activation, loss and
    /// optimizer passes and the recurrent cores, on the vector path this thread's kernels use. Start it as early as the
    /// model is known (it overlaps reading the data); waiting for the returned task is optional, and training meanwhile is
    /// safe (what is not compiled yet is compiled as it would have been). <see cref="Compile(Losses.Loss, Optimizers.Optimizer, IReadOnlyList{string}?)"/>
    /// starts it for a built model unless <see cref="Backends.Backend.PrewarmOnCompile"/> is false; a second call for a
    /// model alike adds nothing. The task faults only if the compiling failed, which leaves training as it would be without it.
    /// </summary>
    /// <param name="batchSize">The rows of the training batches (default: the model's fixed batch size, else 32 as in <see cref="Fit"/>).</param>
    public Task PrewarmAsync(int? batchSize = null)
    {
        RequireBuilt(nameof(PrewarmAsync));
        int rows = batchSize ?? FixedBatchSize ?? DefaultBatchSize;
        if (rows < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), rows, $"PrewarmAsync needs a batch size of at least 1; received {rows}. Pass the batch size you will train with.");
        return Backend.Active.Prewarm(this, rows);
    }

    /// <summary>Starts <see cref="PrewarmAsync"/> for a built model when <see cref="Backend.PrewarmOnCompile"/> allows; never throws.</summary>
    private void StartPrewarmOnCompile()
    {
        if (!Backend.PrewarmOnCompile || !IsBuilt) return;
        try
        {
            // Nothing waits for it; a failure only leaves the first step to compile as before.
            _ = PrewarmAsync().ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or OutOfMemoryException)
        {
        }
    }

    /// <summary>Makes the host's weights, optimizer slots and states current; call before reading them.</summary>
    internal void SyncHostFromBackend()
    {
        _weightsOrigin?.SyncHostFromBackend();
        _trainingStrategy?.SyncToHost();
    }

    /// <summary>Tells the strategies holding copies that the host's weights, slots or states were written.</summary>
    internal void HostWritten()
    {
        _weightsOrigin?.HostWritten();
        _trainingStrategy?.HostChanged();
    }

    /// <summary>Brings the host up to date and drops the strategy, so the next step asks the backend again.</summary>
    private void ForgetTrainingStrategy()
    {
        _trainingStrategy?.Reset();
        (_trainingStrategy as IDisposable)?.Dispose();
        _trainingStrategy = null;
        _trainingStrategyBackend = null;
    }

    /// <summary>Trains the batch by the backend's strategy, when it has one for this batch.</summary>
    private bool TryTrainByBackend(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights, out double loss)
    {
        loss = 0;
        if (_weightsOrigin is not null)
        {
            // This step writes the shared tensors: the origin's strategy hands them over now and takes them back later.
            _weightsOrigin.SyncHostFromBackend();
            _weightsOrigin.HostWritten();
        }
        if (!TrainInHalves)
        {
            ForgetTrainingStrategy();
            return false;
        }
        EnsureTrainingStrategy();
        if (_trainingStrategy is null) return false;
        if (_trainingStrategy.TryTrainStep(xb, yb, sampleWeights, out loss)) return true;
        // Declined: this batch trains layer by layer on the host's copies.
        _trainingStrategy.SyncToHost();
        _trainingStrategy.HostChanged();
        return false;
    }

    /// <summary>Asks the active backend for its training strategy for this model, unless it was asked already.</summary>
    private void EnsureTrainingStrategy()
    {
        if (ReferenceEquals(_trainingStrategyBackend, Backend.Active)) return;
        ForgetTrainingStrategy();
        _trainingStrategy = Backend.Active.CreateTrainingStrategy(this);
        _trainingStrategyBackend = Backend.Active;
    }
}
