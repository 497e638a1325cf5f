using System.Globalization;
using System.Text.RegularExpressions;
using Neurite.IO;

namespace Neurite.Callbacks;

/// <summary>
/// Saves the model (or only its weights) at the end of each epoch, or only when <c>monitor</c>
/// improves (Keras's <c>ModelCheckpoint</c>). Each save is atomic, so a crash leaves the last good
/// checkpoint; resume with <c>Sequential.Load(path)</c> and <c>Fit(..., initialEpoch: n)</c>.
/// </summary>
/// <remarks>
/// The path may hold Keras's placeholders: <c>{epoch}</c>, <c>{epoch:02d}</c> (1-based, as in Keras)
/// and a logged value such as <c>{val_loss:.4f}</c>. Whole models need a <c>.keras</c> (or Keras 2
/// <c>.h5</c>) path, weights a <c>.weights.h5</c> path.
/// </remarks>
public sealed partial class ModelCheckpoint : Callback
{
    private readonly string _path;
    private readonly bool _maximise;
    private double _best;

    public ModelCheckpoint(string path, string monitor = "val_loss", bool saveBestOnly = false, bool saveWeightsOnly = false,
        MonitorMode mode = MonitorMode.Auto, double? initialValueThreshold = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string bare = Placeholder().Replace(path, "0");
        if (saveWeightsOnly && !bare.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase))
            throw new NeuriteException($"ModelCheckpoint with saveWeightsOnly needs a path ending in .weights.h5. Received path='{path}'.");
        bool wholeModelPath = bare.EndsWith(".keras", StringComparison.OrdinalIgnoreCase)
            || (bare.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) && !bare.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase));
        if (!saveWeightsOnly && !wholeModelPath)
            throw new NeuriteException($"ModelCheckpoint saves whole models to .keras (Keras 3) or .h5 (Keras 2) files. Received path='{path}'; use e.g. \"best.keras\", or pass saveWeightsOnly: true with a .weights.h5 path.");
        _path = path;
        Monitor = monitor;
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly;
        _maximise = Callbacks.Monitor.Maximise(monitor, mode);
        _best = initialValueThreshold ?? (_maximise ? double.NegativeInfinity : double.PositiveInfinity);
    }

    public string Monitor { get; }
    public bool SaveBestOnly { get; }
    public bool SaveWeightsOnly { get; }

    /// <summary>The best monitored value so far (±∞ before the first).</summary>
    public double Best => _best;

    /// <summary>The file written by the latest save, or null before the first.</summary>
    public string? LastSavedPath { get; private set; }

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        var model = Model!;
        if (SaveBestOnly)
        {
            if (!logs.TryGetValue(Monitor, out var current))
            {
                model.Output.WriteLine($"ModelCheckpoint: the monitored value '{Monitor}' is not in the logs (available: {string.Join(", ", logs.Keys)}); skipping. Pass one of those as monitor.");
                return;
            }
            if (!(_maximise ? current > _best : current < _best)) return;
            _best = current;
        }
        string file = FormatPath(epoch, logs);
        if (SaveWeightsOnly) model.SaveWeights(file);
        else model.Save(file);
        LastSavedPath = file;
    }

    private string FormatPath(int epoch, Logs logs) => Placeholder().Replace(_path, m =>
    {
        string key = m.Groups["key"].Value;
        string format = m.Groups["format"].Value;
        if (key == "epoch")
        {
            int width = format.EndsWith('d') && int.TryParse(format.TrimEnd('d'), NumberStyles.None, CultureInfo.InvariantCulture, out var w) ? w : 0;
            return (epoch + 1).ToString(new string('0', Math.Max(1, width)), CultureInfo.InvariantCulture);
        }
        if (!logs.TryGetValue(key, out var value))
            throw new NeuriteException($"ModelCheckpoint path '{_path}' uses {{{key}}}, which is not in the logs (available: epoch, {string.Join(", ", logs.Keys)}).");
        int decimals = format.StartsWith('.') && format.EndsWith('f') && int.TryParse(format[1..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : 4;
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    });

    [GeneratedRegex(@"\{(?<key>[A-Za-z_][A-Za-z0-9_]*)(?::(?<format>[0-9.]*[df]))?\}")]
    private static partial Regex Placeholder();
}
