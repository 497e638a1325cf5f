namespace Neurite.Cuda.Tests;

internal static class Close
{
    /// <summary>
    /// Every element within <paramref name="relative"/> of the expected one, relative to the larger of its
    /// magnitude and the buffer's mean magnitude (so a sum that cancels to near zero is judged on the
    /// scale of its terms, not on its own).
    /// </summary>
    public static void Assert(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, string what)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        double mean = 0;
        foreach (var e in expected) mean += Math.Abs(e);
        mean = expected.Length == 0 ? 0 : mean / expected.Length;
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Max(Math.Abs(expected[i]), mean);
            double error = Math.Abs(expected[i] - actual[i]);
            if (!(error <= relative * scale) && !(expected[i] == actual[i]))
                Xunit.Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {error:E2} > {relative:E0} × {scale:E2}).");
        }
    }

    public static float[] Random(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new System.Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }
}
