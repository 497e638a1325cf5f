using Neurite.Layers;

namespace Neurite.Tests.Recurrent;

/// <summary>
/// Keras's recurrent dropout: in training, one mask per sample and unit (inputs: per feature), drawn once per
/// batch, kept across every time step, entries 0 with probability <c>rate</c> and 1/(1 − rate) otherwise.
/// With one unit and one feature each row's mask is a single number, so each row of a training pass must
/// equal, at every step, the pass with a fixed mask of 0 or the one with a fixed mask of 1/(1 − rate);
/// a mask redrawn per step, or another scale, matches neither.
/// </summary>
public class RecurrentDropoutTests
{
    private const int Rows = 2000, Steps = 5;
    private const double Rate = 0.3;

    public static TheoryData<string, bool> Cases => new()
    {
        { "lstm", false }, { "lstm", true }, { "gru", false }, { "gru", true }, { "simple_rnn", false }, { "simple_rnn", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mask_drops_at_the_rate_scales_the_kept_and_holds_across_steps(string kind, bool recurrent)
    {
        var layer = Create(kind, recurrent);
        var x = Tensor.Zeros(Rows, Steps, 1);
        var rng = new System.Random(3);
        var sequence = Enumerable.Range(0, Steps).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        for (int r = 0; r < Rows; r++) sequence.CopyTo(x.Span.Slice(r * Steps, Steps));

        var dropped = Candidate(layer, x, recurrent, 0f);
        var kept = Candidate(layer, x, recurrent, (float)(1 / (1 - Rate)));
        // The mask moves every step's output (from the second on for the state, which starts at zero) far beyond
        // float rounding, so a row with a mask redrawn at some step matches neither sequence.
        for (int t = recurrent ? 1 : 0; t < Steps; t++)
            Assert.True(Math.Abs(dropped[t] - kept[t]) > 1e-3, $"{kind} step {t}: the mask must change the output ({dropped[t]} vs {kept[t]})");

        var first = DroppedRows(layer.Forward(x, training: true).ToArray(), dropped, kept, kind);
        var second = DroppedRows(layer.Forward(x, training: true).ToArray(), dropped, kept, kind);
        foreach (var rows in new[] { first, second })
        {
            double fraction = rows.Count(d => d) / (double)Rows;
            double standardError = Math.Sqrt(Rate * (1 - Rate) / Rows);
            Assert.True(Math.Abs(fraction - Rate) <= 6 * standardError, $"{kind}: {fraction:P1} of the rows dropped, expected {Rate:P0}");
        }
        Assert.NotEqual(first, second); // each training pass draws a new mask
    }

    private static RecurrentLayer Create(string kind, bool recurrent)
    {
        double input = recurrent ? 0 : Rate, hidden = recurrent ? Rate : 0;
        RecurrentLayer layer = kind switch
        {
            "lstm" => new Lstm(1, dropout: input, recurrentDropout: hidden, returnSequences: true, inputShape: [Steps, 1]),
            "gru" => new Gru(1, dropout: input, recurrentDropout: hidden, returnSequences: true, inputShape: [Steps, 1]),
            _ => new SimpleRnn(1, dropout: input, recurrentDropout: hidden, returnSequences: true, inputShape: [Steps, 1]),
        };
        layer.Build([Steps, 1]);
        // Weights large enough that a dropped input or state moves every later output.
        var rng = new System.Random(8);
        layer.SetWeights(layer.GetWeights().Select(w =>
        {
            var values = new float[w.Size];
            for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.Next(2) * 2 - 1) * (0.8 + 0.7 * rng.NextDouble()));
            return Tensor.FromArray(values, [.. w.Shape]);
        }).ToList());
        return layer;
    }

    /// <summary>The output sequence of one row when every row's mask is <paramref name="maskValue"/>.</summary>
    private static float[] Candidate(RecurrentLayer layer, Tensor x, bool recurrent, float maskValue)
    {
        var mask = Enumerable.Repeat(maskValue, Rows).ToArray();
        layer.UseFixedMasks(recurrent ? null : mask, recurrent ? mask : null);
        try { return layer.Forward(x, training: true).ToArray()[..Steps]; }
        finally { layer.UseFixedMasks(null, null); }
    }

    private static bool[] DroppedRows(float[] output, float[] dropped, float[] kept, string kind)
    {
        var result = new bool[Rows];
        for (int r = 0; r < Rows; r++)
        {
            var row = output.AsSpan(r * Steps, Steps);
            bool isDropped = Matches(row, dropped), isKept = Matches(row, kept);
            Assert.True(isDropped || isKept,
                $"{kind} row {r}: [{string.Join(", ", row.ToArray())}] is neither the dropped [{string.Join(", ", dropped)}] nor the kept [{string.Join(", ", kept)}] sequence");
            result[r] = isDropped;
        }
        return result;
    }

    private static bool Matches(ReadOnlySpan<float> row, float[] candidate)
    {
        for (int t = 0; t < Steps; t++)
            if (Math.Abs(row[t] - candidate[t]) > 1e-5f) return false;
        return true;
    }
}
