using System.Globalization;
using Neurite.Backends;
using Neurite.Callbacks;
using Neurite.Cli.Commands;
using Neurite.Cli.Tutorial;
using Neurite.Forecasting;

namespace Neurite.Cli;

/// <summary>
/// Starts the kernel prewarm (<see cref="Sequential.PrewarmAsync(int?)"/>) for the model <c>classify</c> or <c>forecast</c>
/// will train first thing in <c>Main</c>, before the arguments are parsed and the CSV read: a background thread builds a
/// stand-in of that model from what the command line already says (classify: the hidden layers, the batch size;
/// forecast: the units, the lookback, the horizon, the features; both: the threads) and starts its prewarm, so that the
/// kernels of the first training step are compiled on a second core while the tool reads the data (and, for forecast,
/// fits the classical models) instead of on the training thread; then trains the stand-in one step, so that the process's
/// first calls of the training path are paid there too (issue 14; bench/results/cold-start-s6.md, -s7.md).
/// classify's is started only where no JIT profile is played back (<see cref="JitProfile"/>): a recorded profile compiles
/// the same kernels, and the two together measured no faster first steps than the profile alone; forecast's always
/// (<see cref="BesideProfile"/>).
/// </summary>
/// <remarks>
/// The data's widths are not known yet: classify's stand-in takes as many inputs as its first hidden layer has units and
/// <see cref="GuessedClasses"/> classes; forecast's reads a window of <c>--lookback</c> steps (else a season and a bit of
/// <c>--season</c>, else <see cref="GuessedLookback"/>) of the column and each feature. The real model's own prewarm,
/// started when it is built, compiles what those guesses missed and finds the rest compiled. Nothing here may change a
/// result or fail the command: the stand-in draws its weights from the unseeded generator (the command seeds its own
/// afterwards, on its own thread), takes names of its own (the default names are counted: the trained model's would
/// change), a command line this cannot read starts nothing, and any failure only leaves the first step to compile what it
/// needs, as without it.
/// </remarks>
internal static class EarlyPrewarm
{
    /// <summary>The stand-in's classes: a guess, refined by the real model's prewarm.</summary>
    internal const int GuessedClasses = 3;

    /// <summary>forecast's window without --lookback or --season: the forecaster's shortest (a season and a bit, at least 8).</summary>
    internal const int GuessedLookback = 8;

    // 16 MB of weights (or activations) in one matrix: far above the kernels' shapes, far below a strain on memory.
    private const long MaxStandInWeights = 1 << 22;

    /// <summary>What the command line says about the model to prewarm.</summary>
    internal abstract record Plan(int? Threads)
    {
        /// <summary>The batch size the command trains with, fixed on the stand-in (its prewarm's).</summary>
        public abstract int BatchSize { get; }

        /// <summary>The stand-in: the model the command trains, with the guessed widths, this batch size fixed and names of its own.</summary>
        public abstract Sequential StandIn();

        /// <summary>
        /// Fits the prewarmed stand-in on zeros as the command fits its model, so that the training path's first calls happen
        /// here; then prewarms the short batch lengths until <paramref name="shortBatchesKnown"/> is cancelled.
        /// </summary>
        public abstract void Train(Sequential standIn, CancellationToken shortBatchesKnown = default);

        /// <summary>Inputs and targets of zeros, <paramref name="rows"/> rows for <paramref name="standIn"/>.</summary>
        protected static (Tensor X, Tensor Y) Zeros(Sequential standIn, int rows) =>
            (Tensor.Zeros([rows, .. standIn.Layers[0].InputShape]), Tensor.Zeros([rows, .. standIn.Layers[^1].OutputShape]));
    }

    /// <summary>classify's MLP: the hidden layers as given; <paramref name="Epochs"/>, the most the command trains (its progress lines' width).</summary>
    internal sealed record ClassifyPlan(int[] Hidden, int ClassifyBatchSize, int? Threads, int Epochs = ClassifyOptions.DefaultEpochs) : Plan(Threads)
    {
        public override int BatchSize => ClassifyBatchSize;

        /// <summary>The stand-in's inputs: the data's width once known, else as many as the first hidden layer's units.</summary>
        public int? Inputs { get; init; }

        /// <summary>The stand-in's classes: the data's once known, else <see cref="GuessedClasses"/>.</summary>
        public int Classes { get; init; } = GuessedClasses;

        /// <summary>The rows the stand-in is fitted on (a validation fifth of them split off).</summary>
        public int Rows { get; init; } = ClassifyStandInRows;

        public override Sequential StandIn() => ClassifyCommand.BuildModel(Inputs ?? Hidden[0], Hidden, Classes, standInBatch: BatchSize);

        /// <summary>
        /// <see cref="StandInEpochs"/> epochs as the command fits its model (a validation fifth split off, early stopping on
        /// the validation loss, the progress callback, shuffles from a seeded generator) over <see cref="ClassifyStandInRows"/>
        /// rows, so a whole and a short training batch and a short validation; then the short batches' kernels. Its progress
        /// counts to the command's epochs: the first epoch's line pads its number to their width, and that padding's first
        /// call compiled a method on the training thread when the stand-in's two epochs needed none.
        /// </summary>
        /// <remarks>
        /// One batch validated on itself left the tool's first 100 batches on iris and BreastCancer at 2–4× the warm ones,
        /// with 8–9 methods compiled on the training thread (the narrow tiles of a short batch, the callbacks' and
        /// validation split's generic instantiations: bench/results/cold-start-s9.md).
        /// </remarks>
        public override void Train(Sequential standIn, CancellationToken shortBatchesKnown = default)
        {
            var (x, y) = Zeros(standIn, Rows);
            var early = new EarlyStopping("val_loss", patience: ClassifyOptions.Patience, restoreBestWeights: true);
            var progress = new EpochProgressCallback(new EpochProgress(TextWriter.Null, Epochs, live: false, label: "classify"));
            // An array, as the command passes its callbacks.
            Callback[] callbacks = [early, progress];
            OnSeededFlow(() => standIn.Fit(x, y, epochs: StandInEpochs, batchSize: BatchSize, validationSplit: ClassifyOptions.ValidationFraction,
                verbose: 0, callbacks: callbacks));
            PrewarmShortBatches(standIn, shortBatchesKnown);
        }
    }

    /// <summary>forecast's first network (every member alike): <paramref name="Inputs"/> window values, one ReLU layer, the horizon's outputs.</summary>
    internal sealed record ForecastPlan(int Inputs, int Units, int Horizon, int? Threads) : Plan(Threads)
    {
        public override int BatchSize => NeuralEnsemble.BatchSize;

        public override Sequential StandIn() => NeuralEnsemble.CreateMember(Inputs, Units, Horizon, batchSize: BatchSize, name: StandInName);

        /// <summary>
        /// <see cref="StandInEpochs"/> epochs as the forecaster fits each member (<see cref="NeuralEnsemble.FitMember"/>: its
        /// callbacks, a validation after each epoch, the best epoch's weights restored), over <see cref="StandInRows"/>
        /// training rows and <see cref="StandInValidationRows"/> validation rows, neither a whole number of batches.
        /// </summary>
        /// <remarks>
        /// One step of one batch left the real first member's first epoch 3–18 ms against a warm one's 0.04–0.07 (bench/results/
        /// cold-start-s8.md, s8-cold): the Fit's setup, the first shuffle, a short last batch, the first validation, the
        /// callbacks' first epoch end and the next epoch's start each had their first calls (and a few methods compiled)
        /// on the training thread.
        /// </remarks>
        public override void Train(Sequential standIn, CancellationToken shortBatchesKnown = default)
        {
            var (x, y) = Zeros(standIn, StandInRows);
            var (xValidation, yValidation) = Zeros(standIn, StandInValidationRows);
            OnSeededFlow(() => NeuralEnsemble.FitMember(standIn, x, y, xValidation, yValidation, StandInEpochs));
            PrewarmShortBatches(standIn, shortBatchesKnown);
        }
    }

    /// <summary>
    /// Runs <paramref name="fit"/> with the generator seeded on a flow of its own. The commands seed their flow, and a seeded
    /// generator shuffles by other code than the unseeded one (its first call compiled a method on the training thread:
    /// bench/results/cold-start-s9.md); seeded here, the stand-in's shuffles make those first calls and the caller's flow
    /// is not touched. ExecutionContext.Run undoes the seed on return, wherever this runs (a suppressed flow has no context
    /// to copy: there the generator stays unseeded, as before).
    /// </summary>
    private static void OnSeededFlow(Action fit)
    {
        if (ExecutionContext.Capture() is not { } flow)
        {
            fit();
            return;
        }
        ExecutionContext.Run(flow, _ =>
        {
            NeuriteRandom.SetSeed(StandInSeed);
            fit();
        }, null);
    }

    /// <summary>
    /// The short last batches of an epoch and of a validation are as long as the data makes them: their products' kernels
    /// for every length, which the real model's prewarm (for whole batches) does not list.
    /// </summary>
    private static void PrewarmShortBatches(Sequential standIn, CancellationToken shortBatchesKnown)
    {
        foreach (int rows in ShortBatchPrewarmOrder)
        {
            if (shortBatchesKnown.IsCancellationRequested) return;
            standIn.PrewarmAsync(rows).Wait();
        }
    }

    // Set by Start: cancelled once the command has started the prewarm of its exact short batches (ShortBatchesKnown).
    private static CancellationTokenSource? s_shortBatchesKnown;

    /// <summary>
    /// Tells the early prewarm started by <see cref="Start"/> that the command has started the prewarm of the exact batch
    /// lengths it will train and validate on: the stand-in's short batch lengths not prewarmed yet are guesses that would
    /// only take the second core from those (classify's first short batch comes a few batches into its Fit:
    /// bench/results/cold-start-s10.md). Never throws.
    /// </summary>
    internal static void ShortBatchesKnown()
    {
        try
        {
            s_shortBatchesKnown?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Rows of classify's stand-in: a validation fifth of 10 leaves 40 to train on, a whole batch of 32 and a short one.</summary>
    internal const int ClassifyStandInRows = 50;

    /// <summary>Epochs of forecast's stand-in: one to reach a second epoch's start and the callbacks' epoch end after it.</summary>
    internal const int StandInEpochs = 2;

    /// <summary>Training rows of forecast's stand-in: a whole batch and a short one.</summary>
    internal const int StandInRows = NeuralEnsemble.BatchSize + 8;

    /// <summary>Validation rows of forecast's stand-in: fewer than a batch, as a short series' validation part.</summary>
    internal const int StandInValidationRows = 20;

    /// <summary>
    /// The short batch lengths the stand-ins are prewarmed for, 1 to this: the most rows a product's register tile
    /// takes on any vector path (12 with Vector512, 6 with AVX2, 8 in the narrow tiles). A longer short batch is cut into
    /// tiles of those lengths, so it finds its kernels compiled too; its own prewarm would list nothing new (measured: 0–2
    /// methods for lengths 13–31, at ~1 ms of listing each).
    /// </summary>
    internal const int ShortBatchPrewarmRows = 12;

    /// <summary>
    /// The order of those short batch lengths: the tallest tiles first. Lengths 13 to 31 are cut into tiles of 6 to 12
    /// rows, so those serve most lengths a series can leave; and where the first member starts training before this
    /// prewarm is done (a loaded machine), the lengths not reached yet are the rarer ones (measured: with 1 to 12 in
    /// ascending order, lh's 23-row batch and gas's 12-row validation batch compiled their 12-row kernel on the training
    /// thread, 2 ms: bench/results/cold-start-s9.md).
    /// </summary>
    internal static IEnumerable<int> ShortBatchPrewarmOrder => Enumerable.Range(1, ShortBatchPrewarmRows).Reverse();

    /// <summary>The seed of forecast's stand-in's own flow (any: its values are thrown away).</summary>
    internal const int StandInSeed = 1;

    /// <summary>The stand-in model's name, and its layers' prefix.</summary>
    internal const string StandInName = "early_prewarm";

    /// <summary>
    /// Whether the command in <paramref name="args"/> runs its early prewarm even where a JIT profile is played back:
    /// forecast's does. The profile's player had not compiled forecast's first network's training path when it trained
    /// (a tiny network trains within ~0.4 s of the start): its first 100 batches took 12–19 times the warm ones' CPU time
    /// against 1.6–2.7 without a profile, up to a dozen methods compiled on the training thread (bench/results/
    /// cold-start-s9.md). classify's too: its first 100 batches on iris and BreastCancer took 2–4 times the warm ones with a
    /// profile, as without one.
    /// </summary>
    internal static bool BesideProfile(IReadOnlyList<string> args) => args.Count > 0 && args[0] is "forecast" or "classify";

    /// <summary>Starts the stand-in's prewarm for the command in <paramref name="args"/>, if it has one; never throws.</summary>
    public static Thread? Start(string[] args)
    {
        try
        {
            if (Read(args) is not { } plan) return null;
            // Set here, before the stand-in is compiled, so that its prewarm lists the kernels for the threads the run will
            // use; the command sets the same value again when it parses its options.
            if (plan.Threads is int threads) Backend.MaxThreads = threads;
            var shortBatchesKnown = new CancellationTokenSource();
            s_shortBatchesKnown = shortBatchesKnown;
            var thread = new Thread(() => Prewarm(plan, shortBatchesKnown.Token)) { IsBackground = true, Name = "neurite early prewarm" };
            thread.Start();
            return thread;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>
    /// classify's stand-in with the data's widths (<paramref name="inputs"/>, <paramref name="classes"/>), fitted on as many
    /// rows as the command's Fit (<paramref name="trainRows"/>, so the same short batches) up to <see cref="ExactStandInBatches"/>
    /// batches; null for a model or data too large to build in passing.
    /// </summary>
    internal static ClassifyPlan? ExactClassifyPlan(int[] hidden, int batchSize, int epochs, int inputs, int classes, int trainRows)
    {
        long widest = ClassifyCommand.LargestWeightMatrix(inputs, hidden, classes);
        int rows = Math.Max(Math.Min(trainRows, ClassifyStandInRows), (int)Math.Min(trainRows, (long)ExactStandInBatches * batchSize));
        if (widest > MaxStandInWeights || (long)rows * Math.Max(inputs, hidden.Max()) > MaxStandInWeights) return null;
        return new ClassifyPlan(hidden, batchSize, Threads: null, epochs) { Inputs = inputs, Classes = classes, Rows = rows };
    }

    /// <summary>The most batches an epoch of classify's stand-in with the data's widths trains (<see cref="ExactClassifyPlan"/>).</summary>
    internal const int ExactStandInBatches = 16;

    /// <summary>
    /// Fits <paramref name="plan"/>'s stand-in (<see cref="ExactClassifyPlan"/>) on a thread of its own, as the command will
    /// fit its model, while the command encodes its rows: the first calls of the kernels for the data's widths and of the
    /// short batches' lengths are made there. The early prewarm's stand-in guessed those widths (its inputs as many as the
    /// first layer's units, 3 classes), so the real model's first step and first epoch end made them on the training
    /// thread (bench/results/cold-start-s11.md). Its kernels are the real model's, whose prewarm it waits for; it prewarms
    /// no short batch of its own (the command prewarms its exact lengths). The thread takes no flow from the caller, so
    /// the stand-in's weights are drawn from the unseeded generator, not the command's seeded one. Never throws.
    /// </summary>
    internal static Thread? StartExact(ClassifyPlan? plan)
    {
        // Another device trains elsewhere; its CPU kernels would be called for nothing.
        if (plan is null || Backend.Current != "cpu") return null;
        try
        {
            var noShortBatches = new CancellationToken(canceled: true);
            using (ExecutionContext.SuppressFlow())
            {
                var thread = new Thread(() => Prewarm(plan, noShortBatches)) { IsBackground = true, Name = "neurite exact prewarm" };
                thread.Start();
                return thread;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>The model <paramref name="args"/> will train, read without the parser; null when there is none to prewarm.</summary>
    internal static Plan? Read(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] is not ("classify" or "forecast")) return null;
        if (args.Any(a => a is "--help" or "-h" or "-?" or "/?" or "/h" or "--version")) return null;
        // Another device trains elsewhere; its CPU kernels would be compiled for nothing.
        if (Value(args, "--device") is string device && !device.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return null;
        int? threads = Positive(Value(args, "--threads")) is int t && t <= Backend.ThreadLimit ? t : null;
        return args[0] == "classify" ? ReadClassify(args, threads) : ReadForecast(args, threads);
    }

    private static ClassifyPlan? ReadClassify(IReadOnlyList<string> args, int? threads)
    {
        int[] hidden = Sizes(Value(args, "--hidden")) ?? [.. ClassifyOptions.DefaultHidden];
        int batch = Positive(Value(args, "--batch-size")) ?? ClassifyOptions.DefaultBatchSize;
        int epochs = Positive(Value(args, "--epochs")) ?? ClassifyOptions.DefaultEpochs;
        // A model too large to build in passing is left to the command, which checks the memory it needs first.
        long widest = ClassifyCommand.LargestWeightMatrix(hidden[0], hidden, GuessedClasses);
        if (widest > MaxStandInWeights || (long)batch * hidden.Max() > MaxStandInWeights) return null;
        return new ClassifyPlan(hidden, batch, threads, epochs);
    }

    private static ForecastPlan? ReadForecast(IReadOnlyList<string> args, int? threads)
    {
        // Options the command refuses before it trains anything.
        if (args.Any(a => a is "--stateful") || Value(args, "--batch-size") is not null) return null;
        int units = Sizes(Value(args, "--units")) is [int given] ? given : ForecastOptions.DefaultUnits;
        int horizon = Positive(Value(args, "--horizon")) ?? ForecastOptions.DefaultHorizon;
        int lookback = Positive(Value(args, "--lookback"))
            ?? (Positive(Value(args, "--season")) is int season ? Math.Max(season + 1, GuessedLookback) : GuessedLookback);
        // Each feature adds a window of its own; the forecast column is not read twice.
        string? column = Value(args, "--column");
        int features = (Value(args, "--features") ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).Count(f => f != column);
        long inputs = (long)lookback * (1 + features);
        if (inputs * units > MaxStandInWeights || (long)NeuralEnsemble.BatchSize * Math.Max(inputs, units) > MaxStandInWeights
            || (long)units * horizon > MaxStandInWeights) return null;
        return new ForecastPlan((int)inputs, units, horizon, threads);
    }

    private static void Prewarm(Plan plan, CancellationToken shortBatchesKnown)
    {
        try
        {
            _ = PrewarmAndTrain(plan, shortBatchesKnown);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A stand-in the library refuses (e.g. sizes too large to allocate): the real model's prewarm still runs.
        }
    }

    /// <summary>
    /// Prewarms the stand-in's kernels, then fits it on zeros as the command fits its model (<see cref="Plan.Train"/>);
    /// returns the stand-in.
    /// </summary>
    /// <remarks>
    /// With every kernel compiled, a small network's first step still cost ~1 ms against 12 µs for a warm one: the
    /// process's first calls of the training path (its precompiled code bound, its types loaded and initialised), which
    /// any model's first step pays once per process. Paid here, on this thread, they leave the real model's first step
    /// ~0.2 ms (bench/results/cold-start-s7.md, s7-first). The stand-in shares no state with the real model (its own
    /// weights, buffers, optimizer and names). Its weights draw from the unseeded generator, and forecast's stand-in's
    /// shuffles from a generator seeded on this thread's flow: forecast seeds every member on its own flow, which this
    /// thread's draws do not touch (<see cref="NeuriteRandom"/>); classify's stand-in is not shuffled, as an unseeded
    /// classify draws from the same generator.
    /// </remarks>
    internal static Sequential PrewarmAndTrain(Plan plan, CancellationToken shortBatchesKnown = default)
    {
        var standIn = plan.StandIn();
        standIn.Output = TextWriter.Null;
        // For the stand-in's fixed batch size; the same prewarm Compile starts unless that is turned off.
        standIn.PrewarmAsync().Wait();
        plan.Train(standIn, shortBatchesKnown);
        return standIn;
    }

    // The option's value, as "--name value", "--name=value" or "--name:value"; the last one given.
    private static string? Value(IReadOnlyList<string> args, string name)
    {
        string? value = null;
        for (int i = 1; i < args.Count; i++)
        {
            if (args[i] == name && i + 1 < args.Count) value = args[i + 1];
            else if (args[i].Length > name.Length + 1 && args[i].StartsWith(name, StringComparison.Ordinal) && args[i][name.Length] is '=' or ':')
                value = args[i][(name.Length + 1)..];
        }
        return value;
    }

    private static int? Positive(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : null;

    // "8,5"; anything else is left to the command's own error.
    private static int[]? Sizes(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (Positive(parts[i]) is int size) sizes[i] = size;
            else return null;
        return sizes;
    }
}
