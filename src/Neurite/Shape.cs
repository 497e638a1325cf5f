namespace Neurite;

/// <summary>Formats and checks tensor shapes; a shape is an <c>int[]</c> of dimensions, row-major.</summary>
public static class ShapeText
{
    /// <summary>Keras-style text of a shape: <c>(None, 8)</c> when <paramref name="batch"/> is null.</summary>
    public static string Format(IReadOnlyList<int> dims, int? batch)
    {
        var parts = new List<string> { batch?.ToString() ?? "None" };
        foreach (var d in dims) parts.Add(d.ToString());
        return parts.Count == 1 ? $"({parts[0]},)" : "(" + string.Join(", ", parts) + ")";
    }

    /// <summary>Plain text of a full shape, e.g. <c>(50, 10, 2)</c>.</summary>
    public static string Format(IReadOnlyList<int> dims) =>
        dims.Count == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims) + ")";

    public static long Size(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (var d in dims) n *= d;
        return n;
    }
}
