namespace Neurite;

public sealed partial class Sequential
{
    /// <summary>
    /// What loading the model from a file (<c>Sequential.Load</c> in <c>Neurite.IO</c>) could not keep, one
    /// sentence each: a loss or optimizer Neurite lacks (the model then loads uncompiled, as Keras does when compiling from a file fails),
    /// a metric it does not compute. Keras prints such warnings; Neurite leaves showing them to the
    /// caller. Empty for a model built in code or loaded completely.
    /// </summary>
    public IReadOnlyList<string> LoadWarnings { get; internal set; } = [];

    /// <summary>The parameters the optimizer updates, in Keras's order (for saving optimizer slots).</summary>
    internal IReadOnlyList<Parameter> TrainableParameters => _trainable;

    /// <summary>The metric names given to <see cref="Compile"/>.</summary>
    internal IReadOnlyList<string> MetricNames => _metricNames;
}
