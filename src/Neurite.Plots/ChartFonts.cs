using ScottPlot;
using SkiaSharp;

namespace Neurite.Plots;

/// <summary>
/// Registers the bundled DejaVu Sans typefaces with ScottPlot so that every chart renders its text
/// with them, whether or not the machine has any fonts installed.
/// </summary>
public static class ChartFonts
{
    /// <summary>The family name every chart uses for titles, labels, ticks and legends.</summary>
    public const string FamilyName = "DejaVu Sans";

    private static readonly Lazy<EmbeddedFontResolver> Resolver = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The bundled regular typeface.</summary>
    public static SKTypeface Regular => Resolver.Value.Regular;

    /// <summary>The bundled bold typeface.</summary>
    public static SKTypeface Bold => Resolver.Value.Bold;

    /// <summary>Idempotent; every chart calls it before building a plot.</summary>
    public static void EnsureRegistered() => _ = Resolver.Value;

    private static EmbeddedFontResolver Register()
    {
        var resolver = new EmbeddedFontResolver(
            LoadTypeface("Neurite.Plots.Fonts.DejaVuSans.ttf"),
            LoadTypeface("Neurite.Plots.Fonts.DejaVuSans-Bold.ttf"));
        // First in the list so a system font of the same name can never shadow the bundled one.
        Fonts.FontResolvers.Insert(0, resolver);
        Fonts.Default = FamilyName;
        Fonts.Sans = FamilyName;
        return resolver;
    }

    private static SKTypeface LoadTypeface(string resourceName)
    {
        using var stream = typeof(ChartFonts).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(
                $"Embedded font resource '{resourceName}' is missing from {typeof(ChartFonts).Assembly.GetName().Name}; " +
                "check the EmbeddedResource items in Neurite.Plots.csproj.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        // SKData copies the bytes, so the typeface stays valid after the streams are disposed.
        using var data = SKData.CreateCopy(memory.ToArray());
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"Embedded font resource '{resourceName}' is not a font SkiaSharp can read.");
    }

    private sealed class EmbeddedFontResolver(SKTypeface regular, SKTypeface bold) : IFontResolver
    {
        public SKTypeface Regular { get; } = regular;
        public SKTypeface Bold { get; } = bold;

        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            CreateTypeface(fontName, bold: weight >= FontWeight.SemiBold, italic: slant != FontSlant.Upright);

        // Null tells ScottPlot to try the next resolver; italic requests get the upright face (no italic is bundled).
        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            string.Equals(fontName, FamilyName, StringComparison.OrdinalIgnoreCase) ? (bold ? Bold : Regular) : null;
    }
}
