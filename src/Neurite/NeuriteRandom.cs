namespace Neurite;

/// <summary>
/// The library's single source of randomness: weight initializers, dropout masks, shuffling and
/// splits all draw from it, so one <see cref="SetSeed"/> makes a whole run repeatable.
/// </summary>
/// <remarks>
/// The seeded generator belongs to the logical flow that called <see cref="SetSeed"/> (it follows
/// awaits and tasks started afterwards), so two seeded runs on different threads never draw from
/// each other's sequence; code that never seeds shares one unseeded generator.
/// </remarks>
public static class NeuriteRandom
{
    private static readonly System.Random Unseeded = new();
    private static readonly AsyncLocal<System.Random?> Seeded = new();

    private static System.Random Generator => Seeded.Value ?? Unseeded;

    /// <summary>Seeds the generator (Keras's <c>keras.utils.set_random_seed</c>).</summary>
    public static void SetSeed(int seed) => Seeded.Value = new System.Random(seed);

    /// <summary>The generator <see cref="SetSeed"/> gave this flow (null where it is unseeded), for <see cref="Resume"/>.</summary>
    internal static System.Random? SeededGenerator => Seeded.Value;

    /// <summary>Makes <paramref name="generator"/> (from <see cref="SeededGenerator"/>) this flow's again, where it left off.</summary>
    internal static void Resume(System.Random? generator) => Seeded.Value = generator;

    /// <summary>A new generator seeded from the global one; layers take one each at build time.</summary>
    public static System.Random Fork()
    {
        var g = Generator;
        lock (g) return new System.Random(g.Next());
    }

    internal static int NextInt(int maxExclusive)
    {
        var g = Generator;
        lock (g) return g.Next(maxExclusive);
    }

    internal static double NextDouble()
    {
        var g = Generator;
        lock (g) return g.NextDouble();
    }

    /// <summary>Fills <paramref name="values"/> with a seeded Fisher–Yates permutation of 0..n-1.</summary>
    internal static void Permutation(Span<int> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = i;
        var g = Generator;
        lock (g)
        {
            for (int i = values.Length - 1; i > 0; i--)
            {
                int j = g.Next(i + 1);
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
