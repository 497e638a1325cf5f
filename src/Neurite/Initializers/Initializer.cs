
namespace Neurite.Initializers;

/// <summary>
/// Fills a new weight with starting values, as Keras's <c>keras.initializers</c> do. Fans follow
/// Keras: for a kernel of shape (..., in, out), fan_in = in · receptive field, fan_out = out · receptive field.
/// </summary>
public abstract class Initializer
{
    /// <summary>Keras's identifier, e.g. <c>glorot_uniform</c>.</summary>
    public abstract string Name { get; }

    public abstract void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng);

    /// <summary>The Keras config of this initializer (for saving models).</summary>
    public virtual IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();

    public static implicit operator Initializer(string name) => Get(name);

    /// <summary>Looks up an initializer by its Keras name.</summary>
    public static Initializer Get(string name) => name.ToLowerInvariant() switch
    {
        "glorot_uniform" or "glorotuniform" => new VarianceScaling(1.0, FanMode.FanAvg, Distribution.Uniform, "glorot_uniform"),
        "glorot_normal" or "glorotnormal" => new VarianceScaling(1.0, FanMode.FanAvg, Distribution.TruncatedNormal, "glorot_normal"),
        "he_uniform" or "heuniform" => new VarianceScaling(2.0, FanMode.FanIn, Distribution.Uniform, "he_uniform"),
        "he_normal" or "henormal" => new VarianceScaling(2.0, FanMode.FanIn, Distribution.TruncatedNormal, "he_normal"),
        "lecun_uniform" or "lecununiform" => new VarianceScaling(1.0, FanMode.FanIn, Distribution.Uniform, "lecun_uniform"),
        "lecun_normal" or "lecunnormal" => new VarianceScaling(1.0, FanMode.FanIn, Distribution.TruncatedNormal, "lecun_normal"),
        "orthogonal" => new Orthogonal(),
        "random_normal" or "randomnormal" => new RandomNormal(),
        "random_uniform" or "randomuniform" => new RandomUniform(),
        "truncated_normal" or "truncatednormal" => new TruncatedNormal(),
        "zeros" or "zero" => new Constant(0, "zeros"),
        "ones" or "one" => new Constant(1, "ones"),
        _ => throw new NeuriteException($"Unknown initializer '{name}'. Use one of: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal, random_normal, random_uniform, truncated_normal, zeros, ones, or pass an Initializer object such as new Constant(0.5)."),
    };

    internal static (double FanIn, double FanOut) ComputeFans(IReadOnlyList<int> shape)
    {
        if (shape.Count == 0) return (1, 1);
        if (shape.Count == 1) return (shape[0], shape[0]);
        if (shape.Count == 2) return (shape[0], shape[1]);
        double receptive = 1;
        for (int i = 0; i < shape.Count - 2; i++) receptive *= shape[i];
        return (shape[^2] * receptive, shape[^1] * receptive);
    }

    /// <summary>A normal draw redrawn until it lies within two standard deviations (Keras's truncated normal).</summary>
    internal static double TruncatedGaussian(System.Random rng)
    {
        while (true)
        {
            double g = NeuriteRandom.NextGaussian(rng);
            if (Math.Abs(g) <= 2.0) return g;
        }
    }
}

public enum FanMode { FanIn, FanOut, FanAvg }

public enum Distribution { Uniform, TruncatedNormal, UntruncatedNormal }

/// <summary>Keras's VarianceScaling: variance = scale / fan, uniform or (truncated) normal.</summary>
public sealed class VarianceScaling(double scale = 1.0, FanMode mode = FanMode.FanIn, Distribution distribution = Distribution.TruncatedNormal, string name = "variance_scaling") : Initializer
{
    // The standard deviation of a unit normal truncated to [-2, 2]; Keras divides by it so the truncated draw keeps the intended variance.
    private const double TruncatedNormalStd = 0.87962566103423978;

    public override string Name => name;
    public double Scale => scale;
    public FanMode Mode => mode;
    public Distribution Distribution => distribution;

    public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng)
    {
        var (fanIn, fanOut) = ComputeFans(shape);
        double fan = mode switch { FanMode.FanIn => fanIn, FanMode.FanOut => fanOut, _ => (fanIn + fanOut) / 2 };
        double s = scale / Math.Max(1.0, fan);
        switch (distribution)
        {
            case Distribution.Uniform:
                double limit = Math.Sqrt(3.0 * s);
                for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * limit);
                break;
            case Distribution.TruncatedNormal:
                double std = Math.Sqrt(s) / TruncatedNormalStd;
                for (int i = 0; i < values.Length; i++) values[i] = (float)(TruncatedGaussian(rng) * std);
                break;
            default:
                double sd = Math.Sqrt(s);
                for (int i = 0; i < values.Length; i++) values[i] = (float)(NeuriteRandom.NextGaussian(rng) * sd);
                break;
        }
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["seed"] = null };
}

/// <summary>Keras's RandomNormal (mean 0, stddev 0.05 by default).</summary>
public sealed class RandomNormal(double mean = 0.0, double stddev = 0.05) : Initializer
{
    public override string Name => "random_normal";
    public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(mean + stddev * NeuriteRandom.NextGaussian(rng));
    }
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["mean"] = mean, ["stddev"] = stddev, ["seed"] = null };
}

/// <summary>Keras's TruncatedNormal (mean 0, stddev 0.05, redrawn beyond two standard deviations).</summary>
public sealed class TruncatedNormal(double mean = 0.0, double stddev = 0.05) : Initializer
{
    public override string Name => "truncated_normal";
    public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(mean + stddev * TruncatedGaussian(rng));
    }
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["mean"] = mean, ["stddev"] = stddev, ["seed"] = null };
}

/// <summary>Keras's RandomUniform (in [-0.05, 0.05) by default).</summary>
public sealed class RandomUniform(double minval = -0.05, double maxval = 0.05) : Initializer
{
    public override string Name => "random_uniform";
    public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(minval + (maxval - minval) * rng.NextDouble());
    }
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["minval"] = minval, ["maxval"] = maxval, ["seed"] = null };
}

/// <summary>Every value equal to one constant (Keras's Constant, Zeros, Ones).</summary>
public sealed class Constant(double value = 0.0, string name = "constant") : Initializer
{
    public override string Name => name;
    public double Value => value;
    public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng) => values.Fill((float)value);
    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        name == "constant" ? new Dictionary<string, object?> { ["value"] = value } : new Dictionary<string, object?>();
}

/// <summary>
/// Keras's Orthogonal: the Q factor of a QR decomposition of a normal matrix of shape
/// (prod(shape[:-1]), shape[-1]), signs fixed by diag(R), times <c>gain</c>.
/// </summary>
public sealed class Orthogonal(double gain = 1.0) : Initializer
{
    public override string Name => "orthogonal";

    public override void Fill(Span<float> values, IReadOnlyList<int> shape, System.Random rng)
    {
        if (shape.Count < 2)
            throw new NeuriteException($"The orthogonal initializer needs a weight of rank 2 or more; received shape {ShapeText.Format(shape)}. Use glorot_uniform for vectors.");
        int cols = shape[^1];
        int rows = values.Length / cols;
        // QR of the taller orientation, so Q has orthonormal columns.
        int m = Math.Max(rows, cols), n = Math.Min(rows, cols);
        // Column j of the m×n draw is q[j·m .. j·m + m): row by row in the draw's order, one column contiguous.
        var q = new double[(long)m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                q[(long)j * m + i] = NeuriteRandom.NextGaussian(rng);
        OrthonormalColumns.Orthonormalize(q, m, n);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                values[i * cols + j] = (float)(gain * (rows >= cols ? q[(long)j * m + i] : q[(long)i * m + j]));
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["gain"] = gain, ["seed"] = null };
}
