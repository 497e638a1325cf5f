using System.Globalization;

namespace Neurite;

public sealed partial class Sequential
{
    /// <summary>
    /// Prints Keras's model table: layer name and type, output shape (None for a free batch axis),
    /// parameter count, then the totals. Writes to <see cref="Output"/> unless a writer is given.
    /// </summary>
    public void Summary(TextWriter? writer = null, int lineLength = 65)
    {
        RequireBuilt(nameof(Summary));
        var w = writer ?? Output;
        // Keras 2's column ends for sequential models: 45 %, 85 % and 100 % of the line.
        int[] positions = [(int)(lineLength * 0.45), (int)(lineLength * 0.85), lineLength];
        w.WriteLine($"Model: \"{Name}\"");
        w.WriteLine(new string('_', lineLength));
        w.WriteLine(Row(["Layer (type)", "Output Shape", "Param #"], positions));
        w.WriteLine(new string('=', lineLength));
        for (int i = 0; i < _layers.Count; i++)
        {
            var l = _layers[i];
            w.WriteLine(Row([$"{l.Name} ({l.ClassName})", ShapeText.Format(l.OutputShape, FixedBatchSize), l.CountParams().ToString(CultureInfo.InvariantCulture)], positions));
            w.WriteLine(new string(i == _layers.Count - 1 ? '=' : '_', lineLength));
        }
        long total = CountParams();
        long trainable = _layers.Where(l => l.Trainable).Sum(l => l.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Size));
        w.WriteLine($"Total params: {total.ToString("N0", CultureInfo.InvariantCulture)}");
        w.WriteLine($"Trainable params: {trainable.ToString("N0", CultureInfo.InvariantCulture)}");
        w.WriteLine($"Non-trainable params: {(total - trainable).ToString("N0", CultureInfo.InvariantCulture)}");
        w.WriteLine(new string('_', lineLength));
    }

    /// <summary>The Summary table as a string.</summary>
    public string SummaryText(int lineLength = 65)
    {
        var sw = new StringWriter();
        Summary(sw, lineLength);
        return sw.ToString();
    }

    // Keras 2's print_row: each field is cut at its column end, and a field that fills its column
    // gives up its last character for a separating space.
    private static string Row(string[] fields, int[] positions)
    {
        var line = "";
        for (int i = 0; i < fields.Length; i++)
        {
            if (i > 0) line = line[..^1] + " ";
            line += fields[i];
            line = line[..Math.Min(line.Length, positions[i])];
            line += new string(' ', positions[i] - line.Length);
        }
        return line;
    }
}
