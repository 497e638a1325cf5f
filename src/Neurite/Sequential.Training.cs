using Neurite.Callbacks;
using Neurite.Layers;
using Neurite.Losses;

namespace Neurite;

public sealed partial class Sequential
{
    private readonly Logs _batchLogs = new();

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs (Keras's <c>fit</c>). <paramref name="validationSplit"/>
    /// holds out the last fraction of the rows, taken before shuffling; <paramref name="shuffle"/> defaults to
    /// true, and to false for stateful models, which refuse shuffling.
    /// </summary>
    /// <remarks>
    /// <paramref name="cancellationToken"/> is checked before each epoch and each training batch. When it is
    /// cancelled, Fit stops there and throws <see cref="TrainingCanceledException"/> (an
    /// <see cref="OperationCanceledException"/>): the weights and the optimizer state are those after the last
    /// completed batch, so training can go on from them (after a whole epoch, <c>Fit(..., initialEpoch: e)</c>
    /// continues exactly as if never stopped), and the exception's <c>History</c> (also <see cref="History"/>)
    /// holds the completed epochs. An epoch whose batches all completed still runs its validation and is
    /// recorded. Callbacks get no <c>OnTrainEnd</c> after a cancellation.
    /// </remarks>
    public History Fit(Tensor x, Tensor y, int epochs = 1, int? batchSize = null, double validationSplit = 0,
        (Tensor X, Tensor Y)? validationData = null, bool? shuffle = null, int verbose = 1,
        IEnumerable<Callback>? callbacks = null, IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0,
        CancellationToken cancellationToken = default)
    {
        var events = TrainingEventSource.Log;
        bool traced = events.IsEnabled();
        if (traced) events.FitBegin(epochs);
        RequireCompiled(nameof(Fit));
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (epochs < 0) throw new NeuriteException($"epochs must be zero or more. Received epochs={epochs}.");
        if (initialEpoch < 0 || initialEpoch > epochs)
            throw new NeuriteException($"initialEpoch must be between 0 and epochs ({epochs}). Received initialEpoch={initialEpoch}.");
        if (!(validationSplit >= 0 && validationSplit < 1))
            throw new NeuriteException($"validationSplit must be in [0, 1). Received validationSplit={validationSplit}.");
        CheckVerbose(verbose);
        y = PrepareData(x, y, "Fit");
        int batch = ResolveBatchSize(batchSize, "Fit");
        bool doShuffle = ResolveShuffle(shuffle);

        // A split's rows are read where they lie in x and y, the first `rows` for training and the rest from
        // validationStart: copied out (Tensor.Slice), W2's 437 + 109 rows of 89 features made a large-object allocation each
        // Fit, and its page faults.
        int rows = x.Shape[0], validationStart = 0;
        Tensor? xVal = null, yVal = null;
        if (validationData is { } vd)
        {
            xVal = vd.X;
            yVal = PrepareData(vd.X, vd.Y, "Fit (validationData)");
        }
        else if (validationSplit > 0)
        {
            int splitAt = (int)Math.Floor(x.Shape[0] * (1.0 - validationSplit));
            if (splitAt == 0 || splitAt == x.Shape[0])
                throw new NeuriteException($"validationSplit={validationSplit} of {x.Shape[0]} rows leaves {(splitAt == 0 ? "no training rows" : "no validation rows")}. Use a split between {1.0 / x.Shape[0]:0.###} and {1 - 1.0 / x.Shape[0]:0.###}, or pass validationData.");
            rows = splitAt;
            (xVal, yVal, validationStart) = (x, y, splitAt);
        }
        if (IsStateful) CheckStatefulRows(rows, batch, "training");
        if (IsStateful && xVal is not null) CheckStatefulRows(xVal.Shape[0] - validationStart, batch, "validation");

        float[]? sampleWeights = classWeight is null ? null : ClassWeightsPerRow(y, rows, classWeight);
        int steps = (rows + batch - 1) / batch;

        var history = new History();
        History = history;
        var list = new List<Callback>();
        if (callbacks is not null) list.AddRange(callbacks);
        list.Add(history);
        var progress = verbose > 0 ? new ProgressLogger(verbose, steps, epochs, Output, LiveBar(verbose)) : null;
        if (progress is not null) list.Add(progress);
        var runParams = new CallbackParams(epochs, steps, verbose);
        foreach (var c in list)
        {
            c.Model = this;
            c.Params = runParams;
        }

        // Validation runs the callbacks' test hooks as Keras's fit does; the progress bar stays on the epoch's line. A loop,
        // not LINQ: the first Fit on the training thread paid 12-15 µs for the LINQ query's first calls (bench/results/cold-start-s10.md).
        var validationCallbacks = new List<Callback>(list.Count);
        foreach (var c in list)
            if (c != progress) validationCallbacks.Add(c);

        StopTraining = false;
        var trainLogs = new Logs();
        foreach (var c in list) c.OnTrainBegin(trainLogs);
        var order = new int[rows];
        for (int i = 0; i < rows; i++) order[i] = i;
        var xRest = x.ShapeArray.AsSpan(1).ToArray();
        var yRest = y.ShapeArray.AsSpan(1).ToArray();

        // Whatever ends Fit (the last epoch, a cancellation, a callback's exception), the host holds what was trained.
        try
        {
            for (int epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
            {
                // Before the epoch's callbacks and shuffle, so that a Fit resumed with initialEpoch: epoch continues exactly.
                if (cancellationToken.IsCancellationRequested) throw Canceled(history, progress, epoch, 0, steps, cancellationToken);
                var epochLogs = new Logs();
                foreach (var c in list) c.OnEpochBegin(epoch, epochLogs);
                if (doShuffle) NeuriteRandom.Permutation(order);
                foreach (var m in _metrics) m.Reset();
                double lossSum = 0;
                long seen = 0;
                _batchLogs.Clear();
                for (int step = 0; step < steps; step++)
                {
                    if (cancellationToken.IsCancellationRequested) throw Canceled(history, progress, epoch, step, steps, cancellationToken);
                    int start = step * batch, count = Math.Min(batch, rows - start);
                    if (traced) events.BatchBegin(epoch, step);
                    for (int c = 0; c < list.Count; c++) list[c].OnTrainBatchBegin(step, _batchLogs);
                    var xb = _trainBuffers.X(count, xRest);
                    var yb = _trainBuffers.Y(count, yRest);
                    var rowsOfBatch = order.AsSpan(start, count);
                    GatherRows(x, rowsOfBatch, xb);
                    GatherRows(y, rowsOfBatch, yb);
                    ReadOnlySpan<float> wb = default;
                    if (sampleWeights is not null)
                    {
                        var w = _trainBuffers.W(count);
                        for (int i = 0; i < count; i++) w.Span[i] = sampleWeights[rowsOfBatch[i]];
                        wb = w.Span;
                    }
                    double loss = TrainStep(xb, yb, wb);
                    lossSum += loss * count;
                    seen += count;
                    _batchLogs["loss"] = lossSum / seen;
                    for (int m = 0; m < _metrics.Count; m++) _batchLogs[_metrics[m].Name] = _metrics[m].Result();
                    for (int c = 0; c < list.Count; c++) list[c].OnTrainBatchEnd(step, _batchLogs);
                    if (traced) events.BatchEnd(epoch, step);
                    if (StopTraining) break;
                }
                foreach (var (k, v) in _batchLogs) epochLogs[k] = v;
                if (xVal is not null)
                {
                    // Not cancellable: an epoch whose batches all completed is finished and recorded.
                    var validationLogs = new Logs();
                    foreach (var c in validationCallbacks) c.OnTestBegin(validationLogs);
                    var scores = EvaluateCore(xVal, yVal!, batch, validationCallbacks, CancellationToken.None, validationStart);
                    foreach (var (k, v) in scores)
                    {
                        validationLogs[k] = v;
                        epochLogs["val_" + k] = v;
                    }
                    foreach (var c in validationCallbacks) c.OnTestEnd(validationLogs);
                }
                // The epoch's callbacks may read the weights any way they like (a layer's, a parameter's tensor).
                SyncHostFromBackend();
                foreach (var c in list) c.OnEpochEnd(epoch, epochLogs);
            }
        }
        finally
        {
            SyncHostFromBackend();
        }
        foreach (var c in list) c.OnTrainEnd(trainLogs);
        if (traced) events.FitEnd();
        return history;
    }

    /// <summary>
    /// One gradient update on one batch (Keras's <c>train_on_batch</c>); returns the batch's loss.
    /// Allocates nothing once warm for a given batch size.
    /// </summary>
    public double TrainOnBatch(Tensor x, Tensor y)
    {
        RequireCompiled(nameof(TrainOnBatch));
        if (!IsBuilt || _metrics.Count != _metricNames.Length || x.Shape[0] != y.Shape[0] || y.Rank == 1) y = PrepareData(x, y, nameof(TrainOnBatch));
        else CheckWarmBatch(x, y);
        if (IsStateful && FixedBatchSize is int b && x.Shape[0] != b) ResolveBatchSize(x.Shape[0], nameof(TrainOnBatch));
        return TrainStep(x, y, default);
    }

    /// <summary>One forward, backward and update on a batch; returns the batch's loss.</summary>
    // Not AggressiveOptimization, like the other methods that only direct layers and kernels (Dense/Dropout Forward and
    // Backward, Optimizer.Apply, Gemm.Multiply, the recurrent RunForward/RunBackward): ReadyToRun never precompiles such
    // methods, so the tool's first step waited for the JIT to compile them; without it they start as precompiled code and
    // the tiered JIT optimises them when hot (bench/results/cold-start.md, "Native AOT and AggressiveOptimization"). The kernels with
    // the loops over values keep it: a library user's JIT would otherwise start them unoptimised.
    private double TrainStep(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights)
    {
        if (TryTrainByBackend(xb, yb, sampleWeights, out double backendLoss)) return backendLoss;
        if (!StepStaysOnOneThread(xb.Shape[0])) return TrainLayerByLayer(xb, yb, sampleWeights);
        bool kept = Backends.Cpu.Kernels.WorkerPool.KeepOnThisThread(true);
        try { return TrainLayerByLayer(xb, yb, sampleWeights); }
        finally { Backends.Cpu.Kernels.WorkerPool.KeepOnThisThread(kept); }
    }

    /// <summary>
    /// The training step's products, passes and updates split over threads only from this many FLOPs a step (6 per weight
    /// use and batch row, <see cref="StepStaysOnOneThread(int)"/>). Below, each piece takes a few µs, and on two threads
    /// each piece's part reads lines the other core wrote last (the weights Adam updated, the activations the previous
    /// piece wrote): at MLP U=128 B=64 (12.6 MFLOP) each half of a split forward product took about the whole product's
    /// one-thread time. Two threads ÷ one, MLP steps split against one thread (bench/results/sweep-s11.md, s11-mlp128):
    /// 12.6 MFLOP 0.84–1.01, 25 MFLOP 0.97–1.05, 28–38 MFLOP 1.02–1.09, 50 MFLOP 1.13–1.29, 100 MFLOP 1.61. The threshold
    /// sits just under the break-even. Settable for the tests.
    /// </summary>
    internal double MinSplitStepFlops { get; set; } = DefaultMinSplitStepFlops;

    internal const double DefaultMinSplitStepFlops = 24e6;

    // Σ of the built layers' forward multiply-adds per batch row (Layer.MultiplyAddsPerRow).
    private double _multiplyAddsPerRow;

    /// <summary>Whether a layer-by-layer training step of <paramref name="rows"/> rows runs every kernel on the calling thread
    /// (<see cref="MinSplitStepFlops"/>); one thread's bits either way.</summary>
    internal bool StepStaysOnOneThread(int rows) => StepStaysOnOneThread(rows, Backends.Cpu.Kernels.Threading.MaxThreads);

    /// <summary>As <see cref="StepStaysOnOneThread(int)"/> under a limit of <paramref name="threads"/> (the kernel prewarm's plan).</summary>
    internal bool StepStaysOnOneThread(int rows, int threads) => threads > 1 && 6.0 * rows * _multiplyAddsPerRow < MinSplitStepFlops;

    private double TrainLayerByLayer(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights)
    {
        var g = ForwardToOutputGradient(xb, yb, sampleWeights, out var a, out double loss);
        int count = xb.Shape[0];
        for (int m = 0; m < _metrics.Count; m++) _metrics[m].Update(a.Span, yb.Span, count, a.Size / count);
        if (!PlanKernelUpdates())
        {
            for (int i = _layers.Count - 1; i >= 0; i--) g = _layers[i].Backward(g);
            Optimizer!.Apply(_trainable);
            return loss;
        }
        try
        {
            for (int i = _layers.Count - 1; i >= 0; i--) g = _layers[i].Backward(g);
            var updated = _updatedInBackward.AsSpan(0, _trainable.Count);
            updated.Clear();
            for (int i = 0; i < _kernelUpdates.Length; i++)
                if (_kernelUpdates[i] is { Applied: true } update)
                {
                    updated[update.TrainableIndex] = true;
                    KernelsUpdatedInBackward++;
                }
            Optimizer!.Apply(_trainable, updated);
        }
        finally
        {
            for (int i = 0; i < _kernelUpdates.Length; i++)
            {
                _kernelUpdates[i]?.Disarm();
                if (_layers[i] is Dense dense) dense.KernelUpdate = null;
            }
        }
        return loss;
    }

    private readonly BufferCache _gradTensors = new();

    /// <summary>
    /// A training step's forward pass over <paramref name="xb"/> and the loss against <paramref name="yb"/>: returns the
    /// gradient with respect to the model's <paramref name="output"/>, in a buffer of its own for the backward pass.
    /// </summary>
    private Tensor ForwardToOutputGradient(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights, out Tensor output, out double loss)
    {
        Tensor a = xb;
        for (int i = 0; i < _layers.Count; i++) a = _layers[i].Forward(a, training: true);
        int count = xb.Shape[0];
        if (_lossGradient.Length < a.Size) _lossGradient = new float[a.Size];
        var gradSpan = _lossGradient.AsSpan(0, a.Size);
        loss = Loss!.Compute(a.Span, yb.Span, gradSpan, sampleWeights, count, a.Size / count);
        var g = _gradTensors.Get(count, a.ShapeArray.AsSpan(1));
        gradSpan.CopyTo(g.Span);
        output = a;
        return g;
    }

    /// <summary>
    /// Makes, ahead of a <see cref="Fit"/> on <paramref name="trainingRows"/> rows validated on <paramref name="validationRows"/>
    /// in batches of <paramref name="batchSize"/>, what that Fit's first steps and validation would make on first use: the
    /// batch buffers, each layer's buffers for the whole and the short batch, the loss gradient, the optimizer's slots and
    /// the backend's training strategy. A model of Dense layers on the CPU backend only (their passes keep no state but
    /// their buffers); anything else is left as it is. The weights, the optimizer's step count and every later result are
    /// as without it: the passes run on zeros into buffers every step overwrites, and the gradients are cleared after.
    /// </summary>
    /// <remarks>
    /// A small network's first step made these for 20–40 µs of one-time work against 4 µs for a warm step (first touches of
    /// new memory, the first calls on the training thread), and the forecaster's ensemble trains one such network after
    /// another (bench/results/cold-start-s11.md). Done for every member before the first trains, that work is out of the
    /// training, not added to it: a member's Fit then makes nothing new.
    /// </remarks>
    internal void PrepareTraining(int trainingRows, int validationRows, int batchSize)
    {
        if (!IsCompiled || !IsBuilt || IsStateful || batchSize < 1 || Backends.Backend.Active is not Backends.Cpu.CpuBackend) return;
        foreach (var layer in _layers)
            if (layer is not Dense) return;
        var xRest = _layers[0].InputShape.ToArray();
        var yRest = _layers[^1].OutputShape.ToArray();
        foreach (int rows in BatchLengths(trainingRows, batchSize))
        {
            var xb = _trainBuffers.X(rows, xRest);
            var g = ForwardToOutputGradient(xb, _trainBuffers.Y(rows, yRest), default, out _, out _);
            for (int i = _layers.Count - 1; i >= 0; i--) g = _layers[i].Backward(g);
        }
        foreach (int rows in BatchLengths(validationRows, batchSize))
        {
            _ = _testBuffers.Y(rows, yRest);
            ForwardInference(_testBuffers.X(rows, xRest));
        }
        foreach (var p in _trainable) p.Gradient.Span.Clear();
        if (TrainInHalves) EnsureTrainingStrategy();
        var optimizer = Optimizer!;
        optimizer.PrepareSlots(_trainable);
        // A fresh Adam's update of zero moments by a zero gradient is exactly zero (m and v stay 0, w − α·0/(0 + ε) = w), so
        // one such step makes the update's first calls here and changes nothing once its step count is put back. Moments a
        // step has made would decay in it: an optimizer that has stepped is left alone.
        if (optimizer is Optimizers.Adam { Iterations: 0, Amsgrad: false, ClipNorm: null, ClipValue: null, GlobalClipNorm: null })
        {
            optimizer.Apply(_trainable);
            optimizer.Iterations = 0;
        }
    }

    /// <summary>The lengths of a pass's batches over <paramref name="rows"/> rows: the whole batch and the short last one, where there are.</summary>
    private static IEnumerable<int> BatchLengths(int rows, int batchSize)
    {
        if (rows >= batchSize) yield return batchSize;
        if (rows % batchSize > 0) yield return rows % batchSize;
    }

    /// <summary>
    /// False makes every step update all weights in <see cref="Optimizers.Optimizer.Apply(IReadOnlyList{Parameter})"/> after
    /// the backward pass (for the tests' and the benchmark's comparison); true lets <see cref="PlanKernelUpdates"/> update
    /// Dense kernels inside it.
    /// </summary>
    internal bool FuseKernelUpdates { get; set; } = true;

    /// <summary>
    /// Kernels of fewer values are updated in <c>Apply</c>: their gradient and Adam's weight and moments (16 bytes a value,
    /// 512 KiB at this size) stay in a 512 KiB L2 from the product to the update anyway, so fusing saves no traffic, and
    /// arming it cost about 0.5 µs a step (MLP U=128 B=64, kernels of 16 K values: 0.1088 ms fused against 0.1083 unfused,
    /// bench/results/sweep-s9.md, s9-fuse). Settable so that the tests can fuse small kernels.
    /// </summary>
    internal int MinFusedKernelValues { get; set; } = 32 * 1024;

    /// <summary>How many kernel updates so far ran inside the backward pass (for the tests: the fused path was taken).</summary>
    internal long KernelsUpdatedInBackward { get; private set; }

    // The most values of any Dense kernel of the model as built: none smaller than MinFusedKernelValues is fused.
    private int _largestDenseKernel;

    // Per layer index: the layer's fused kernel update (null: not a Dense, or never eligible yet).
    private Backends.Cpu.FusedKernelUpdate?[] _kernelUpdates = [];
    // Per _trainable index: updated in this step's backward pass, so Apply leaves it alone.
    private bool[] _updatedInBackward = [];

    /// <summary>
    /// Arms, for this step, the Dense kernels whose optimizer update runs inside the backward pass, block of rows by block
    /// as the weight-gradient product finishes them (<see cref="Backends.Cpu.FusedKernelUpdate"/>); the optimizer's
    /// <see cref="Optimizers.Optimizer.Apply(IReadOnlyList{Parameter}, ReadOnlySpan{bool})"/> then skips them and updates
    /// the rest, and counts the step once. Returns whether any was armed. The one place that decides; a kernel qualifies when:
    /// <list type="bullet">
    /// <item>the CPU backend runs the step (the fused product is its kernel) and <see cref="FuseKernelUpdates"/> is on;</item>
    /// <item>the optimizer updates elementwise (<c>UpdatesElementwise</c>: no clipnorm, clipvalue or global_clipnorm, which
    /// need a whole gradient, or all of them, before any update; an optimizer that can update a range);</item>
    /// <item>the update follows this backward pass in the same step: this is called only from the layer-by-layer training
    /// step, right before its backward pass and <c>Apply</c> (not from a pass that keeps or returns gradients, nor the
    /// backend's halves, which add two halves' gradients first);</item>
    /// <item>the kernel is trainable, listed once among the model's trainable weights, and held by no other layer of the
    /// model: one layer call makes its whole gradient, so a finished block of it is final;</item>
    /// <item>the kernel holds at least <see cref="MinFusedKernelValues"/> values (below, fusing saves nothing);</item>
    /// <item>no regularizer or constraint sees the gradient or weight between the product and the update (Neurite's
    /// layers have none; one that adds them must be excluded here).</item>
    /// </list>
    /// Dense.Backward makes dx = dz·Wᵀ before dW, so dx reads the weights before the update. The weights, moments and
    /// gradients get the bits of the unfused step (the update by ranges is the whole update's, element by element).
    /// </summary>
    private bool PlanKernelUpdates()
    {
        // First what a small model's step can tell at once: W1's and W2's steps take a few µs each.
        if (_largestDenseKernel < MinFusedKernelValues || !FuseKernelUpdates) return false;
        var optimizer = Optimizer!;
        if (!optimizer.UpdatesElementwise || Backends.Backend.Active is not Backends.Cpu.CpuBackend) return false;
        if (_kernelUpdates.Length != _layers.Count) Array.Resize(ref _kernelUpdates, _layers.Count);
        if (_updatedInBackward.Length < _trainable.Count) _updatedInBackward = new bool[_trainable.Count];
        bool any = false;
        for (int i = 0; i < _layers.Count; i++)
        {
            if (_layers[i] is not Dense { Kernel: { Trainable: true } kernel } dense || kernel.Value.Size < MinFusedKernelValues
                || TrainableIndexIfHeldOnce(kernel) is not int index) continue;
            var update = _kernelUpdates[i];
            if (update is null || !ReferenceEquals(update.Kernel, kernel)) _kernelUpdates[i] = update = new Backends.Cpu.FusedKernelUpdate(kernel);
            if (!any) optimizer.PrepareSlots(_trainable); // created here, not by worker threads handed rows
            update.Arm(optimizer, optimizer.Iterations + 1, index);
            dense.KernelUpdate = update;
            any = true;
        }
        return any;
    }

    /// <summary>
    /// <paramref name="weight"/>'s index among the trainable weights when it is listed there once and held by one layer only;
    /// otherwise null.
    /// </summary>
    private int? TrainableIndexIfHeldOnce(Parameter weight)
    {
        int listed = 0, held = 0, index = -1;
        for (int i = 0; i < _trainable.Count; i++)
            if (ReferenceEquals(_trainable[i], weight))
            {
                listed++;
                index = i;
            }
        for (int i = 0; i < _layers.Count; i++)
        {
            var parameters = _layers[i].Parameters;
            for (int j = 0; j < parameters.Count; j++) if (ReferenceEquals(parameters[j], weight)) held++;
        }
        return listed == 1 && held == 1 ? index : null;
    }

    /// <summary>
    /// Returns the loss and metrics on the given data (Keras's <c>evaluate</c>), as a dictionary keyed
    /// <c>loss</c>, <c>accuracy</c>, ... <paramref name="verbose"/> 1 (Keras's default) shows a progress bar
    /// (one line when output is redirected), 2 one line, 0 nothing. <paramref name="callbacks"/> get the test
    /// hooks with the running loss and metrics after each batch; <paramref name="cancellationToken"/> is checked
    /// before each batch.
    /// </summary>
    public Dictionary<string, double> Evaluate(Tensor x, Tensor y, int? batchSize = null, int verbose = 1,
        IEnumerable<Callback>? callbacks = null, CancellationToken cancellationToken = default)
    {
        RequireCompiled(nameof(Evaluate));
        CheckVerbose(verbose);
        y = PrepareData(x, y, "Evaluate");
        int batch = ResolveBatchSize(batchSize, "Evaluate");
        if (IsStateful) CheckStatefulRows(x.Shape[0], batch, "evaluation");
        var list = PassCallbacks(callbacks, verbose, x.Shape[0], batch);
        var logs = new Logs();
        foreach (var c in list) c.OnTestBegin(logs);
        var scores = EvaluateCore(x, y, batch, list, cancellationToken);
        foreach (var (k, v) in scores) logs[k] = v;
        foreach (var c in list) c.OnTestEnd(logs);
        return scores;
    }

    /// <summary>The loss and metrics over the rows of <paramref name="x"/> and <paramref name="y"/> from <paramref name="firstRow"/> on.</summary>
    private Dictionary<string, double> EvaluateCore(Tensor x, Tensor y, int batch, List<Callback>? callbacks, CancellationToken cancellationToken,
        int firstRow = 0)
    {
        int rows = x.Shape[0] - firstRow;
        SyncHostFromBackend();
        foreach (var m in _metrics) m.Reset();
        double lossSum = 0;
        var xRest = x.ShapeArray.AsSpan(1);
        var yRest = y.ShapeArray.AsSpan(1);
        var batchLogs = callbacks is { Count: > 0 } ? new Logs() : null;
        for (int start = 0, step = 0; start < rows; start += batch, step++)
        {
            ThrowIfCancelled(callbacks, cancellationToken);
            if (batchLogs is not null) foreach (var c in callbacks!) c.OnTestBatchBegin(step, batchLogs);
            int count = Math.Min(batch, rows - start);
            var xb = _testBuffers.X(count, xRest);
            var yb = _testBuffers.Y(count, yRest);
            x.Span.Slice((firstRow + start) * x.RowSize, count * x.RowSize).CopyTo(xb.Span);
            y.Span.Slice((firstRow + start) * y.RowSize, count * y.RowSize).CopyTo(yb.Span);
            var a = ForwardInference(xb);
            int w = a.Size / count;
            lossSum += Loss!.Compute(a.Span, yb.Span, Span<float>.Empty, default, count, w) * count;
            foreach (var m in _metrics) m.Update(a.Span, yb.Span, count, w);
            if (batchLogs is not null)
            {
                batchLogs["loss"] = lossSum / (start + count);
                foreach (var m in _metrics) batchLogs[m.Name] = m.Result();
                foreach (var c in callbacks!) c.OnTestBatchEnd(step, batchLogs);
            }
        }
        // A stateful model carried its states through these batches on the host.
        if (IsStateful) HostWritten();
        var scores = new Dictionary<string, double> { ["loss"] = rows == 0 ? 0 : lossSum / rows };
        foreach (var m in _metrics) scores[m.Name] = m.Result();
        return scores;
    }

    private Tensor ForwardInference(Tensor xb)
    {
        Tensor a = xb;
        foreach (var layer in _layers) a = layer.Forward(a, training: false);
        return a;
    }

    /// <summary>
    /// Runs the model on <paramref name="x"/> in batches and returns the outputs (Keras's <c>predict</c>).
    /// <paramref name="verbose"/> 1 (Keras's default) shows a progress bar (one line when output is redirected),
    /// 2 one line, 0 nothing; <paramref name="callbacks"/> get the predict hooks; <paramref name="cancellationToken"/>
    /// is checked before each batch.
    /// </summary>
    public Tensor Predict(Tensor x, int? batchSize = null, int verbose = 1, IEnumerable<Callback>? callbacks = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckVerbose(verbose);
        CheckInputs(x, "Predict");
        int batch = ResolveBatchSize(batchSize, "Predict");
        int rows = x.Shape[0];
        if (IsStateful) CheckStatefulRows(rows, batch, "prediction");
        var outShape = new int[_layers[^1].OutputShape.Count + 1];
        outShape[0] = rows;
        for (int i = 1; i < outShape.Length; i++) outShape[i] = _layers[^1].OutputShape[i - 1];
        var result = Tensor.Zeros(outShape);
        int outRow = result.RowSize;
        var xRest = x.ShapeArray.AsSpan(1);
        var list = PassCallbacks(callbacks, verbose, rows, batch);
        var logs = new Logs();
        SyncHostFromBackend();
        foreach (var c in list) c.OnPredictBegin(logs);
        for (int start = 0, step = 0; start < rows; start += batch, step++)
        {
            ThrowIfCancelled(list, cancellationToken);
            foreach (var c in list) c.OnPredictBatchBegin(step, logs);
            int count = Math.Min(batch, rows - start);
            var xb = _testBuffers.X(count, xRest);
            x.Span.Slice(start * x.RowSize, count * x.RowSize).CopyTo(xb.Span);
            var a = ForwardInference(xb);
            a.Span.CopyTo(result.Span.Slice(start * outRow, count * outRow));
            foreach (var c in list) c.OnPredictBatchEnd(step, logs);
        }
        if (IsStateful) HostWritten();
        foreach (var c in list) c.OnPredictEnd(logs);
        return result;
    }

    /// <summary>
    /// Class indices: the arg-max of each output row, or for a single sigmoid output, 1 where it
    /// exceeds 0.5 (the tutorial's <c>predict_classes</c>, silent by default as it was).
    /// </summary>
    public int[] PredictClasses(Tensor x, int? batchSize = null, int verbose = 0, CancellationToken cancellationToken = default)
    {
        var p = Predict(x, batchSize, verbose, cancellationToken: cancellationToken);
        int rows = p.Shape[0];
        int w = rows == 0 ? 0 : p.Size / rows;
        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = p.Span.Slice(r * w, w);
            classes[r] = w == 1 ? (row[0] > 0.5f ? 1 : 0) : ArgMax(row);
        }
        return classes;
    }

    /// <summary>Checks x and y against the model and the loss; returns y, viewed as (N, 1) when it is a
    /// vector of N targets for a one-unit output (Keras accepts both).</summary>
    private Tensor PrepareData(Tensor x, Tensor y, string where)
    {
        CheckInputs(x, where);
        if (y.Rank == 0 || y.Shape[0] != x.Shape[0])
            throw new NeuriteException($"{where}: x has {x.Shape[0]} rows but y has {(y.Rank == 0 ? 0 : y.Shape[0])}. Give one target row per input row.");
        if (y.Rank == 1 && Loss is not SparseCategoricalCrossentropy && _layers[^1].OutputShape.Count == 1 && _layers[^1].OutputShape[0] == 1)
            y = y.Reshape(y.Shape[0], 1);
        Loss!.ValidateTargets(y, _layers[^1].OutputShape);
        CheckFinite(y, "y", where);
        if (_metrics.Count != _metricNames.Length) CreateMetrics();
        return y;
    }

    /// <summary>
    /// <see cref="PrepareData"/>'s checks for a built model, without allocating unless one fails: Keras checks
    /// every train_on_batch call, and a later batch with the wrong target width would otherwise train silently.
    /// </summary>
    private void CheckWarmBatch(Tensor x, Tensor y)
    {
        var expected = _layers[0].InputShape;
        bool matches = x.Rank == expected.Count + 1;
        for (int i = 0; matches && i < expected.Count; i++) matches = x.Shape[i + 1] == expected[i];
        if (!matches) CheckInputs(x, nameof(TrainOnBatch));
        CheckFinite(x, "x", nameof(TrainOnBatch));
        Loss!.ValidateTargets(y, _layers[^1].OutputShape);
        CheckFinite(y, "y", nameof(TrainOnBatch));
    }

    private void CheckInputs(Tensor x, string where)
    {
        if (_layers.Count == 0)
            throw new NeuriteException($"Model '{Name}' has no layers. Call model.Add(layer) before {where}.");
        if (x.Rank < 2)
            throw new ShapeMismatchException($"{where} of model '{Name}'", "inputs with a batch axis, e.g. (samples, features)", ShapeText.Format(x.Shape),
                "Pass a 2-D tensor (rows, features) or, for recurrent layers, a 3-D tensor (samples, time steps, features).");
        var perSample = x.Shape.Skip(1).ToArray();
        if (!IsBuilt) Build(perSample);
        var expected = _layers[0].InputShape;
        if (!perSample.SequenceEqual(expected))
            throw new ShapeMismatchException($"{where} of model '{Name}'", $"inputs of shape {ShapeText.Format(expected, null)} ({DescribeInput(expected)})", ShapeText.Format(x.Shape),
                $"Give x {DescribeInput(expected)} per sample, or build a new model whose first layer has inputShape: [{string.Join(", ", perSample)}].");
        CheckFinite(x, "x", where);
    }

    private static void CheckFinite(Tensor t, string name, string where)
    {
        var s = t.Span;
        int i = Backends.Cpu.Kernels.ElementwiseKernels.IndexOfNonFinite(s);
        if (i >= 0)
        {
            int row = t.RowSize == 0 ? 0 : i / t.RowSize;
            throw new NeuriteException($"{where}: {name} contains {s[i]} at row {row}. Remove or impute missing and infinite values (e.g. Table.DropIncomplete) before training.");
        }
    }

    private int ResolveBatchSize(int? batchSize, string where)
    {
        if (batchSize is <= 0) throw new NeuriteException($"{where}: batchSize must be a positive integer. Received batchSize={batchSize}.");
        if (IsStateful)
        {
            int fixedBatch = FixedBatchSize ?? throw new NeuriteException(
                $"Model '{Name}' is stateful but its first layer has no batchSize. Stateful layers need a fixed batch: pass batchSize: N to the first layer.");
            if (batchSize is int b && b != fixedBatch)
                throw new NeuriteException($"{where}: model '{Name}' is stateful and was built for batches of {fixedBatch}, but batchSize={b} was given. Use batchSize: {fixedBatch}, or make a copy for another batch size with model.WithBatchSize({b}) (it shares the weights).");
            return fixedBatch;
        }
        return batchSize ?? DefaultBatchSize;
    }

    // Fit's, Evaluate's and Predict's batch size when none is given, as in Keras (and the kernel prewarm's).
    private const int DefaultBatchSize = 32;

    private bool ResolveShuffle(bool? shuffle)
    {
        if (IsStateful && shuffle == true)
            throw new NeuriteException($"Model '{Name}' is stateful: shuffling would break the continuation of sample i of one batch by sample i of the next. Pass shuffle: false (the default for stateful models).");
        return shuffle ?? !IsStateful;
    }

    private void CheckStatefulRows(int rows, int batch, string what)
    {
        if (rows % batch != 0)
            throw new NeuriteException($"Model '{Name}' is stateful with batch size {batch}, but the {what} data has {rows} samples, which is not a multiple of {batch}. Trim to {rows / batch * batch} samples (or pad to {(rows / batch + 1) * batch}); the Data namespace's stateful layout does this for you.");
    }

    /// <summary>Each of the first <paramref name="rows"/> rows' weight by its class.</summary>
    private float[] ClassWeightsPerRow(Tensor y, int rows, IReadOnlyDictionary<int, double> classWeight)
    {
        int w = rows == 0 ? 0 : y.RowSize;
        var weights = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = y.Span.Slice(r * w, w);
            int cls = w == 1 ? (int)MathF.Round(row[0]) : ArgMax(row);
            weights[r] = classWeight.TryGetValue(cls, out var cw) ? (float)cw : 1f;
        }
        return weights;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void GatherRows(Tensor source, ReadOnlySpan<int> rows, Tensor destination)
    {
        int rowSize = source.RowSize;
        var src = source.Span;
        var dst = destination.Span;
        for (int i = 0; i < rows.Length; i++)
            src.Slice(rows[i] * rowSize, rowSize).CopyTo(dst.Slice(i * rowSize, rowSize));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
