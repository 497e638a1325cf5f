using Neurite.Callbacks;

namespace Neurite;

/// <summary>
/// Records each epoch's logs: <c>history["val_loss"]</c> has one value per epoch (Keras's History).
/// </summary>
public sealed class History : Callback
{
    private readonly Dictionary<string, List<double>> _values = new(StringComparer.Ordinal);
    private readonly List<int> _epochs = [];

    /// <summary>The epoch numbers recorded (0-based, as Keras's <c>history.epoch</c>).</summary>
    public IReadOnlyList<int> Epoch => _epochs;

    /// <summary>The recorded keys in first-seen order.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>All series.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Values =>
        _values.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value);

    public IReadOnlyList<double> this[string key] => _values.TryGetValue(key, out var list)
        ? list
        : throw new KeyNotFoundException($"History has no '{key}'. Recorded keys: {string.Join(", ", _values.Keys)}.");

    public bool ContainsKey(string key) => _values.ContainsKey(key);

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        _epochs.Add(epoch);
        foreach (var (k, v) in logs)
        {
            if (!_values.TryGetValue(k, out var list)) _values[k] = list = [];
            list.Add(v);
        }
    }
}
