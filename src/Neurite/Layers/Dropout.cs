namespace Neurite.Layers;

/// <summary>
/// Keras's <c>Dropout</c>: in training, zeroes each input with probability <c>rate</c> and scales the
/// rest by 1/(1−rate) (inverted dropout); at inference it is the identity.
/// </summary>
public sealed class Dropout : Layer
{
    private readonly BufferCache _out = new(), _dx = new(), _mask = new();
    private Kernels.MaskGenerator? _masks;
    private Tensor? _lastMask;
    private bool _lastWasTraining;

    public Dropout(double rate, int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(name, inputShape, batchSize)
    {
        if (!(rate >= 0 && rate < 1))
            throw new NeuriteException($"Dropout: rate must be in [0, 1). Received rate={rate}.");
        Rate = rate;
    }

    public double Rate { get; }

    protected override int[] OnBuild(int[] inputShape, System.Random rng)
    {
        _masks = new Kernels.MaskGenerator(rng);
        return (int[])inputShape.Clone();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override Tensor Forward(Tensor input, bool training)
    {
        CheckInput(input);
        _lastWasTraining = training && Rate > 0;
        if (!_lastWasTraining) return input;
        var output = _out.Get(input.Shape[0], InputDims);
        var mask = FixedMask ?? _mask.Get(input.Shape[0], InputDims);
        if (FixedMask is null) _masks!.FillInvertedDropout(mask.Span, Rate);
        Multiply(input.Span, mask.Span, output.Span);
        _lastMask = mask;
        return output;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override Tensor Backward(Tensor outputGradient)
    {
        if (!_lastWasTraining) return outputGradient;
        var dx = _dx.Get(outputGradient.Shape[0], InputDims);
        Multiply(outputGradient.Span, _lastMask!.Span, dx.Span);
        return dx;
    }

    private static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product)
    {
        int i = 0, width = System.Numerics.Vector<float>.Count;
        for (; i <= a.Length - width; i += width)
            (new System.Numerics.Vector<float>(a[i..]) * new System.Numerics.Vector<float>(b[i..])).CopyTo(product[i..]);
        for (; i < a.Length; i++) product[i] = a[i] * b[i];
    }

    /// <summary>A mask (0 or 1/(1−rate) per input value) used instead of random draws; tests fix it for finite-difference checks.</summary>
    internal Tensor? FixedMask { get; set; }

    internal override bool UsesFixedMasks => FixedMask is not null;

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        new Dictionary<string, object?>(base.GetConfig()) { ["rate"] = Rate, ["noise_shape"] = null, ["seed"] = null };

    protected internal override Layer CopyWithBatchSize(int? batchSize) =>
        new Dropout(Rate, DeclaredInputShape?.ToArray(), batchSize, Name);
}
