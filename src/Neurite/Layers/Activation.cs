using Neurite.Activations;

namespace Neurite.Layers;

/// <summary>Keras's <c>Activation</c> layer: applies an activation function to its input.</summary>
public sealed class Activation : Layer
{
    private readonly BufferCache _out = new(), _dx = new();
    private Tensor? _lastInput, _lastOutput;

    public Activation(string activation, int[]? inputShape = null, int? batchSize = null, string? name = null)
        : this(ActivationFunction.Get(activation), inputShape, batchSize, name) { }

    public Activation(ActivationFunction activation, int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(name, inputShape, batchSize) => Config = new ActivationConfig(activation);

    public override ActivationConfig Config { get; }
    public ActivationFunction Function => Config.Activation;

    protected override int[] OnBuild(int[] inputShape, System.Random rng) => (int[])inputShape.Clone();

    public override Tensor Forward(Tensor input, bool training)
    {
        CheckInput(input);
        var output = _out.Get(input.Shape[0], InputDims);
        Function.Forward(input.Span, output.Span, InputShape[^1]);
        _lastInput = input;
        _lastOutput = output;
        return output;
    }

    public override Tensor Backward(Tensor outputGradient)
    {
        var dx = _dx.Get(outputGradient.Shape[0], InputDims);
        Function.Backward(_lastInput!.Span, _lastOutput!.Span, outputGradient.Span, dx.Span, InputShape[^1]);
        return dx;
    }
}
