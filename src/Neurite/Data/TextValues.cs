using System.Globalization;

namespace Neurite.Data;

/// <summary>The invariant-culture parsing rules shared by CSV reading and level ordering.</summary>
internal static class TextValues
{
    public static bool TryParseNumber(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public static bool TryParseDate(ReadOnlySpan<char> text, string format, out DateTime value) =>
        DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
}
