using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Layers;

namespace Neurite.Backends.Cpu;

/// <summary>
/// Data-parallel training steps for recurrent models: a batch is trained as two halves of its rows,
/// each by a copy of the layers that shares this model's weights, and the two halves' gradients are
/// added before one optimizer update.
/// </summary>
/// <remarks>
/// <para>Every layer of a Sequential treats the rows of a batch independently (the loss averages over
/// them), so the full batch's gradient is exactly the sum of the halves' gradients, each half's loss
/// scaled by its share of the rows. On two threads each half runs on its own core from the first
/// layer to the last with one fork per batch: its activations stay in that core's cache, and the
/// weight-gradient products, which do not split well by rows, need no splitting at all. Splitting
/// each layer's work instead needs a fork per layer and pass and still left half of W3's backward
/// pass on one core.</para>
/// <para>Whether a step runs in halves depends only on the model and the batch, never on the number of
/// threads, so one thread and two compute the same bits (one thread runs the halves in turn).
/// A stateful model keeps its carried states here; they are handed to the halves (rows 0..h-1 and
/// h..B-1) before the step and taken back after it, so the state seen by <c>Predict</c>,
/// <c>Evaluate</c>, <c>GetStates</c> and <c>ResetStates</c> is always this model's.</para>
/// <para>Limits: two halves use at most two cores (inside a half, kernels do not fork again); a model
/// whose recurrent layer returns its states trains whole, so <c>FinalStates</c> stays its own, and so does a small batch
/// under a recurrent kernel too large for the caches (<see cref="WholeBatchRecurrentFloats"/>); building
/// the copies draws nothing from the seeded generator, and each half's dropout masks are its rows of the
/// mask the whole layer draws, so a step in halves makes the same draws as a step trained whole (another
/// backend's, or <c>TrainInHalves = false</c>).</para>
/// </remarks>
internal sealed class HalvesTraining(Sequential model) : ITrainingStrategy
{
    /// <summary>Fewer rows per half than this, and the fork costs more than it gains.</summary>
    internal const int MinRowsPerHalf = 8;

    /// <summary>
    /// A recurrent kernel of at least this many floats (12 MiB: a GRU of 1024 units, an LSTM from 887) is streamed from
    /// memory at every time step (with its transpose for the backward pass it does not stay in a shared 32 MiB L3), so a
    /// batch of fewer than <see cref="WholeBatchBelowRows"/> rows trains whole: each step then reads it once for all rows
    /// instead of once per half. Measured per step's product at U = 1024 on one thread, 64 rows took only 1.05–1.9× the
    /// time of 32 (bench/results/sweep-s4.md, s4-lstm; GRU(1024): sweep-s5.md, s5-big); the sequence still splits its rows
    /// across threads, so two threads keep their gain.
    /// </summary>
    internal const int WholeBatchRecurrentFloats = 3 * 1024 * 1024;

    /// <summary>See <see cref="WholeBatchRecurrentFloats"/>: from this many rows each half reads the kernel for enough rows.</summary>
    internal const int WholeBatchBelowRows = 128;

    private readonly Sequential?[] _halves = new Sequential?[2];
    private readonly HalfBuffers[] _buffers = [new(), new()];
    private (Parameter Whole, Parameter First, Parameter Second)[] _halfGradients = [];
    private HalfStep? _halfStep;
    private HalfUpdate? _halfUpdate;
    private int _halvesFirstRows;
    private HalfMasks[] _halfMasks = [];
    private (Lstm Whole, SharedLstmPacks Packs)[] _sharedPacks = [];
    private PackStep? _packStep;

    /// <summary>True once a batch has been trained in halves (the copies exist); for tests.</summary>
    public bool HasCopies => _halves[0] is not null;

    public void Reset() => _halves[0] = _halves[1] = null;

    // The halves share the model's own weight tensors and take its states before each step and give them back after:
    // the host copies are always current, and a change to them is seen by the next step.
    public void SyncToHost() { }

    public void HostChanged() { }

    private Optimizers.Optimizer ModelOptimizer => model.Optimizer!;

    public bool TryTrainStep(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights, out double loss)
    {
        loss = 0;
        if (!TrainsInHalves(xb.Shape[0])) return false;
        loss = TrainStepInHalves(xb, yb, sampleWeights);
        return true;
    }

    /// <summary>
    /// False for a model no batch of which trains in halves (no recurrent layer): such a model gets no strategy. Its
    /// layers change only with a new build, which forgets the strategy and asks again.
    /// </summary>
    internal static bool CanTrainInHalves(Sequential model)
    {
        for (int i = 0; i < model.Layers.Count; i++)
            if (model.Layers[i] is RecurrentLayer) return true;
        return false;
    }

    /// <summary>True when this batch trains as two halves (see the type's remarks).</summary>
    private bool TrainsInHalves(int count)
    {
        if (count < 2 * MinRowsPerHalf) return false;
        bool recurrent = false;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            // FinalStates (returnState) must come from this model's own last forward pass.
            if (model.Layers[i].UsesFixedMasks || model.Layers[i] is RecurrentLayer { ReturnState: true }) return false;
            recurrent |= model.Layers[i] is RecurrentLayer;
            if (count < WholeBatchBelowRows && model.Layers[i] is RecurrentLayer { RecurrentKernelWeights.Value.Size: >= WholeBatchRecurrentFloats }) return false;
        }
        return recurrent;
    }

    private unsafe double TrainStepInHalves(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights)
    {
        int count = xb.Shape[0], firstRows = count / 2;
        // A stateful model whose batch size is not declared takes it from this batch, as a whole step would.
        for (int i = 0; i < model.Layers.Count; i++)
            if (model.Layers[i] is RecurrentLayer { Stateful: true } layer) layer.PrepareStatesFor(count);
        EnsureHalves(firstRows, count - firstRows);
        foreach (var masks in _halfMasks) masks.StartStep(firstRows, count - firstRows);
        var step = _halfStep ??= new HalfStep(this);
        ExchangeHalfStates(toHalves: true);
        // The LSTMs' packed weights, once for both halves (each would pack the same weights), split across the threads.
        if (_sharedPacks.Length > 0)
        {
            var pack = _packStep ??= new PackStep(this);
            RunParts(pack);
            foreach (var (_, packs) in _sharedPacks) packs.Ready = true;
        }
        fixed (float* pinWeights = sampleWeights)
        {
            step.X = xb;
            step.Y = yb;
            step.Weights = new PinnedFloats(pinWeights, sampleWeights.Length);
            step.Count = count;
            step.FirstRows = firstRows;
            try
            {
                RunParts(step);
            }
            finally
            {
                step.X = step.Y = null;
                step.Weights = default;
                foreach (var (_, packs) in _sharedPacks) packs.Ready = false;
            }
        }
        ExchangeHalfStates(toHalves: false);

        // Metrics see the halves' rows in order, as they would see the whole batch.
        for (int part = 0; part < 2; part++)
        {
            var output = step.Outputs[part]!;
            var truth = step.Truths[part]!;
            int rows = output.Shape[0];
            for (int m = 0; m < model.Metrics.Count; m++) model.Metrics[m].Update(output.Span, truth.Span, rows, output.Size / rows);
        }
        var optimizer = model.Optimizer!;
        if (optimizer.UpdatesElementwise)
        {
            // The sum and an elementwise update (Adam) split by element ranges: the same bits as below.
            optimizer.PrepareSlots(model.TrainableParameters);
            var update = _halfUpdate ??= new HalfUpdate(this);
            update.Step = optimizer.Iterations + 1;
            RunParts(update);
            optimizer.CompleteStep();
        }
        else
        {
            var pairs = _halfGradients;
            for (int i = 0; i < pairs.Length; i++) AddHalfGradients(i, 0, pairs[i].Whole.Gradient.Size);
            optimizer.Apply(model.TrainableParameters);
        }
        return step.Losses[0] + step.Losses[1];
    }

    /// <summary>Runs both parts; a failure surfaces as the exception itself, as on one thread, not wrapped.</summary>
    private static void RunParts(PartWork work)
    {
        work.Path = KernelSelector.Forced;
        try
        {
            WorkerPool.Run(work, 2, Kernels.Threading.MaxThreads);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private void AddHalfGradients(int pair, int start, int length)
    {
        var (whole, first, second) = _halfGradients[pair];
        SequenceLayout.Add(first.Gradient.Span.Slice(start, length), second.Gradient.Span.Slice(start, length),
            whole.Gradient.Span.Slice(start, length));
    }

    /// <summary>Part p adds the halves' gradients and applies the optimizer over its share of every weight's elements.</summary>
    /// <summary>
    /// A part of a halves step. The forced kernel path is a per-thread setting, so each part runs with the
    /// caller's (<see cref="RunParts"/> records it); otherwise the bits would depend on which thread ran which part.
    /// </summary>
    private abstract class PartWork : IParallelWork
    {
        public KernelPath? Path;

        public void Run(int part)
        {
            var saved = KernelSelector.Forced;
            KernelSelector.Forced = Path;
            try { RunPart(part); }
            finally { KernelSelector.Forced = saved; }
        }

        protected abstract void RunPart(int part);
    }

    private sealed class HalfUpdate(HalvesTraining owner) : PartWork
    {
        public long Step;

        protected override void RunPart(int part)
        {
            var pairs = owner._halfGradients;
            var optimizer = owner.ModelOptimizer;
            for (int i = 0; i < pairs.Length; i++)
            {
                int size = pairs[i].Whole.Gradient.Size;
                int middle = size / 2 & ~63;
                int start = part == 0 ? 0 : middle, length = part == 0 ? middle : size - middle;
                if (length == 0) continue;
                owner.AddHalfGradients(i, start, length);
                if (pairs[i].Whole.Trainable) optimizer.UpdateRange(pairs[i].Whole, start, length, Step);
            }
        }
    }

    /// <summary>Creates the two weight-sharing copies on first use (or when the split changes for a stateless model).</summary>
    private void EnsureHalves(int firstRows, int secondRows)
    {
        bool stateful = model.IsStateful;
        if (_halves[0] is not null && (!stateful || (_halvesFirstRows == firstRows && _halves[1]!.FixedBatchSize == secondRows))) return;
        // The copies draw nothing from the global generator (a run that trains whole would not) and take their
        // dropout masks from the whole layers' samplers: the rows of one whole-batch mask each.
        _halves[0] = model.CopySharingWeights(stateful ? firstRows : null, "_first_half", new System.Random(0), buildAllFromRng: true);
        _halves[1] = model.CopySharingWeights(stateful ? secondRows : null, "_second_half", new System.Random(0), buildAllFromRng: true);
        _halvesFirstRows = firstRows;
        var masks = new List<HalfMasks>();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            if (model.Layers[i].MaskSampler is not { } wholeSampler) continue;
            var split = new HalfMasks(wholeSampler);
            _halves[0]!.Layers[i].MaskSampler = split.Part(0);
            _halves[1]!.Layers[i].MaskSampler = split.Part(1);
            masks.Add(split);
        }
        _halfMasks = masks.ToArray();
        var pairs = new List<(Parameter, Parameter, Parameter)>();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var whole = model.Layers[i].Parameters;
            for (int j = 0; j < whole.Count; j++)
                if (model.TrainableParameters.Contains(whole[j]))
                    pairs.Add((whole[j], _halves[0]!.Layers[i].Parameters[j], _halves[1]!.Layers[i].Parameters[j]));
        }
        _halfGradients = pairs.ToArray();
        var shared = new List<(Lstm, SharedLstmPacks)>();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            if (model.Layers[i] is not Lstm whole) continue;
            // The halves' passes read these packs of the whole layer's weights while they are ready.
            var packs = new SharedLstmPacks(whole.InputShape[1], whole.Units);
            LstmCore(_halves[0]!.Layers[i]).Shared = packs;
            LstmCore(_halves[1]!.Layers[i]).Shared = packs;
            shared.Add((whole, packs));
        }
        _sharedPacks = shared.ToArray();
    }

    /// <summary>A half's LSTM core: this backend's, since the halves train only while it is in use.</summary>
    private static LstmSequence LstmCore(Layer layer) => (LstmSequence)((Lstm)layer).Core;

    private void ExchangeHalfStates(bool toHalves)
    {
        for (int i = 0; i < model.Layers.Count; i++)
        {
            if (model.Layers[i] is not RecurrentLayer { Stateful: true } whole) continue;
            whole.ExchangeStateRows((RecurrentLayer)_halves[0]!.Layers[i], 0, toHalves);
            whole.ExchangeStateRows((RecurrentLayer)_halves[1]!.Layers[i], _halvesFirstRows, toHalves);
        }
    }

    /// <summary>Forward, loss and backward of one half, on whichever thread claims it.</summary>
    private void TrainHalf(HalfStep step, int part)
    {
        var copy = _halves[part]!;
        var buffers = _buffers[part];
        int first = part == 0 ? 0 : step.FirstRows;
        int rows = part == 0 ? step.FirstRows : step.Count - step.FirstRows;
        var x = buffers.X.Get(rows, step.X!.ShapeArray.AsSpan(1));
        var y = buffers.Y.Get(rows, step.Y!.ShapeArray.AsSpan(1));
        step.X.Span.Slice(first * x.RowSize, x.Size).CopyTo(x.Span);
        step.Y.Span.Slice(first * y.RowSize, y.Size).CopyTo(y.Span);

        Tensor a = x;
        for (int i = 0; i < copy.Layers.Count; i++) a = copy.Layers[i].Forward(a, training: true);
        if (buffers.LossGradient.Length < a.Size) buffers.LossGradient = new float[a.Size];
        var gradSpan = buffers.LossGradient.AsSpan(0, a.Size);
        var weights = step.Weights.Length == 0 ? default : step.Weights.ReadOnly.Slice(first, rows);
        // Averaged over the whole batch's rows, so the halves' losses and gradients add up to the batch's.
        step.Losses[part] = model.Loss!.Compute(a.Span, y.Span, gradSpan, weights, rows, a.Size / rows, step.Count);
        step.Outputs[part] = a;
        step.Truths[part] = y;
        var g = buffers.Gradient.Get(rows, a.ShapeArray.AsSpan(1));
        gradSpan.CopyTo(g.Span);
        for (int i = copy.Layers.Count - 1; i >= 0; i--) g = copy.Layers[i].Backward(g);
    }

    /// <summary>Part p packs piece (k + p) mod 2 of LSTM k, so the two parts share the packing about evenly.</summary>
    private sealed class PackStep(HalvesTraining owner) : PartWork
    {
        protected override void RunPart(int part)
        {
            var shared = owner._sharedPacks;
            for (int k = 0; k < shared.Length; k++)
            {
                var (whole, packs) = shared[k];
                packs.Pack((k + part) % 2, whole.KernelWeights.Value.Span, whole.RecurrentKernelWeights.Value.Span, whole.NeedsInputGradient);
            }
        }
    }

    private sealed class HalfStep(HalvesTraining owner) : PartWork
    {
        public Tensor? X, Y;
        public PinnedFloats Weights;
        public int Count, FirstRows;
        public readonly double[] Losses = new double[2];
        public readonly Tensor?[] Outputs = new Tensor?[2], Truths = new Tensor?[2];

        protected override void RunPart(int part) => owner.TrainHalf(this, part);
    }

    /// <summary>A half's own batch, loss-gradient and gradient buffers.</summary>
    private sealed class HalfBuffers
    {
        public readonly BufferCache X = new(), Y = new(), Gradient = new();
        public float[] LossGradient = [];
    }
}
