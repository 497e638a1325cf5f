namespace Neurite;

/// <summary>A trainable weight with its gradient buffer of the same shape.</summary>
public sealed class Parameter
{
    internal Parameter(string name, Tensor value, bool trainable = true)
    {
        Name = name;
        Value = value;
        Gradient = Tensor.Zeros(value.ShapeArray);
        Trainable = trainable;
    }

    /// <summary>Keras's variable name within its layer, e.g. <c>kernel</c>, <c>recurrent_kernel</c>, <c>bias</c>.</summary>
    public string Name { get; }

    public Tensor Value { get; private set; }

    /// <summary>∂loss/∂value of the last backward pass; a layer's <c>Backward</c> overwrites it, and only the library writes it.</summary>
    internal Tensor Gradient { get; }

    /// <summary>∂loss/∂value of the last backward pass, read-only (row-major, the shape of <see cref="Value"/>).</summary>
    public ReadOnlySpan<float> GradientValues => Gradient.Span;

    public bool Trainable { get; set; }

    internal void ShareValue(Parameter source)
    {
        if (!source.Value.Shape.SequenceEqual(Value.Shape))
            throw new ShapeMismatchException($"sharing weight '{Name}'", ShapeText.Format(Value.ShapeArray), ShapeText.Format(source.Value.ShapeArray), "Share weights only between layers of the same configuration.");
        Value = source.Value;
    }

    public IReadOnlyList<int> Shape => Value.Shape;
}
