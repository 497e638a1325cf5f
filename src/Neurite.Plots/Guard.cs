namespace Neurite.Plots;

/// <summary>Argument checks shared by the charts; every message names the parameter, the value seen and the fix.</summary>
internal static class Guard
{
    /// <summary>Largest accepted image side; far beyond any report figure, small enough to keep a bitmap in memory.</summary>
    public const int MaxImageSide = 10_000;

    public static void ImageSize(int width, int height)
    {
        if (width <= 0 || width > MaxImageSide)
            throw new ArgumentOutOfRangeException(nameof(width), width,
                $"Image width must be between 1 and {MaxImageSide} pixels; got {width}.");
        if (height <= 0 || height > MaxImageSide)
            throw new ArgumentOutOfRangeException(nameof(height), height,
                $"Image height must be between 1 and {MaxImageSide} pixels; got {height}.");
    }

    public static void NotEmpty<T>(IReadOnlyCollection<T>? values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == 0)
            throw new ArgumentException($"'{name}' is empty (length 0); pass at least one value to plot.", name);
    }

    public static void SameLength<TA, TB>(IReadOnlyCollection<TA> first, string firstName, IReadOnlyCollection<TB> second, string secondName)
    {
        if (first.Count != second.Count)
            throw new ArgumentException(
                $"'{firstName}' has length {first.Count} but '{secondName}' has length {second.Count}; " +
                "they describe the same points and must have equal lengths.", secondName);
    }

    public static void Finite(IReadOnlyList<double> values, string name)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new ArgumentException(
                    $"'{name}'[{i}] is {values[i]}; charts need finite numbers, so drop or impute missing values first.", name);
        }
    }

    public static void Text(string? text, string name) => ArgumentNullException.ThrowIfNull(text, name);
}
