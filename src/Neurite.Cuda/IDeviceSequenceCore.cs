using ILGPU;

namespace Neurite.Cuda;

/// <summary>
/// A recurrent sequence core (LSTM, GRU, SimpleRNN) that trains on device buffers, for <see cref="DeviceTrainer"/>: the
/// input comes packed step-major (T, B, F) in processing order, the weights are the trainer's device copies, and no
/// dropout applies. Every step's states stay in the core between the two passes.
/// </summary>
internal interface IDeviceSequenceCore : IDisposable
{
    /// <summary>The carried states: 2 for an LSTM (h, c), 1 otherwise.</summary>
    int StateCount { get; }

    /// <summary>
    /// The forward pass; <paramref name="initialStates"/> (each (B, U), <see cref="StateCount"/> of them) are copied,
    /// zeros when empty; <paramref name="bias"/> is the layer's whole bias, or empty when it has none.
    /// </summary>
    void ForwardOnDevice(int batch, int steps, ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent,
        ArrayView<float> bias, ReadOnlySpan<ArrayView<float>> initialStates);

    /// <summary>h after each step of the latest forward pass, step-major (T, B, U) in processing order.</summary>
    ArrayView<float> HiddenSequence { get; }

    /// <summary>Final state <paramref name="index"/> (h, then c) of the latest forward pass, (B, U).</summary>
    ArrayView<float> FinalStateView(int index);

    /// <summary>
    /// Backpropagation through <see cref="ForwardOnDevice"/>'s pass: <paramref name="dOutput"/> is step-major (T, B, U) with
    /// returnSequences, else (B, U); the weight gradients are written (not added); <paramref name="dPacked"/> (T, B, F), when
    /// not empty, gets the gradient of the packed input.
    /// </summary>
    void BackwardOnDevice(ArrayView<float> dOutput, ArrayView<float> packed, ArrayView<float> kernel, ArrayView<float> recurrent,
        ArrayView<float> dKernel, ArrayView<float> dRecurrent, ArrayView<float> dBias, ArrayView<float> dPacked);
}
