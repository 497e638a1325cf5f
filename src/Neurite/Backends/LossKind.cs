namespace Neurite.Backends;

/// <summary>The losses a backend computes with their gradients (each as <c>Neurite.Losses</c> defines it).</summary>
internal enum LossKind
{
    CategoricalCrossentropy,
    /// <summary>Categorical cross-entropy with one integer class label per row.</summary>
    SparseCategoricalCrossentropy,
    BinaryCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    /// <summary>Huber, with its δ passed beside the kind.</summary>
    Huber,
}
