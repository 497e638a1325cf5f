using System.Diagnostics;
using System.Globalization;
using Neurite.Data;
using Neurite.IO;

namespace Neurite.Benchmarks;

/// <summary>
/// Feeds mutated <c>.keras</c>, Keras 2 <c>.h5</c> and CSV files to <see cref="Sequential.Load"/> (then
/// <c>Predict</c>) and <see cref="Table.ReadCsv(string, CsvOptions?)"/>, and counts the outcomes. Every
/// outcome must be a success or the documented exception (<see cref="ModelFileException"/>,
/// <see cref="CsvFormatException"/>); anything else is a finding, and so is an input that runs past
/// the per-input timeout (a hang). A crash ends the run, so a finished run also says there was none.
/// </summary>
/// <remarks>
/// Options: <c>--count N</c> inputs in all (default 100000, a third of each kind), <c>--seed S</c>,
/// <c>--timeout-ms T</c> per input (default 10000), <c>--kind keras|h5|csv</c> for one kind only,
/// <c>--out FOLDER</c> keeps the first input of each finding there (default a temporary folder),
/// <c>--show-other</c> prints the first messages no coarse reason matched.
/// </remarks>
internal static class FuzzWorkload
{
    private enum Kind { Keras, H5, Csv }

    public static void Run(string[] args)
    {
        int count = IntOption(args, "--count", 100_000);
        int seed = IntOption(args, "--seed", 17);
        int timeoutMs = IntOption(args, "--timeout-ms", 10_000);
        string? only = Option(args, "--kind");
        ShowOthers = args.Contains("--show-other");
        Kind[] kinds = only is null ? [Kind.Keras, Kind.H5, Kind.Csv] : [Enum.Parse<Kind>(only, ignoreCase: true)];
        string work = Path.Combine(Path.GetTempPath(), "neurite-fuzz-" + Guid.NewGuid().ToString("N"));
        string findings = Option(args, "--out") ?? Path.Combine(work, "findings");
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(findings);

        var seeds = FuzzInputs.Build(work);
        Console.WriteLine($"fuzz: {count} inputs, seed {seed}, timeout {timeoutMs} ms; seeds: {seeds.Keras.Count} .keras, {seeds.H5.Count} .h5, {seeds.Csv.Count} CSV");
        var rng = new System.Random(seed);
        var tally = new SortedDictionary<(Kind, string), int>();
        var slowest = new Dictionary<Kind, double>();
        var total = Stopwatch.StartNew();
        int unexpected = 0;
        for (int i = 0; i < count; i++)
        {
            var kind = kinds[i % kinds.Length];
            var (bytes, how) = Make(kind, seeds, rng);
            string path = Path.Combine(work, "input" + kind switch { Kind.Keras => ".keras", Kind.H5 => ".h5", _ => ".csv" });
            File.WriteAllBytes(path, bytes);
            var start = Stopwatch.GetTimestamp();
            string outcome = Outcome(kind, path, timeoutMs);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            slowest[kind] = Math.Max(slowest.GetValueOrDefault(kind), seconds);
            var key = (kind, outcome);
            tally[key] = tally.GetValueOrDefault(key) + 1;
            if (!IsDocumented(outcome))
            {
                unexpected++;
                if (tally[key] == 1)
                {
                    string kept = Path.Combine(findings, $"{kind}-{unexpected}{Path.GetExtension(path)}");
                    File.Copy(path, kept, overwrite: true);
                    Console.WriteLine($"FINDING ({how}): {outcome} -> {kept}");
                }
            }
            if ((i + 1) % 10_000 == 0) Console.WriteLine($"  {i + 1} inputs, {total.Elapsed.TotalSeconds:F0} s, {unexpected} findings");
        }

        Console.WriteLine();
        Console.WriteLine($"{count} inputs in {total.Elapsed.TotalSeconds:F0} s; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB; findings: {unexpected}");
        Console.WriteLine("| kind | outcome | inputs |");
        Console.WriteLine("|---|---|---:|");
        foreach (var ((kind, outcome), n) in tally) Console.WriteLine($"| {kind} | {outcome} | {n} |");
        foreach (var (kind, s) in slowest) Console.WriteLine($"slowest {kind} input: {s * 1000:F0} ms");
        if (unexpected > 0 && Option(args, "--out") is null) Console.WriteLine($"findings kept in {findings}");
        else try { Directory.Delete(work, recursive: true); } catch (IOException) { }
    }

    private static (byte[] Bytes, string How) Make(Kind kind, FuzzInputs.Seeds seeds, System.Random rng)
    {
        switch (kind)
        {
            case Kind.Keras:
            {
                var archive = seeds.Keras[rng.Next(seeds.Keras.Count)];
                return rng.Next(4) == 0 ? (FuzzInputs.MutateBytes(archive, rng), "archive bytes") : (FuzzInputs.MutateKerasMember(archive, rng), "member");
            }
            case Kind.H5:
                return rng.Next(3) == 0
                    ? (FuzzInputs.MutateH5Config(seeds.H5Models[rng.Next(seeds.H5Models.Count)], rng), "h5 config json")
                    : (FuzzInputs.MutateBytes(seeds.H5[rng.Next(seeds.H5.Count)], rng), "h5 bytes");
            default:
                return (FuzzInputs.MutateCsv(seeds.Csv[rng.Next(seeds.Csv.Count)], rng), "csv");
        }
    }

    private static bool IsDocumented(string outcome) => outcome.StartsWith("ok", StringComparison.Ordinal)
        || outcome.StartsWith(nameof(ModelFileException), StringComparison.Ordinal) || outcome.StartsWith(nameof(CsvFormatException), StringComparison.Ordinal);

    /// <summary>"ok ...", the documented exception with a coarse reason, or what went wrong (another exception, a hang).</summary>
    private static string Outcome(Kind kind, string path, int timeoutMs)
    {
        var task = Task.Run(() =>
        {
            if (kind == Kind.Csv)
            {
                var table = Table.ReadCsv(path);
                _ = table.ToString();
                return "ok: read";
            }
            var model = Sequential.Load(path);
            model.Output = TextWriter.Null;
            int batch = model.FixedBatchSize ?? 2;
            // A config may legitimately declare a long sequence; predicting on it is the caller's choice, not part of loading.
            long elements = model.Layers[0].InputShape.Aggregate((long)batch, (a, d) => a * d);
            if (elements > 1_000_000) return "ok: loaded (input too large to predict on)";
            _ = model.Predict(Tensor.Zeros([batch, .. model.Layers[0].InputShape]));
            return model.LoadWarnings.Count > 0 ? "ok: loaded and predicted, with warnings" : "ok: loaded and predicted";
        });
        try
        {
            if (!task.Wait(timeoutMs)) return $"HANG: still running after {timeoutMs} ms";
            return task.Result;
        }
        catch (AggregateException e) when (e.InnerException is { } inner)
        {
            return inner switch
            {
                ModelFileException m => $"{nameof(ModelFileException)}: {Reason(m.Message, Reasons)}",
                CsvFormatException c => $"{nameof(CsvFormatException)}: {Reason(c.Message, CsvReasons)}",
                _ => $"UNDOCUMENTED {inner.GetType().Name}: {FirstLine(inner.Message)} at {FirstLine(inner.StackTrace ?? "")}",
            };
        }
    }

    private static readonly (string Needle, string Reason)[] Reasons =
    [
        ("CRC-32", "member fails its CRC-32"),
        ("archive is damaged", "zip structure damaged"),
        ("archive has no '", "archive member missing"),
        ("global heap", "HDF5 heap size beyond the file"),
        ("declares", "archive member size implausible"),
        ("ends after", "member shorter than declared"),
        ("more bytes than its declared", "member longer than declared"),
        ("HDF5 structure is damaged", "HDF5 structure damaged"),
        ("internal links loop", "HDF5 read budget exceeded"),
        ("HDF5 signature", "not HDF5"),
        ("neither", "neither zip nor HDF5"),
        ("UTF-8", "config not UTF-8"),
        ("JSON", "config JSON invalid or mistyped"),
        ("holds only", "config needs more weights than the file holds"),
        ("MaxTotalWeights", "too many weights"),
        ("has shape", "weight shape differs from config"),
        ("too small for", "file too small for its weights"),
        ("is not supported", "unsupported layer or option"),
        ("does not implement", "unsupported activation"),
        ("hard_sigmoid", "hard_sigmoid in a Keras 3 config"),
        ("has no recurrent_activation", "recurrent default unknown"),
        ("different architecture", "weights belong to another architecture"),
        ("optimizer", "optimizer state mismatch"),
        ("Sequential models only", "not a Sequential"),
        ("gives no input shape", "no input shape"),
        ("cannot take inputs", "layer cannot take its input"),
        ("must be", "config value of the wrong type or range"),
        ("must name", "config value of the wrong type or range"),
        ("has no layers", "config without layers"),
        ("has no dataset", "weight dataset missing"),
        ("but has no group", "layer group missing"),
    ];

    private static readonly (string Needle, string Reason)[] CsvReasons =
    [
        ("the file is empty", "empty file"),
        ("header but no data rows", "header only"),
        ("empty column name", "empty column name in the header"),
        ("is already used by column", "repeated column name"),
        ("fields but the header has", "row with another number of fields"),
        ("is not a number", "text in a number column"),
        ("is not a date", "not a date in a date column"),
    ];

    private static int _othersShown;

    private static string Reason(string message, (string Needle, string Reason)[] reasons)
    {
        foreach (var (needle, reason) in reasons)
            if (message.Contains(needle, StringComparison.Ordinal)) return reason;
        if (ShowOthers && _othersShown++ < 40) Console.WriteLine($"  other: {FirstLine(message)}");
        return "other";
    }

    private static bool ShowOthers;

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        Option(args, name) is string s ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;
}
