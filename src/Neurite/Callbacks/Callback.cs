namespace Neurite.Callbacks;

/// <summary>Per-epoch or per-batch values keyed by name (<c>loss</c>, <c>accuracy</c>, <c>val_loss</c>, ...).</summary>
public sealed class Logs : Dictionary<string, double>
{
    public Logs() : base(StringComparer.Ordinal) { }
}

/// <summary>
/// Hooks into training with Keras's names and order: train begin, then per epoch: epoch begin,
/// per batch (batch begin, batch end), validation, epoch end; then train end. <c>Evaluate</c> calls test
/// begin, per batch (test batch begin, test batch end), test end; <c>Predict</c> the predict hooks likewise.
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained; set before <see cref="OnTrainBegin"/>.</summary>
    public Sequential? Model { get; internal set; }

    /// <summary>The run's epochs, batches per epoch and verbosity (Keras's <c>params</c>); set before
    /// <see cref="OnTrainBegin"/>, <see cref="OnTestBegin"/> and <see cref="OnPredictBegin"/>.</summary>
    public CallbackParams? Params { get; internal set; }

    public virtual void OnTrainBegin(Logs logs) { }
    public virtual void OnTrainEnd(Logs logs) { }
    public virtual void OnEpochBegin(int epoch, Logs logs) { }
    public virtual void OnEpochEnd(int epoch, Logs logs) { }
    public virtual void OnTrainBatchBegin(int batch, Logs logs) { }
    public virtual void OnTrainBatchEnd(int batch, Logs logs) { }
    /// <summary>Before <c>Evaluate</c>, and before each epoch's validation in <c>Fit</c> (under Fit's <see cref="Params"/>).</summary>
    public virtual void OnTestBegin(Logs logs) { }
    /// <summary>After <c>Evaluate</c> or an epoch's validation: the loss and metrics over all its rows (no <c>val_</c> prefix).</summary>
    public virtual void OnTestEnd(Logs logs) { }
    public virtual void OnPredictBegin(Logs logs) { }
    public virtual void OnPredictEnd(Logs logs) { }

    /// <summary>Before each batch of <c>Evaluate</c> or of <c>Fit</c>'s validation.</summary>
    public virtual void OnTestBatchBegin(int batch, Logs logs) { }

    /// <summary>After each batch of <c>Evaluate</c> or of <c>Fit</c>'s validation: the loss and metrics so far (running means over the rows seen).</summary>
    public virtual void OnTestBatchEnd(int batch, Logs logs) { }

    /// <summary>Before each batch of <c>Predict</c>.</summary>
    public virtual void OnPredictBatchBegin(int batch, Logs logs) { }

    /// <summary>After each batch of <c>Predict</c> (the logs are empty: the outputs are what Predict returns).</summary>
    public virtual void OnPredictBatchEnd(int batch, Logs logs) { }
}

/// <summary>What a callback knows of the run it is in: <see cref="Epochs"/> (1 for Evaluate and Predict) of
/// <see cref="Steps"/> batches each, and the verbosity asked for.</summary>
public sealed record CallbackParams(int Epochs, int Steps, int Verbose);

/// <summary>Stops training when the loss becomes NaN or infinite (Keras's TerminateOnNaN).</summary>
public sealed class TerminateOnNaN : Callback
{
    public override void OnTrainBatchEnd(int batch, Logs logs)
    {
        if (logs.TryGetValue("loss", out var loss) && !double.IsFinite(loss))
        {
            Model!.Output.WriteLine($"Batch {batch}: invalid loss {loss}, terminating training.");
            Model.StopTraining = true;
        }
    }
}

/// <summary>Sets the learning rate at each epoch start from <c>schedule(epoch, currentRate)</c>.</summary>
public sealed class LearningRateScheduler(Func<int, double, double> schedule) : Callback
{
    public override void OnEpochBegin(int epoch, Logs logs)
    {
        var optimizer = Model!.Optimizer!;
        optimizer.LearningRate = schedule(epoch, optimizer.LearningRate);
    }

    public override void OnEpochEnd(int epoch, Logs logs) => logs["learning_rate"] = Model!.Optimizer!.LearningRate;
}

/// <summary>Improvement direction of a monitored quantity.</summary>
public enum MonitorMode { Auto, Min, Max }

internal static class Monitor
{
    /// <summary>Keras's "auto": accuracy-like and AUC metrics are maximised, everything else minimised.</summary>
    public static bool Maximise(string monitor, MonitorMode mode) => mode switch
    {
        MonitorMode.Max => true,
        MonitorMode.Min => false,
        _ => monitor.EndsWith("acc", StringComparison.Ordinal) || monitor.Contains("accuracy", StringComparison.Ordinal) ||
             monitor.Contains("auc", StringComparison.Ordinal) || monitor.Contains("precision", StringComparison.Ordinal) ||
             monitor.Contains("recall", StringComparison.Ordinal),
    };
}

/// <summary>
/// Stops when <c>monitor</c> has not improved by more than <c>minDelta</c> for <c>patience</c> epochs;
/// optionally restores the weights of the best epoch (Keras's EarlyStopping).
/// </summary>
public sealed class EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0,
    MonitorMode mode = MonitorMode.Auto, double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0) : Callback
{
    private readonly bool _maximise = Monitor.Maximise(monitor, mode);
    private double _best;
    private int _wait;
    private readonly WeightSnapshot _bestWeights = new();

    /// <summary>The epoch (0-based) at which training stopped, or 0 if it ran to the end.</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The epoch (0-based) with the best monitored value.</summary>
    public int BestEpoch { get; private set; }

    public override void OnTrainBegin(Logs logs)
    {
        _wait = 0;
        StoppedEpoch = 0;
        _best = _maximise ? double.NegativeInfinity : double.PositiveInfinity;
        _bestWeights.Clear();
        BestEpoch = 0;
    }

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        if (!logs.TryGetValue(monitor, out var current))
        {
            Model!.Output.WriteLine($"EarlyStopping: the monitored value '{monitor}' is not in the logs (available: {string.Join(", ", logs.Keys)}); pass one of those as monitor.");
            return;
        }
        if (epoch < startFromEpoch) return;
        if (restoreBestWeights && !_bestWeights.Taken) _bestWeights.Take(Model!);
        _wait++;
        if (IsImprovement(current, _best))
        {
            _best = current;
            BestEpoch = epoch;
            if (restoreBestWeights) _bestWeights.Take(Model!);
            if (baseline is null || IsImprovement(current, baseline.Value)) _wait = 0;
            return;
        }
        if (_wait >= patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Model!.StopTraining = true;
            if (restoreBestWeights) _bestWeights.Restore(Model);
        }
    }

    private bool IsImprovement(double value, double reference) =>
        _maximise ? value - Math.Abs(minDelta) > reference : value + Math.Abs(minDelta) < reference;
}

/// <summary>
/// Multiplies the learning rate by <c>factor</c> when <c>monitor</c> stops improving for <c>patience</c>
/// epochs (Keras's ReduceLROnPlateau).
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly string _monitor;
    private readonly double _factor, _minDelta, _minLr;
    private readonly int _patience, _cooldown;
    private readonly bool _maximise;
    private double _best;
    private int _wait, _cooldownCounter;

    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, MonitorMode mode = MonitorMode.Auto,
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0)
    {
        if (factor >= 1.0)
            throw new NeuriteException($"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}; use e.g. 0.1 or 0.5.");
        _monitor = monitor; _factor = factor; _patience = patience; _minDelta = minDelta; _cooldown = cooldown; _minLr = minLr;
        _maximise = Monitor.Maximise(monitor, mode);
    }

    public override void OnTrainBegin(Logs logs)
    {
        _best = _maximise ? double.NegativeInfinity : double.PositiveInfinity;
        _wait = 0;
        _cooldownCounter = 0;
    }

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        var optimizer = Model!.Optimizer!;
        logs["learning_rate"] = optimizer.LearningRate;
        if (!logs.TryGetValue(_monitor, out var current)) return;
        if (_cooldownCounter > 0) { _cooldownCounter--; _wait = 0; }
        bool better = _maximise ? current > _best + _minDelta : current < _best - _minDelta;
        if (better)
        {
            _best = current;
            _wait = 0;
        }
        else if (_cooldownCounter <= 0)
        {
            _wait++;
            if (_wait >= _patience)
            {
                double old = optimizer.LearningRate;
                if (old > _minLr)
                {
                    optimizer.LearningRate = Math.Max(old * _factor, _minLr);
                    _cooldownCounter = _cooldown;
                    _wait = 0;
                }
            }
        }
    }
}
