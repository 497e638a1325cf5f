using Neurite.Callbacks;
using Neurite.Layers;

namespace Neurite.Forecasting;

/// <summary>
/// Small networks (one ReLU layer) that read a window of changes from the last value and predict what a linear
/// autoregression missed, h outputs each: the network is the nonlinear part beside the linear skip path (as in
/// LSTNet). Members differ only in their seed; the forecast takes their median. After training they are joined
/// into one <see cref="Sequential"/> with block-diagonal weights, whose outputs are the members' outputs side by
/// side, so one Keras model file holds the whole ensemble.
/// </summary>
public static class NeuralEnsemble
{
    /// <summary>Epochs without a better validation loss before a member stops.</summary>
    public const int Patience = 20;

    /// <summary>Windows per training batch of each member.</summary>
    public const int BatchSize = 32;

    /// <summary>
    /// Trains <paramref name="members"/> networks on (x, y), each stopped at its lowest loss on (xValidation,
    /// yValidation), and returns them joined, with the epochs each kept.
    /// </summary>
    /// <remarks>Member m seeds the library's generator (<see cref="NeuriteRandom.SetSeed"/>) with seed + 7919·m, so the
    /// ensemble is the same on every run and thread count; the caller's seeded sequence is replaced.</remarks>
    public static (Sequential Joined, int[] Epochs) Train(Tensor x, Tensor y, Tensor xValidation, Tensor yValidation, int members, int hidden,
        int maxEpochs, int seed, CancellationToken cancellationToken = default)
    {
        int inputs = x.Dim(1), outputs = y.Dim(1);
        // Every member is built and made ready to train before the first trains: each one's generator, seeded and drawn from
        // for its weights, is put back before its Fit shuffles, so the members' weights, shuffles and names are those of
        // building and training each in turn, while the members' one-time setup (building, compiling, their buffers' and
        // slots' first use) is done before the first training step rather than between the members' steps.
        var trained = new Sequential[members];
        var generators = new System.Random?[members];
        for (int member = 0; member < members; member++)
        {
            NeuriteRandom.SetSeed(seed + 7919 * member);
            trained[member] = CreateMember(inputs, hidden, outputs);
            trained[member].PrepareTraining(x.Dim(0), xValidation.Dim(0), BatchSize);
            generators[member] = NeuriteRandom.SeededGenerator;
        }
        var epochs = new int[members];
        for (int member = 0; member < members; member++)
        {
            NeuriteRandom.Resume(generators[member]);
            epochs[member] = FitMember(trained[member], x, y, xValidation, yValidation, maxEpochs, cancellationToken);
        }
        return (Join(trained), epochs);
    }

    /// <summary>
    /// Trains one member as <see cref="Train"/> trains each: batches of <see cref="BatchSize"/>, validated on (xValidation,
    /// yValidation) after each epoch, stopped after <see cref="Patience"/> epochs without a lower validation loss or after
    /// <paramref name="maxEpochs"/>, then given back the weights of its lowest one; returns the epochs kept.
    /// </summary>
    public static int FitMember(Sequential model, Tensor x, Tensor y, Tensor xValidation, Tensor yValidation, int maxEpochs,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var best = new KeepBest();
        // An array, not a collection expression: the type the compiler makes for [a, b] as an IEnumerable cost the first
        // member's Fit 15-50 µs of first calls on the training thread, however often another thread had used it before
        // (bench/results/cold-start-s10.md).
        model.Fit(x, y, epochs: maxEpochs, batchSize: BatchSize, validationData: (xValidation, yValidation), verbose: 0,
            callbacks: new Callback[] { best, new EarlyStopping("val_loss", patience: Patience) }, cancellationToken: cancellationToken);
        best.Restore();
        return best.BestEpoch + 1;
    }

    /// <summary>
    /// Starts, on a background thread, the kernel prewarm (<see cref="Sequential.PrewarmAsync(int?)"/>) of members of these
    /// shapes as <see cref="Train"/> fits them on <paramref name="trainingRows"/> windows validated on
    /// <paramref name="validationRows"/>: whole batches, the short last batch of an epoch and of a validation. Does nothing
    /// where <see cref="Backends.Backend.PrewarmOnCompile"/> is off; never throws.
    /// </summary>
    /// <remarks>
    /// Started before the forecaster's other fits, it has the kernels of a member's first steps compiled by the time the
    /// member trains. A short batch's register tiles depend on its length; compiled by the first step that needs them, they
    /// cost a step 1–3 ms, against 5 µs warm (bench/results/cold-start-s9.md). The prewarm's model draws its weights from the
    /// unseeded generator (the caller's flow is not passed on: <see cref="Train"/> seeds each member on it) and takes names
    /// of its own, so the members' weights and names are as without it.
    /// </remarks>
    internal static void StartPrewarm(int inputs, int hidden, int outputs, int trainingRows, int validationRows)
    {
        if (!Backends.Backend.PrewarmOnCompile) return;
        int[] shortBatches = new[] { trainingRows % BatchSize, validationRows % BatchSize }.Where(rows => rows > 0).Distinct().ToArray();
        try
        {
            using (ExecutionContext.SuppressFlow())
                Task.Run(() =>
                {
                    try
                    {
                        // Compile starts the whole batches' prewarm; a member alike finds it started.
                        var model = CreateMember(inputs, hidden, outputs, batchSize: BatchSize, name: PrewarmModelName);
                        foreach (int rows in shortBatches) model.PrewarmAsync(rows).Wait();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // The members' own prewarms and first steps compile what this did not.
                    }
                });
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
        {
        }
    }

    /// <summary>The name of <see cref="StartPrewarm"/>'s model, and its layers' prefix.</summary>
    internal const string PrewarmModelName = "ensemble_prewarm";

    /// <summary>
    /// One member as <see cref="Train"/> builds and compiles it before training: one ReLU layer, linear outputs, MSE and
    /// Adam. Its weights come from the library's generator (<see cref="NeuriteRandom"/>).
    /// </summary>
    /// <param name="inputs">Values of a window (the series' and each covariate's).</param>
    /// <param name="hidden">ReLU units.</param>
    /// <param name="outputs">Outputs: one per step of the horizon.</param>
    /// <param name="batchSize">A batch size fixed on its first layer (e.g. for a stand-in whose kernel prewarm is for
    /// <see cref="BatchSize"/>); null, as Train builds it, for any.</param>
    /// <param name="name">The model's name, its layers named after it (NAME_hidden, NAME_output); null, as Train builds it,
    /// for the default names (sequential, dense, ...).</param>
    public static Sequential CreateMember(int inputs, int hidden, int outputs, int? batchSize = null, string? name = null)
    {
        var model = new Sequential(
            [new Dense(hidden, "relu", inputShape: [inputs], batchSize: batchSize, name: name is null ? null : name + "_hidden"),
             new Dense(outputs, name: name is null ? null : name + "_output")], name);
        model.Compile(Losses.Loss.Get("mse"), new Optimizers.Adam(learningRate: 3e-3));
        return model;
    }

    /// <summary>
    /// One network whose outputs are the members' outputs in order: the first layers' kernels side by side, the
    /// output kernels block-diagonal. Its values are the members' values (the zero blocks add exact zeros).
    /// </summary>
    public static Sequential Join(IReadOnlyList<Sequential> members)
    {
        var weights = members.Select(m => m.GetWeights()).ToList();
        int inputs = weights[0][0].Dim(0), hidden = weights[0][0].Dim(1), outputs = weights[0][2].Dim(1), k = members.Count;
        var kernel1 = new float[inputs * k * hidden];
        var bias1 = new float[k * hidden];
        var kernel2 = new float[k * hidden * k * outputs];
        var bias2 = new float[k * outputs];
        for (int m = 0; m < k; m++)
        {
            var w1 = weights[m][0].Span; var b1 = weights[m][1].Span; var w2 = weights[m][2].Span; var b2 = weights[m][3].Span;
            for (int i = 0; i < inputs; i++)
                for (int j = 0; j < hidden; j++) kernel1[i * k * hidden + m * hidden + j] = w1[i * hidden + j];
            for (int j = 0; j < hidden; j++) bias1[m * hidden + j] = b1[j];
            for (int j = 0; j < hidden; j++)
                for (int o = 0; o < outputs; o++) kernel2[(m * hidden + j) * k * outputs + m * outputs + o] = w2[j * outputs + o];
            for (int o = 0; o < outputs; o++) bias2[m * outputs + o] = b2[o];
        }
        var joined = new Sequential(new Dense(k * hidden, "relu", inputShape: [inputs]), new Dense(k * outputs));
        joined.SetWeights([new Tensor(kernel1, inputs, k * hidden), new Tensor(bias1, k * hidden), new Tensor(kernel2, k * hidden, k * outputs), new Tensor(bias2, k * outputs)]);
        return joined;
    }

    /// <summary>The median over members of each step, from a joined network's (N, members × h) output.</summary>
    public static double[,] Median(Tensor joinedOutput, int members)
    {
        int rows = joinedOutput.Dim(0), width = joinedOutput.Dim(1), h = width / members;
        var span = joinedOutput.Span;
        var result = new double[rows, h];
        var values = new double[members];
        for (int r = 0; r < rows; r++)
            for (int s = 0; s < h; s++)
            {
                for (int m = 0; m < members; m++) values[m] = span[r * width + m * h + s];
                Array.Sort(values);
                result[r, s] = members % 2 == 1 ? values[members / 2] : 0.5 * (values[members / 2 - 1] + values[members / 2]);
            }
        return result;
    }

    /// <summary>Keeps the weights of the epoch with the lowest validation loss, to restore after training however it ended.</summary>
    private sealed class KeepBest : Callback
    {
        private double _best = double.PositiveInfinity;
        private readonly WeightSnapshot _weights = new();

        public int BestEpoch { get; private set; }

        public override void OnEpochEnd(int epoch, Logs logs)
        {
            if (!logs.TryGetValue("val_loss", out double loss) || !(loss < _best)) return;
            _best = loss;
            BestEpoch = epoch;
            _weights.Take(Model!);
        }

        public void Restore() => _weights.Restore(Model!);
    }
}
