namespace Neurite.Layers;

/// <summary>
/// Keras's <c>Dropout</c>: in training, zeroes each input with probability <c>rate</c> and scales the
/// rest by 1/(1−rate) (inverted dropout); at inference it is the identity.
/// </summary>
public sealed class Dropout : Layer
{
    private readonly BufferCache _out = new(), _dx = new();
    private Backends.IDropoutSampler? _masks;
    private byte[] _keepBits = [];
    private int _lastCount;
    private Tensor? _lastFixedMask;
    private bool _lastWasTraining;

    public Dropout(double rate, int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(name, inputShape, batchSize)
    {
        if (!(rate >= 0 && rate < 1))
            throw new NeuriteException($"Dropout: rate must be in [0, 1). Received rate={rate}.");
        Config = new DropoutConfig(rate);
    }

    public override DropoutConfig Config { get; }
    public double Rate => Config.Rate;

    // The kept values' scale, 1/(1 − rate), rounded to float once as the mask values were.
    private float KeptScale => (float)(1.0 / (1.0 - Rate));

    protected override int[] OnBuild(int[] inputShape, System.Random rng)
    {
        _masks = Backends.Ops.CreateDropoutSampler(rng);
        return (int[])inputShape.Clone();
    }

    public override Tensor Forward(Tensor input, bool training)
    {
        CheckInput(input);
        _lastWasTraining = training && Rate > 0;
        if (!_lastWasTraining) return input;
        var output = _out.Get(input.Shape[0], InputDims);
        _lastFixedMask = FixedMask;
        _lastCount = input.Size;
        if (FixedMask is not null)
        {
            Backends.Ops.Multiply(input.Span, FixedMask.Span, output.Span);
            return output;
        }
        int count = input.Size;
        if (_keepBits.Length < (count + 7) / 8) _keepBits = new byte[(count + 7) / 8];
        _masks!.FillKeepBits(_keepBits, count, Rate);
        Backends.Ops.MultiplyByKeepBits(input.Span, _keepBits, KeptScale, output.Span);
        return output;
    }

    public override Tensor Backward(Tensor outputGradient)
    {
        if (!_lastWasTraining) return outputGradient;
        if (outputGradient.Size != _lastCount)
            throw new NeuriteException($"Dropout '{Name}': Backward got a gradient of {outputGradient.Size} values, but the latest Forward masked {_lastCount}. Pass the gradient of the latest Forward's output.");
        var dx = _dx.Get(outputGradient.Shape[0], InputDims);
        if (_lastFixedMask is not null) Backends.Ops.Multiply(outputGradient.Span, _lastFixedMask.Span, dx.Span);
        else Backends.Ops.MultiplyByKeepBits(outputGradient.Span, _keepBits, KeptScale, dx.Span);
        return dx;
    }

    /// <summary>
    /// Draws the next training mask as keep bits from this layer's own sampler, as <see cref="Forward"/> would:
    /// a backend that trains the model on its device applies the same masks as the CPU for the same seed.
    /// </summary>
    internal void DrawKeepBits(Span<byte> keepBits, int count) => _masks!.FillKeepBits(keepBits, count, Rate);

    /// <summary>A mask (0 or 1/(1−rate) per input value) used instead of random draws; tests fix it for finite-difference checks.</summary>
    internal Tensor? FixedMask { get; set; }

    internal override bool UsesFixedMasks => FixedMask is not null;

    internal override Backends.IDropoutSampler? MaskSampler
    {
        get => _masks;
        set => _masks = value;
    }
}
