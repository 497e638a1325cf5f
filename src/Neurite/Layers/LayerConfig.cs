using Neurite.Activations;
using Neurite.Initializers;

namespace Neurite.Layers;

/// <summary>
/// A layer type's options as Keras's <c>get_config</c> names them, less the name, trainable flag and
/// input shape every layer has: the one place that <c>GetConfig</c>, the Keras model files,
/// weight-sharing copies, ONNX export and <c>Summary</c> read them from. Each layer type has its own
/// record, and a layer is built again from it.
/// </summary>
public abstract record LayerConfig
{
    /// <summary>
    /// The entries in Keras's order, with typed values: numbers, flags, strings, an
    /// <see cref="ActivationFunction"/>, an <see cref="Initializer"/>, or null for an option Keras has
    /// and Neurite leaves unset (regularizers, constraints, seeds).
    /// </summary>
    public abstract IEnumerable<KeyValuePair<string, object?>> Entries();

    /// <summary>A new layer of this configuration.</summary>
    internal abstract Layer Create(int[]? inputShape, int? batchSize, string? name);

    private protected static KeyValuePair<string, object?> Entry(string key, object? value) => new(key, value);
}

/// <summary><see cref="Dense"/>'s options.</summary>
public sealed record DenseConfig(int Units, ActivationFunction Activation, bool UseBias, Initializer KernelInitializer, Initializer BiasInitializer)
    : LayerConfig
{
    public override IEnumerable<KeyValuePair<string, object?>> Entries() =>
    [
        Entry("units", Units), Entry("activation", Activation), Entry("use_bias", UseBias),
        Entry("kernel_initializer", KernelInitializer), Entry("bias_initializer", BiasInitializer),
        Entry("kernel_regularizer", null), Entry("bias_regularizer", null), Entry("kernel_constraint", null), Entry("bias_constraint", null),
    ];

    internal override Layer Create(int[]? inputShape, int? batchSize, string? name) =>
        new Dense(Units, Activation, UseBias, KernelInitializer, BiasInitializer, inputShape, batchSize, name);
}

/// <summary><see cref="Dropout"/>'s options.</summary>
public sealed record DropoutConfig(double Rate) : LayerConfig
{
    public override IEnumerable<KeyValuePair<string, object?>> Entries() => [Entry("rate", Rate), Entry("seed", null), Entry("noise_shape", null)];

    internal override Layer Create(int[]? inputShape, int? batchSize, string? name) => new Dropout(Rate, inputShape, batchSize, name);
}

/// <summary>The <see cref="Activation"/> layer's options.</summary>
public sealed record ActivationConfig(ActivationFunction Activation) : LayerConfig
{
    public override IEnumerable<KeyValuePair<string, object?>> Entries() => [Entry("activation", Activation)];

    internal override Layer Create(int[]? inputShape, int? batchSize, string? name) => new Activation(Activation, inputShape, batchSize, name);
}

/// <summary>
/// The options Keras's recurrent layers share; <see cref="RecurrentActivation"/> is null for
/// <see cref="SimpleRnn"/>, which has none. Activations are Keras names (<c>"tanh"</c>, ...).
/// </summary>
public abstract record RecurrentConfig(int Units, string Activation, string? RecurrentActivation, bool UseBias,
    Initializer KernelInitializer, Initializer RecurrentInitializer, Initializer BiasInitializer, double Dropout, double RecurrentDropout,
    bool ReturnSequences, bool ReturnState, bool GoBackwards, bool Stateful) : LayerConfig
{
    public override IEnumerable<KeyValuePair<string, object?>> Entries()
    {
        KeyValuePair<string, object?>[] head =
        [
            Entry("return_sequences", ReturnSequences), Entry("return_state", ReturnState), Entry("go_backwards", GoBackwards),
            Entry("stateful", Stateful), Entry("unroll", false), Entry("zero_output_for_mask", false), Entry("units", Units),
            Entry("activation", Activation),
        ];
        foreach (var entry in head) yield return entry;
        if (RecurrentActivation is not null) yield return Entry("recurrent_activation", RecurrentActivation);
        yield return Entry("use_bias", UseBias);
        yield return Entry("kernel_initializer", KernelInitializer);
        yield return Entry("recurrent_initializer", RecurrentInitializer);
        yield return Entry("bias_initializer", BiasInitializer);
        foreach (var entry in CellEntries()) yield return entry;
        foreach (var key in (string[])["kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
            "kernel_constraint", "recurrent_constraint", "bias_constraint"])
            yield return Entry(key, null);
        yield return Entry("dropout", Dropout);
        yield return Entry("recurrent_dropout", RecurrentDropout);
        yield return Entry("seed", null);
        foreach (var entry in LastEntries()) yield return entry;
    }

    /// <summary>The cell's own options Keras lists after the initializers (<c>unit_forget_bias</c>).</summary>
    private protected virtual IEnumerable<KeyValuePair<string, object?>> CellEntries() => [];

    /// <summary>The cell's own options Keras lists last (<c>reset_after</c>).</summary>
    private protected virtual IEnumerable<KeyValuePair<string, object?>> LastEntries() => [];
}

/// <summary><see cref="Lstm"/>'s options.</summary>
public sealed record LstmConfig(int Units, string Activation, string RecurrentActivation, bool UseBias,
    Initializer KernelInitializer, Initializer RecurrentInitializer, Initializer BiasInitializer, bool UnitForgetBias,
    double Dropout, double RecurrentDropout, bool ReturnSequences, bool ReturnState, bool GoBackwards, bool Stateful)
    : RecurrentConfig(Units, Activation, RecurrentActivation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
        Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful)
{
    private protected override IEnumerable<KeyValuePair<string, object?>> CellEntries() => [Entry("unit_forget_bias", UnitForgetBias)];

    internal override Layer Create(int[]? inputShape, int? batchSize, string? name) =>
        new Lstm(Units, Activation, RecurrentActivation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
            UnitForgetBias, Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful, inputShape, batchSize, name);
}

/// <summary><see cref="Gru"/>'s options.</summary>
public sealed record GruConfig(int Units, string Activation, string RecurrentActivation, bool UseBias,
    Initializer KernelInitializer, Initializer RecurrentInitializer, Initializer BiasInitializer,
    double Dropout, double RecurrentDropout, bool ReturnSequences, bool ReturnState, bool GoBackwards, bool Stateful, bool ResetAfter)
    : RecurrentConfig(Units, Activation, RecurrentActivation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
        Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful)
{
    private protected override IEnumerable<KeyValuePair<string, object?>> LastEntries() => [Entry("reset_after", ResetAfter)];

    internal override Layer Create(int[]? inputShape, int? batchSize, string? name) =>
        new Gru(Units, Activation, RecurrentActivation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
            Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful, ResetAfter, inputShape, batchSize, name);
}

/// <summary><see cref="SimpleRnn"/>'s options (no recurrent activation: the cell has no gates).</summary>
public sealed record SimpleRnnConfig(int Units, string Activation, bool UseBias,
    Initializer KernelInitializer, Initializer RecurrentInitializer, Initializer BiasInitializer,
    double Dropout, double RecurrentDropout, bool ReturnSequences, bool ReturnState, bool GoBackwards, bool Stateful)
    : RecurrentConfig(Units, Activation, null, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
        Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful)
{
    internal override Layer Create(int[]? inputShape, int? batchSize, string? name) =>
        new SimpleRnn(Units, Activation, UseBias, KernelInitializer, RecurrentInitializer, BiasInitializer,
            Dropout, RecurrentDropout, ReturnSequences, ReturnState, GoBackwards, Stateful, inputShape, batchSize, name);
}
