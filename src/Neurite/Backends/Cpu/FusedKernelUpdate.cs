using Neurite.Backends.Cpu.Kernels;
using Neurite.Optimizers;

namespace Neurite.Backends.Cpu;

/// <summary>
/// A Dense layer's kernel gradient, dW = xᵀ·dz, made with the step's optimizer update applied to each block of the kernel's
/// rows as soon as the product has finished that block of dW, while it is still in L1/L2: the update no longer reads the
/// whole gradient back from L3 after the product. Only <see cref="Sequential"/>'s training step arms it, where its
/// conditions hold (<c>Sequential.PlanKernelUpdates</c>); the update is the optimizer's own range update, so the weights,
/// moments and gradient get the bits of the update in <see cref="Optimizer.Apply(IReadOnlyList{Parameter})"/>.
/// </summary>
internal sealed class FusedKernelUpdate(Parameter kernel) : IFinishedRows
{
    private int _units;

    public Parameter Kernel { get; } = kernel;

    /// <summary>The optimizer whose update this step makes here; null while no step has armed it.</summary>
    public Optimizer? Optimizer { get; private set; }

    /// <summary>The update number (the optimizer's iterations + 1) of the armed step.</summary>
    public long Step { get; private set; }

    /// <summary>True once this step's product has updated every row of the kernel.</summary>
    public bool Applied { get; private set; }

    /// <summary>The kernel's index among the model's trainable weights, as of the armed step.</summary>
    public int TrainableIndex { get; private set; }

    public void Arm(Optimizer optimizer, long step, int trainableIndex)
    {
        Optimizer = optimizer;
        Step = step;
        TrainableIndex = trainableIndex;
        Applied = false;
    }

    public void Disarm()
    {
        Optimizer = null;
        Applied = false;
    }

    /// <summary>
    /// dW = xᵀ·dz into the kernel's gradient (x: <paramref name="rows"/> × <paramref name="features"/>, dz: rows ×
    /// <paramref name="units"/>), updating the kernel as its rows are finished. False when the product's shape or thread
    /// split finished no rows early: the gradient is made all the same and the update is left to <c>Optimizer.Apply</c>.
    /// </summary>
    public bool MultiplyAndUpdate(ReadOnlySpan<float> input, ReadOnlySpan<float> dz, int features, int rows, int units)
    {
        if (Optimizer is null) throw new InvalidOperationException("The kernel update is not armed for this step.");
        _units = units;
        Applied = Gemm.MultiplyHandingRows(input, dz, Kernel.Gradient.Span, features, rows, units, transA: true, this);
        return Applied;
    }

    public void RowsFinished(int first, int end) => Optimizer!.UpdateRange(Kernel, first * _units, (end - first) * _units, Step);
}
