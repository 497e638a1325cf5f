using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Backends;

/// <summary>
/// The coarse operations the layers, losses, metrics and optimizers ask of a backend. Each works on
/// whole buffers (a matrix product, a layer's activation, a recurrent sequence, a weight's update),
/// so a backend for another device can keep its data there between them.
/// </summary>
internal interface IBackend
{
    string Name { get; }

    /// <summary><c>c (+)= op(a) · op(b)</c>: a is (m, k) (or (k, m) with transA), b is (k, n) (or (n, k) with transB), all row-major.</summary>
    void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n,
        bool transA = false, bool transB = false, bool accumulate = false);

    /// <summary>Adds <paramref name="bias"/> to every row of the (rows, cols) matrix.</summary>
    void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols);

    /// <summary><c>sums[j] (+)= Σ_i matrix[i, j]</c>: a bias gradient.</summary>
    void SumRows(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int cols, bool accumulate);

    void Tanh(ReadOnlySpan<float> x, Span<float> y);
    void Sigmoid(ReadOnlySpan<float> x, Span<float> y);
    void Relu(ReadOnlySpan<float> z, Span<float> a);

    /// <summary><c>dz = z &gt; 0 ? da : 0</c>.</summary>
    void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> da, Span<float> dz);

    /// <summary><c>product[i] = a[i] · b[i]</c>.</summary>
    void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> product);

    /// <summary>A dropout mask sampler seeded from <paramref name="seedSource"/> (Dropout and the recurrent layers' dropout share it).</summary>
    IDropoutSampler CreateDropoutSampler(System.Random seedSource);

    /// <summary><c>output[i] = input[i] · (bit i of keepBits ? keep : 0)</c>.</summary>
    void MultiplyByKeepBits(ReadOnlySpan<float> input, ReadOnlySpan<byte> keepBits, float keep, Span<float> output);

    /// <summary><c>mask[i] = bit i of keepBits ? keep : 0</c>.</summary>
    void SpreadKeepBits(ReadOnlySpan<byte> keepBits, float keep, Span<float> mask);

    IRecurrentCore CreateLstm(int features, int units, GateActivation activation, GateActivation recurrentActivation, bool returnSequences, bool goBackwards);
    IRecurrentCore CreateGru(int features, int units, GateActivation activation, GateActivation recurrentActivation, bool resetAfter, bool returnSequences, bool goBackwards);
    IRecurrentCore CreateSimpleRnn(int features, int units, GateActivation activation, bool returnSequences, bool goBackwards);

    /// <summary>
    /// One Adam step over a weight (or a range of one): <c>m += (g − m)·b1</c>, <c>v += (g² − v)·b2</c> (denormals
    /// flushed to zero), <c>w −= alpha·m / (√v + epsilon)</c>; each element by the same operations whatever the range.
    /// </summary>
    void AdamUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, float alpha, float b1, float b2, float epsilon);

    /// <summary>How this backend trains one batch of <paramref name="model"/>, or null to train it whole, layer by layer.</summary>
    ITrainingStrategy? CreateTrainingStrategy(Sequential model);
}

/// <summary>Draws dropout masks as keep bits.</summary>
internal interface IDropoutSampler
{
    /// <summary>Bit i of <paramref name="bits"/> is set, with probability 1 − rate, when value i is kept.</summary>
    void FillKeepBits(Span<byte> bits, int count, double rate);
}

/// <summary>A whole recurrent sequence, forward and backpropagation through time (see the CPU backend's RecurrentSequence).</summary>
internal interface IRecurrentCore
{
    void Reserve(int batch, int steps);

    void RunForward(int batch, int steps, ReadOnlySpan<float> x, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> inputMask, ReadOnlySpan<float> recurrentMask);

    void RunBackward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> recurrentKernel,
        Span<float> dx, Span<float> dKernel, Span<float> dRecurrentKernel, Span<float> dBias,
        Span<float> dInitialHidden, Span<float> dInitialCell);

    /// <summary>h after the last step of the latest forward pass, (B, U).</summary>
    ReadOnlySpan<float> FinalHidden { get; }

    /// <summary>c after the last step, for a cell that carries one.</summary>
    ReadOnlySpan<float> FinalCell { get; }
}

/// <summary>A backend's own way of running a model's training step (e.g. the CPU's batch halves on two cores).</summary>
internal interface ITrainingStrategy
{
    /// <summary>Trains one batch and returns its loss, or returns false when this batch should train whole.</summary>
    bool TryTrainStep(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights, out double loss);

    /// <summary>
    /// Brings the model's host copies (weights, optimizer slots, carried states) up to date with what this
    /// strategy keeps elsewhere, e.g. on a device; the model calls it before it or its user reads them.
    /// </summary>
    void SyncToHost();

    /// <summary>
    /// The host copies were written (weights set or loaded, states reset, slots restored): copies this
    /// strategy keeps elsewhere are stale and are taken from the host again before the next step. The
    /// model calls <see cref="SyncToHost"/> before such a write, so nothing trained is lost.
    /// </summary>
    void HostChanged();

    /// <summary>Brings the host up to date (<see cref="SyncToHost"/>), then forgets everything made for the model's current layers and compilation.</summary>
    void Reset();
}
