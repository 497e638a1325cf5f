namespace Neurite.Cli.Tutorial;

/// <summary>The three parts of the tutorial, in the order it runs them.</summary>
public enum TutorialPart
{
    Iris,
    BreastCancer,
    Ibex,
}

/// <summary>What <see cref="TutorialRunner"/> runs and where it writes the report.</summary>
public sealed record TutorialOptions
{
    /// <summary>The tutorial's LSTM training length: <c>for (i in 1:2000)</c>.</summary>
    public const int TutorialLstmEpochs = 2000;

    /// <summary>LSTM epochs of a <see cref="Quick"/> run: enough to show the loop, the plots and the scores.</summary>
    public const int QuickLstmEpochs = 3;

    /// <summary>The tutorial's <c>set.seed(17)</c>.</summary>
    public const int DefaultSeed = 17;

    /// <summary>The report folder when none is given.</summary>
    public const string DefaultOutputFolder = "neurite-tutorial";

    /// <summary>Parts to run, in tutorial order; all three by default.</summary>
    public IReadOnlyList<TutorialPart> Parts { get; init; } = [TutorialPart.Iris, TutorialPart.BreastCancer, TutorialPart.Ibex];

    /// <summary>Folder that receives index.html and the PNGs (created if missing).</summary>
    public string OutputFolder { get; init; } = DefaultOutputFolder;

    /// <summary>LSTM epochs; null for the tutorial's 2000, or <see cref="QuickLstmEpochs"/> with <see cref="Quick"/>.</summary>
    public int? LstmEpochs { get; init; }

    /// <summary>A short run for trying things out: a few LSTM epochs and shorter iris and breast-cancer training.</summary>
    public bool Quick { get; init; }

    /// <summary>Seed of Neurite's random generator, set at the start of every part.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Threads the kernels may use; null leaves the library's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Redraw one progress line in place (an interactive terminal) instead of printing progress lines.</summary>
    public bool LiveProgress { get; init; }

    /// <summary>Stops training between batches (Ctrl+C); the run then throws an OperationCanceledException and writes no report.</summary>
    public CancellationToken Interrupt { get; init; }

    /// <summary>The LSTM epochs this run will train.</summary>
    public int EffectiveLstmEpochs => LstmEpochs ?? (Quick ? QuickLstmEpochs : TutorialLstmEpochs);

    /// <summary>Iris epochs: the tutorial's 100, or 20 in a quick run.</summary>
    public int IrisEpochs => Quick ? 20 : 100;

    /// <summary>Breast-cancer epochs: the tutorial's 50, or 10 in a quick run.</summary>
    public int BreastCancerEpochs => Quick ? 10 : 50;

    /// <summary>Checks the values a caller may have set by hand; the command line checks the same before building this.</summary>
    public void Validate()
    {
        if (Parts.Count == 0)
            throw new TutorialOptionsException("No tutorial part was chosen. Pick iris, breast-cancer or ibex, or leave --part out to run all three.");
        if (LstmEpochs is int e && e <= 0)
            throw new TutorialOptionsException($"--epochs must be a positive whole number; received {e}. Use e.g. --epochs 200, or leave it out for the tutorial's 2000.");
        if (Threads is int t && t <= 0)
            throw new TutorialOptionsException($"--threads must be a positive whole number; received {t}. Use 1 for one thread or 2 on a two-core machine.");
        if (string.IsNullOrWhiteSpace(OutputFolder))
            throw new TutorialOptionsException("--out is empty. Give a folder for the report, e.g. --out ./neurite-tutorial.");
    }
}

/// <summary>A tutorial option that cannot be used; the message names the value and the fix.</summary>
public sealed class TutorialOptionsException(string message) : Exception(message);
