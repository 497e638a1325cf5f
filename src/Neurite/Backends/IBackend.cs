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

    /// <summary><c>a = f(z)</c> for the activation <paramref name="kind"/> over rows of <paramref name="cols"/> values.</summary>
    void ActivationForward(ActivationKind kind, ReadOnlySpan<float> z, Span<float> a, int cols);

    /// <summary><c>dz = da · f'(z)</c>, given z, a = f(z) and da (the Jacobian–vector product for softmax); dz may alias da.</summary>
    void ActivationBackward(ActivationKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> da, Span<float> dz, int cols);

    /// <summary>
    /// The loss <paramref name="kind"/> of <paramref name="batch"/> rows of <paramref name="width"/> predictions: Σ_rows weight·loss(row)
    /// divided by <paramref name="averageOver"/>; when <paramref name="gradient"/> is not empty, writes ∂(that)/∂pred into it.
    /// <paramref name="delta"/> is Huber's δ (ignored by the others); sparse labels are already checked.
    /// </summary>
    double Loss(LossKind kind, double delta, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Span<float> gradient,
        ReadOnlySpan<float> sampleWeights, int batch, int width, int averageOver);

    /// <summary>Adds each row's value of the metric <paramref name="kind"/> to <paramref name="sum"/>, row by row in order.</summary>
    void AccumulateMeanMetric(MeanMetricKind kind, double threshold, ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, int batch, int width, ref double sum);

    /// <summary>
    /// Counts, for each threshold k, the values with <c>pred &gt; thresholds[k]</c> against <c>truth &gt; 0.5</c> into the
    /// true/false positive/negative counters at k (a counter span may be empty when it is not wanted).
    /// </summary>
    void AccumulateConfusion(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, ReadOnlySpan<double> thresholds,
        Span<long> truePositives, Span<long> falsePositives, Span<long> trueNegatives, Span<long> falseNegatives);

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

    /// <summary>Adam with AMSGrad: as <see cref="AdamUpdate"/>, with <c>vhat = max(vhat, v)</c> in the root.</summary>
    void AmsgradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> vhat, float alpha, float b1, float b2, float epsilon);

    /// <summary>
    /// One SGD step: <c>w −= lr·g</c> when <paramref name="momentum"/> is 0, else <c>velocity = μ·velocity − lr·g</c> and
    /// <c>w += velocity</c> (Nesterov: <c>w += μ·velocity − lr·g</c>).
    /// </summary>
    void SgdUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float momentum, bool nesterov);

    /// <summary>
    /// One RMSprop step: <c>s = ρs + (1−ρ)g²</c>; increment <c>lr·g/√(s − avg² + ε)</c> (centered: <c>avg = ρ·avg + (1−ρ)g</c>,
    /// else no avg term); with momentum <c>velocity = μ·velocity + increment</c> is subtracted, else the increment.
    /// </summary>
    void RmsPropUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> s, Span<float> velocity, Span<float> average,
        float learningRate, float rho, float epsilon, float momentum, bool centered);

    /// <summary>One Adagrad step: <c>acc += g²</c>; <c>w −= lr·g/√(acc + ε)</c>.</summary>
    void AdagradUpdate(Span<float> value, ReadOnlySpan<float> gradient, Span<float> accumulator, float learningRate, float epsilon);

    /// <summary>Σ x², in double (a gradient's squared L2 norm for clipping).</summary>
    double SumOfSquares(ReadOnlySpan<float> values);

    /// <summary><c>x *= factor</c>.</summary>
    void Scale(Span<float> values, float factor);

    /// <summary><c>x = clamp(x, −limit, limit)</c>.</summary>
    void ClampSymmetric(Span<float> values, float limit);

    /// <summary>How this backend trains one batch of <paramref name="model"/>, or null to train it whole, layer by layer.</summary>
    ITrainingStrategy? CreateTrainingStrategy(Sequential model);

    /// <summary>
    /// Compiles ahead, on a background thread, the code a training step of <paramref name="model"/> with batches of
    /// <paramref name="batchSize"/> rows runs (see <see cref="Sequential.PrewarmAsync"/>); a backend with nothing to
    /// compile returns a completed task.
    /// </summary>
    Task Prewarm(Sequential model, int batchSize) => Task.CompletedTask;
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
