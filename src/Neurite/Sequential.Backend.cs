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
        if (!ReferenceEquals(_trainingStrategyBackend, Backend.Active))
        {
            ForgetTrainingStrategy();
            _trainingStrategy = Backend.Active.CreateTrainingStrategy(this);
            _trainingStrategyBackend = Backend.Active;
        }
        if (_trainingStrategy is null) return false;
        if (_trainingStrategy.TryTrainStep(xb, yb, sampleWeights, out loss)) return true;
        // Declined: this batch trains layer by layer on the host's copies.
        _trainingStrategy.SyncToHost();
        _trainingStrategy.HostChanged();
        return false;
    }
}
