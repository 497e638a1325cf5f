namespace Neurite;

/// <summary>
/// The library's single source of randomness: weight initializers, dropout masks, shuffling and
/// splits all draw from it, so one <see cref="SetSeed"/> makes a whole run repeatable.
/// </summary>
public static class Random
{
    private static System.Random _generator = new();
    private static readonly object Gate = new();

    /// <summary>Seeds the global generator (Keras's <c>keras.utils.set_random_seed</c>).</summary>
    public static void SetSeed(int seed)
    {
        lock (Gate) _generator = new System.Random(seed);
    }

    /// <summary>A new generator seeded from the global one; layers take one each at build time.</summary>
    public static System.Random Fork()
    {
        lock (Gate) return new System.Random(_generator.Next());
    }

    internal static int NextInt(int maxExclusive)
    {
        lock (Gate) return _generator.Next(maxExclusive);
    }

    internal static double NextDouble()
    {
        lock (Gate) return _generator.NextDouble();
    }

    /// <summary>Fills <paramref name="values"/> with a seeded Fisher–Yates permutation of 0..n-1.</summary>
    internal static void Permutation(Span<int> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = i;
        lock (Gate)
        {
            for (int i = values.Length - 1; i > 0; i--)
            {
                int j = _generator.Next(i + 1);
                (values[i], values[j]) = (values[j], values[i]);
            }
        }
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    internal static double NextGaussian(System.Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
