using System.Globalization;

namespace Neurite.Data;

/// <summary>The invariant-culture parsing rules shared by CSV reading and level ordering.</summary>
internal static class TextValues
{
    /// <summary>
    /// An invariant-culture number; besides .NET's "Infinity", the spellings "inf" and "Inf" that R, numpy
    /// and pandas write are read as infinities, so such a value is reported as infinite rather than
    /// turning its whole column into text.
    /// </summary>
    public static bool TryParseNumber(ReadOnlySpan<char> text, out double value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        var t = text.Trim();
        bool negative = t.StartsWith("-");
        var body = negative || t.StartsWith("+") ? t[1..] : t;
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        return false;
    }

    public static bool TryParseDate(ReadOnlySpan<char> text, string format, out DateTime value) =>
        DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
}
