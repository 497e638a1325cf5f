using Neurite.Backends;

namespace Neurite;

/// <summary>What the backend's training strategy (<see cref="ITrainingStrategy"/>) reads of a model.</summary>
public sealed partial class Sequential
{
    private ITrainingStrategy? _trainingStrategy;
    // The backend that made _trainingStrategy: a model built under one backend and trained under another
    // must get the other's strategy (the CPU's halves share CPU-packed weights no other backend has).
    private IBackend? _trainingStrategyBackend;

    /// <summary>False trains every batch whole, layer by layer, even where the backend has a strategy of its own (the tests' and the benchmark's comparison).</summary>
    internal bool TrainInHalves { get; set; } = true;

    /// <summary>True once the CPU backend has trained a batch of this model in halves; for tests.</summary>
    internal bool HasHalfCopies => _trainingStrategy is Backends.Cpu.HalvesTraining { HasCopies: true };

    /// <summary>The CPU backend's smallest half, for tests.</summary>
    internal const int MinRowsPerHalf = Backends.Cpu.HalvesTraining.MinRowsPerHalf;

    /// <summary>Trains the batch by the backend's strategy, when it has one for this batch.</summary>
    private bool TryTrainByBackend(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights, out double loss)
    {
        loss = 0;
        if (!TrainInHalves) return false;
        if (!ReferenceEquals(_trainingStrategyBackend, Backend.Active))
        {
            _trainingStrategy?.Reset();
            _trainingStrategy = Backend.Active.CreateTrainingStrategy(this);
            _trainingStrategyBackend = Backend.Active;
        }
        return _trainingStrategy is not null && _trainingStrategy.TryTrainStep(xb, yb, sampleWeights, out loss);
    }
}
