namespace Neurite;

/// <summary>A model input or output: its name and shape (null batch means any batch size).</summary>
public sealed record TensorSpec(string Name, int? BatchSize, IReadOnlyList<int> Shape)
{
    /// <summary>The full shape with the batch axis first; null when the batch is not fixed.</summary>
    public IReadOnlyList<int?> FullShape => new int?[] { BatchSize }.Concat(Shape.Select(d => (int?)d)).ToArray();

    public override string ToString() =>
        $"Tensor(\"{Name}\", shape={ShapeText.Format(Shape, BatchSize)}, dtype=float32)";
}
