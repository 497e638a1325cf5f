namespace Neurite.Backends;

/// <summary>The metrics that average one value per sample (each as <c>Neurite.Metrics</c> defines it).</summary>
internal enum MeanMetricKind
{
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    /// <summary>Share of values on the target's side of a threshold, passed beside the kind.</summary>
    BinaryAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
}
