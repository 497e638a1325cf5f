using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Neurite.Cli.Commands;

/// <summary>
/// Where a data command writes. Human-readable text goes to standard output, unless <c>--json</c> asked for
/// machine-readable scores: then standard output carries only the one JSON object and the text goes to the error writer.
/// </summary>
internal sealed class CommandOutput(TextWriter output, TextWriter error, bool json)
{
    public bool Json { get; } = json;

    /// <summary>Progress and explanations for a person.</summary>
    public TextWriter Text { get; } = json ? error : output;

    public TextWriter Error { get; } = error;

    /// <summary>Standard output itself, for results meant for a pipe (predictions CSV).</summary>
    public TextWriter Standard { get; } = output;

    public void Say(string line) => Text.WriteLine(line);

    /// <summary>Writes <paramref name="scores"/> as one JSON object on standard output, when --json was given.</summary>
    public void WriteScores(JsonObject scores)
    {
        if (!Json) return;
        Standard.WriteLine(scores.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    /// <summary>A JSON number, or null for NaN and infinities, which JSON cannot hold.</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    public static string Num(double value, string format = "0.0000") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    public static string Percent(double fraction) => Num(100 * fraction, "0.0") + "%";
}
