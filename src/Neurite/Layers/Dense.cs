using Neurite.Activations;
using Neurite.Initializers;
using Neurite.Backends;

namespace Neurite.Layers;

/// <summary>
/// Keras's <c>Dense</c>: <c>output = activation(input · kernel + bias)</c> on the last axis.
/// </summary>
/// <remarks>Shapes: input (B, ..., F), kernel (F, U), bias (U), output (B, ..., U).</remarks>
public sealed class Dense : Layer
{
    private readonly BufferCache _z = new(), _a = new(), _dz = new(), _dx = new();
    private Parameter? _kernel, _bias;
    private Tensor? _lastInput, _lastZ, _lastA;

    public Dense(int units, ActivationFunction? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, int? batchSize = null, string? name = null)
        : base(name, inputShape, batchSize)
    {
        if (units <= 0)
            throw new NeuriteException($"Dense: units must be a positive integer. Received units={units}.");
        Config = new DenseConfig(units, activation ?? Linear.Instance, useBias,
            kernelInitializer ?? Initializer.Get("glorot_uniform"), biasInitializer ?? Initializer.Get("zeros"));
    }

    /// <summary>Keras-style constructor taking the activation by name.</summary>
    public Dense(int units, string activation, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, int? batchSize = null, string? name = null)
        : this(units, ActivationFunction.Get(activation), useBias, kernelInitializer, biasInitializer, inputShape, batchSize, name) { }

    public override DenseConfig Config { get; }

    /// <summary>The kernel (null before the build).</summary>
    internal Parameter? Kernel => _kernel;

    /// <summary>Set by the model for a step that updates the kernel inside <see cref="Backward"/> (see <c>Sequential.PlanKernelUpdates</c>).</summary>
    internal Backends.Cpu.FusedKernelUpdate? KernelUpdate { get; set; }

    public int Units => Config.Units;
    public ActivationFunction Activation => Config.Activation;
    public bool UseBias => Config.UseBias;
    public Initializer KernelInitializer => Config.KernelInitializer;
    public Initializer BiasInitializer => Config.BiasInitializer;

    protected override int[] OnBuild(int[] inputShape, System.Random rng)
    {
        if (inputShape.Length < 1)
            throw new NeuriteException($"Dense '{Name}' needs inputs with a feature axis; received input shape {ShapeText.Format(inputShape, null)}.");
        int features = inputShape[^1];
        _kernel = AddWeight("kernel", [features, Units], KernelInitializer, rng);
        if (UseBias) _bias = AddWeight("bias", [Units], BiasInitializer, rng);
        var output = (int[])inputShape.Clone();
        output[^1] = Units;
        return output;
    }

    public override Tensor Forward(Tensor input, bool training)
    {
        CheckInput(input);
        int features = InputDims[^1];
        int rows = input.Size / features;
        var z = _z.Get(input.ShapeArray[0], OutputDims);
        Ops.MatMul(input.Span, _kernel!.Value.Span, z.Span, rows, features, Units);
        if (_bias is not null) Ops.AddBias(z.Span, _bias.Value.Span, rows, Units);
        Tensor a = z;
        if (!Activation.IsLinear)
        {
            a = _a.Get(input.ShapeArray[0], OutputDims);
            Activation.Forward(z.Span, a.Span, Units);
        }
        _lastInput = input;
        _lastZ = z;
        _lastA = a;
        return a;
    }

    public override Tensor Backward(Tensor outputGradient)
    {
        var input = _lastInput ?? throw new InvalidOperationException($"Dense '{Name}': Backward called before Forward.");
        int features = InputDims[^1];
        int rows = input.Size / features;
        Tensor dz = outputGradient;
        if (!Activation.IsLinear)
        {
            dz = _dz.Get(input.ShapeArray[0], OutputDims);
            Activation.Backward(_lastZ!.Span, _lastA!.Span, outputGradient.Span, dz.Span, Units);
        }
        // dx reads the kernel, so it comes before dW, which may update the kernel as it goes (KernelUpdate).
        Tensor? dx = null;
        if (NeedsInputGradient)
        {
            dx = _dx.Get(input.ShapeArray[0], InputDims);
            Ops.MatMul(dz.Span, _kernel!.Value.Span, dx.Span, rows, Units, features, transB: true);
        }
        if (_bias is not null) Ops.SumRows(dz.Span, _bias.Gradient.Span, rows, Units, accumulate: false);
        if (KernelUpdate is not { } update || !update.MultiplyAndUpdate(input.Span, dz.Span, features, rows, Units))
            Ops.MatMul(input.Span, dz.Span, _kernel!.Gradient.Span, features, rows, Units, transA: true);
        return dx ?? dz;
    }
}
