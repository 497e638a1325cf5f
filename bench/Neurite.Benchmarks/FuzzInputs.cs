using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Neurite.IO;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Benchmarks;

/// <summary>
/// Seed files and mutations for <see cref="FuzzWorkload"/>. Byte-level mutations reach the container
/// checks (zip CRCs, HDF5 structure, CSV splitting); structure-aware ones rebuild a valid container
/// around a mutated member or JSON config, so the parsers behind those checks are reached too.
/// </summary>
internal static class FuzzInputs
{
    public sealed record Seeds(List<byte[]> Keras, List<byte[]> H5, List<Sequential> H5Models, List<byte[]> Csv);

    /// <summary>Small models saved by Neurite, the real Keras fixtures when the repository is found, and CSV texts.</summary>
    public static Seeds Build(string folder)
    {
        NeuriteRandom.SetSeed(5);
        var models = new List<Sequential>
        {
            Trained(new Sequential([new Dense(7, "relu", inputShape: [5]), new Dropout(0.2), new Dense(3, "softmax")], "mlp"), new Adam(0.01), "categorical_crossentropy", ["accuracy"]),
            Trained(new Sequential([new Lstm(4, returnSequences: true, inputShape: [3, 2]), new Gru(3, resetAfter: false), new Dense(1)], "recurrent"), new RmsProp(0.01, momentum: 0.5, centered: true), "mse", ["mae"]),
            Trained(new Sequential([new SimpleRnn(3, stateful: true, inputShape: [2, 2], batchSize: 2), new Dense(2, "sigmoid")], "stateful"), new Sgd(0.05, momentum: 0.9), "binary_crossentropy", null),
        };
        var keras = new List<byte[]>();
        var h5 = new List<byte[]>();
        foreach (var model in models)
        {
            keras.Add(SavedBytes(model, Path.Combine(folder, model.Name + ".keras")));
            h5.Add(SavedBytes(model, Path.Combine(folder, model.Name + ".h5")));
        }
        var hardSigmoid = Trained(new Sequential([new Lstm(3, recurrentActivation: "hard_sigmoid", inputShape: [3, 2]), new Dense(1, "hard_sigmoid")], "hard"), new Adagrad(0.05), "mse", null);
        models.Add(hardSigmoid);
        h5.Add(SavedBytes(hardSigmoid, Path.Combine(folder, "hard.h5")));
        if (FindFixtures() is string fixtures)
        {
            keras.Add(File.ReadAllBytes(Path.Combine(fixtures, "keras3_mlp_dense4_flownet", "model.keras")));
            h5.Add(File.ReadAllBytes(Path.Combine(fixtures, "keras2_gru2_hardsigmoid_traffic", "gru.h5")));
        }
        var csv = new List<byte[]>
        {
            Encoding.UTF8.GetBytes("x1,x2,colour,label\n1.5,-0.2,red,a\n-2.1,0.7,blue,b\n0.3,NA,red,a\n1e3,4,\"dark, red\",b\n"),
            Encoding.UTF8.GetBytes("date,close,volume\n2021-01-04,100.5,1200\n2021-01-05,101.25,\n2021-01-06,99.75,1500\n2021-01-07,null,900\n"),
            Encoding.UTF8.GetBytes("\"id\",\"text\"\r\n1,\"say \"\"hi\"\"\"\r\n2,\"two\r\nlines\"\r\n3,plain\r\n"),
        };
        return new Seeds(keras, h5, models, csv);
    }

    private static Sequential Trained(Sequential model, Optimizer optimizer, string loss, string[]? metrics)
    {
        model.Output = TextWriter.Null;
        model.Compile(loss, optimizer, metrics);
        int batch = model.FixedBatchSize ?? 4;
        var x = Tensor.Zeros([batch, .. model.Layers[0].InputShape]);
        var y = Tensor.Zeros(batch, model.Layers[^1].OutputShape[^1]);
        var rng = new System.Random(1);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (float)rng.NextDouble();
        for (int r = 0; r < batch; r++) y.Span[r * y.Shape[1] + r % y.Shape[1]] = 1;
        model.Fit(x, y, epochs: 2, batchSize: batch, shuffle: false, verbose: 0);
        return model;
    }

    private static byte[] SavedBytes(Sequential model, string path)
    {
        model.Save(path);
        return File.ReadAllBytes(path);
    }

    private static string? FindFixtures()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Neurite.sln"))) return Path.Combine(dir.FullName, "tests", "fixtures", "keras");
        return null;
    }

    // ---------- mutations ----------

    private static readonly long[] Interesting = [0, 1, -1, 2, 255, 256, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue, 1L << 31, 1L << 32];

    /// <summary>One to four random edits: bit flips, random or boundary values, truncation, insertion, deletion, copied chunks.</summary>
    public static byte[] MutateBytes(byte[] input, System.Random rng)
    {
        var bytes = new List<byte>(input);
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = rng.Next(bytes.Count);
            switch (rng.Next(8))
            {
                case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: bytes[at] = (byte)rng.Next(256); break;
                case 2:
                {
                    int width = 1 << rng.Next(4);
                    long value = Interesting[rng.Next(Interesting.Length)];
                    for (int i = 0; i < width && at + i < bytes.Count; i++) bytes[at + i] = (byte)(value >> (8 * i));
                    break;
                }
                case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                case 4: bytes.InsertRange(at, Enumerable.Range(0, 1 + rng.Next(16)).Select(_ => (byte)rng.Next(256))); break;
                case 5: bytes.RemoveRange(at, Math.Min(1 + rng.Next(16), bytes.Count - at)); break;
                case 6:
                {
                    int from = rng.Next(bytes.Count), length = Math.Min(1 + rng.Next(64), bytes.Count - from);
                    bytes.InsertRange(at, bytes.GetRange(from, length));
                    break;
                }
                default:
                    for (int i = at; i < Math.Min(at + 1 + rng.Next(32), bytes.Count); i++) bytes[i] = 0;
                    break;
            }
        }
        return [.. bytes];
    }

    private static readonly JsonNode?[] InterestingJson =
    [
        null, 0, -1, 1, 2147483647, -2147483648, 16777216, 4294967296, 1e308, -1e-308, 0.5, true, false, "", "relu", "hard_sigmoid",
        "sigmoid", "Dense", "LSTM", "InputLayer", "Lambda", new string('x', 300),
    ];

    /// <summary>Replaces, removes or duplicates one value somewhere in a JSON document (unparsable text is byte-mutated instead).</summary>
    public static string MutateJson(string json, System.Random rng)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException) { return Encoding.UTF8.GetString(MutateBytes(Encoding.UTF8.GetBytes(json), rng)); }
        var nodes = new List<JsonNode>();
        void Walk(JsonNode? n)
        {
            if (n is null) return;
            nodes.Add(n);
            if (n is JsonObject o) foreach (var kv in o) Walk(kv.Value);
            if (n is JsonArray a) foreach (var item in a) Walk(item);
        }
        Walk(root);
        int edits = 1 + rng.Next(3);
        for (int e = 0; e < edits && nodes.Count > 1; e++)
        {
            var target = nodes[1 + rng.Next(nodes.Count - 1)];
            var parent = target.Parent;
            JsonNode? replacement = rng.Next(6) switch
            {
                0 => new JsonArray(),
                1 => new JsonObject(),
                2 => target.DeepClone() is JsonArray arr && arr.Count > 0 ? new JsonArray(arr.Concat(arr).Select(x => x?.DeepClone()).ToArray()) : InterestingJson[rng.Next(InterestingJson.Length)]?.DeepClone(),
                _ => InterestingJson[rng.Next(InterestingJson.Length)]?.DeepClone(),
            };
            bool remove = rng.Next(5) == 0;
            switch (parent)
            {
                case JsonObject o:
                    string key = o.First(kv => ReferenceEquals(kv.Value, target)).Key;
                    if (remove) o.Remove(key); else o[key] = replacement;
                    break;
                case JsonArray a:
                    int index = a.IndexOf(target);
                    if (remove) a.RemoveAt(index); else a[index] = replacement;
                    break;
            }
            nodes.Clear();
            Walk(root);
        }
        return root?.ToJsonString() ?? "null";
    }

    /// <summary>A .keras archive rebuilt (stored, valid CRCs) around one mutated member, so the member's parser is reached.</summary>
    public static byte[] MutateKerasMember(byte[] archive, System.Random rng)
    {
        using var input = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var members = input.Entries.Select(e =>
        {
            using var s = e.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            return (e.FullName, Bytes: m.ToArray());
        }).ToList();
        int pick = rng.Next(10) switch { < 5 => members.FindIndex(m => m.FullName == "config.json"), < 9 => members.FindIndex(m => m.FullName == "model.weights.h5"), _ => rng.Next(members.Count) };
        if (pick < 0) pick = rng.Next(members.Count);
        var (name, bytes) = members[pick];
        members[pick] = (name, name.EndsWith(".json", StringComparison.Ordinal) && rng.Next(2) == 0
            ? Encoding.UTF8.GetBytes(MutateJson(Encoding.UTF8.GetString(bytes), rng))
            : MutateBytes(bytes, rng));
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (n, b) in members)
            {
                using var s = zip.CreateEntry(n, CompressionLevel.NoCompression).Open();
                s.Write(b);
            }
        return output.ToArray();
    }

    /// <summary>A Keras 2 .h5 written by Neurite with a mutated model_config or training_config, so the JSON and config checks are reached.</summary>
    public static byte[] MutateH5Config(Sequential model, System.Random rng)
    {
        var file = LegacyH5Files.ToH5File(model, "fuzz.h5");
        string key = rng.Next(3) == 0 ? "training_config" : "model_config";
        if (file.Attributes.TryGetValue(key, out var value) && value is string json) file.Attributes[key] = MutateJson(json, rng);
        if (rng.Next(8) == 0) file.Attributes["keras_version"] = rng.Next(4) switch { 0 => "2.1.4", 1 => "2.2.4-tf", 2 => "3.1.0", _ => "x" };
        using var ms = new MemoryStream();
        file.Write(ms);
        return ms.ToArray();
    }

    private static readonly string[] CsvTokens = [",", "\"", "\n", "\r\n", ";", "\t", "NA", "1e309", "-", "2021-13-45", "\0", "\uFEFF", "\"\"", " ", "é", "9999999999999999999999"];

    /// <summary>Byte edits, or CSV-significant tokens inserted at random places.</summary>
    public static byte[] MutateCsv(byte[] csv, System.Random rng)
    {
        if (rng.Next(2) == 0) return MutateBytes(csv, rng);
        var text = new StringBuilder(Encoding.UTF8.GetString(csv));
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits; e++) text.Insert(rng.Next(text.Length + 1), CsvTokens[rng.Next(CsvTokens.Length)]);
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
