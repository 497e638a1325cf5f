using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Neurite.IO;

/// <summary>
/// Typed, checked access to a Keras JSON config: every missing key, wrong type or out-of-range
/// value ends in a <see cref="ModelFileException"/> naming the file, the place and the value.
/// </summary>
internal sealed class KerasJson(string file)
{
    public string File => file;

    public static JsonNode Parse(string file, ReadOnlySpan<byte> utf8, string what)
    {
        if (utf8.Length > ModelFileLimits.MaxConfigBytes)
            throw new ModelFileException(file, $"{what} is {utf8.Length} bytes, more than the limit of {ModelFileLimits.MaxConfigBytes} (ModelFileLimits.MaxConfigBytes). Raise the limit if the file is trusted.");
        // JsonNode parses string contents lazily, so invalid UTF-8 inside a string would surface later
        // as an InvalidOperationException from whatever reads it; check the whole text up front.
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
            throw new ModelFileException(file, $"{what} is not valid UTF-8 text. The file is corrupted or not a Keras model.");
        try
        {
            // A repeated key would otherwise surface later, as an ArgumentException from whatever reads that object.
            return JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false })
                ?? throw new ModelFileException(file, $"{what} is the JSON value null; expected an object.");
        }
        catch (JsonException e)
        {
            throw new ModelFileException(file, $"{what} is not valid JSON ({e.Message}). The file is corrupted or not a Keras model.", e);
        }
    }

    public ModelFileException Error(string problem) => new(file, problem);

    public JsonObject Object(JsonNode? node, string where) =>
        node as JsonObject ?? throw Error($"{where} must be a JSON object, but the file has {Show(node)}.");

    public JsonArray Array(JsonNode? node, string where) =>
        node as JsonArray ?? throw Error($"{where} must be a JSON array, but the file has {Show(node)}.");

    public JsonObject Object(JsonObject o, string key, string where) => Object(o[key], $"{where}.{key}");

    public string String(JsonObject o, string key, string where)
    {
        var node = o[key];
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw Error($"{where}.{key} must be a string, but the file has {Show(node)}.");
    }

    public string? OptionalString(JsonObject o, string key, string where)
    {
        var node = o[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw Error($"{where}.{key} must be a string or null, but the file has {Show(node)}.");
    }

    public bool Bool(JsonObject o, string key, string where, bool defaultValue)
    {
        var node = o[key];
        if (node is null) return defaultValue;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        throw Error($"{where}.{key} must be true or false, but the file has {Show(node)}.");
    }

    public double Double(JsonObject o, string key, string where, double defaultValue)
    {
        var node = o[key];
        if (node is null) return defaultValue;
        if (node is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d)) return d;
        throw Error($"{where}.{key} must be a finite number, but the file has {Show(node)}.");
    }

    public double? OptionalDouble(JsonObject o, string key, string where)
    {
        var node = o[key];
        if (node is null) return null;
        return Double(o, key, where, 0);
    }

    public int PositiveInt(JsonObject o, string key, string where, int max = int.MaxValue)
    {
        var node = o[key];
        if (node is JsonValue v && v.TryGetValue<double>(out var d) && d >= 1 && d <= max && d == Math.Floor(d)) return (int)d;
        throw Error($"{where}.{key} must be a whole number from 1 to {max}, but the file has {Show(node)}.");
    }

    /// <summary>A shape such as <c>[null, 60, 5]</c>: the batch entry may be null, the rest must be positive.</summary>
    public (int? Batch, int[] Dims) Shape(JsonNode? node, string where)
    {
        var array = Array(node, where);
        if (array.Count < 2 || array.Count > 8)
            throw Error($"{where} must list the batch axis and 1 to 7 more dimensions, but the file has {Show(node)}.");
        int? batch = null;
        if (array[0] is not null)
        {
            if (array[0] is JsonValue bv && bv.TryGetValue<double>(out var b) && b >= 1 && b <= int.MaxValue && b == Math.Floor(b)) batch = (int)b;
            else throw Error($"{where}[0] (the batch size) must be null or a positive whole number, but the file has {Show(array[0])}.");
        }
        var dims = new int[array.Count - 1];
        for (int i = 1; i < array.Count; i++)
        {
            if (array[i] is JsonValue dv && dv.TryGetValue<double>(out var d) && d >= 1 && d <= int.MaxValue && d == Math.Floor(d)) dims[i - 1] = (int)d;
            else throw Error($"{where}[{i}] must be a positive whole number (variable-length axes are not supported), but the file has {Show(array[i])}.");
        }
        return (batch, dims);
    }

    /// <summary>Requires <paramref name="key"/> to be absent or null (regularizers, constraints Neurite does not implement).</summary>
    public void RequireNull(JsonObject o, string key, string where, string fix)
    {
        if (o[key] is not null)
            throw Error($"{where}.{key} is {Show(o[key])}, which Neurite does not support. {fix}");
    }

    public static string Show(JsonNode? node)
    {
        if (node is null) return "null";
        string text = node.ToJsonString();
        return text.Length > 80 ? text[..77] + "..." : text;
    }

    public static JsonArray ShapeJson(int? batch, IEnumerable<int> dims)
    {
        var array = new JsonArray { batch is int b ? JsonValue.Create(b) : null };
        foreach (var d in dims) array.Add(JsonValue.Create(d));
        return array;
    }

    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
