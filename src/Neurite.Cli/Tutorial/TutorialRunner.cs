using System.Diagnostics;
using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>
/// Runs the tutorial "LSTM with Keras &amp; TensorFlow" in C#: the chosen parts in order, console output like the
/// tutorial's, and a report folder with a self-contained index.html and every plot as a PNG.
/// </summary>
public sealed class TutorialRunner(TutorialOptions options, TextWriter console)
{
    public const string ReportTitle = "Neurite: the tutorial \"LSTM with Keras & TensorFlow\" in C#";

    public TutorialResult Run()
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        options.Validate();
        var total = Stopwatch.StartNew();
        if (options.Threads is int threads) Neurite.Backends.Backend.MaxThreads = Math.Min(threads, Neurite.Backends.Backend.ThreadLimit);

        var report = new HtmlReport(ReportTitle);
        var context = new TutorialContext(options, console, report);
        string folder = Path.GetFullPath(options.OutputFolder);
        console.WriteLine(ReportTitle);
        report.AddParagraph("The three parts of the R tutorial (iris, breast cancer, IBEX 35 with a stateful LSTM), run with Neurite on the data embedded in the library.");
        var settings = new List<(string, string)>
        {
            ("parts", string.Join(", ", options.Parts.Select(PartName))),
            ("seed", options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("kernel threads", Neurite.Backends.Backend.MaxThreads.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("quick run", options.Quick ? "yes (shortened training)" : "no"),
        };
        if (options.Parts.Contains(TutorialPart.Ibex)) settings.Add(("LSTM epochs", options.EffectiveLstmEpochs.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        report.AddKeyValues(settings);
        console.WriteLine(string.Join("; ", settings.Select(s => $"{s.Item1}: {s.Item2}")));

        var timings = new List<(string Part, TimeSpan Time)>();
        var classification = new List<PartResult>();
        IbexResult? ibex = null;
        foreach (var part in options.Parts)
        {
            // Every part starts from the same seed, so running one part alone gives the same numbers as in the full run.
            NeuriteRandom.SetSeed(options.Seed);
            var watch = Stopwatch.StartNew();
            try
            {
                switch (part)
                {
                    case TutorialPart.Iris: classification.Add(IrisPart.Run(context)); break;
                    case TutorialPart.BreastCancer: classification.Add(BreastCancerPart.Run(context)); break;
                    case TutorialPart.Ibex: ibex = IbexPart.Run(context); break;
                    default: throw new ArgumentOutOfRangeException(nameof(options), part, "Unknown tutorial part.");
                }
            }
            catch (OperationCanceledException e) when (options.Interrupt.IsCancellationRequested)
            {
                // The report is written only at the end, so an interrupted run leaves the folder as it was.
                throw new OperationCanceledException(
                    $"interrupted (Ctrl+C) while training the {PartName(part)} part; no report was written, so {folder} is as it was.", e, options.Interrupt);
            }
            timings.Add((PartName(part), watch.Elapsed));
            console.WriteLine($"({PartName(part)} took {Text.Num(watch.Elapsed.TotalSeconds, "0.0")} s)");
        }

        context.Heading("Summary");
        var rows = new List<string[]>();
        foreach (var r in classification)
            rows.Add([r.Name, $"test loss {Text.Num(r.Score["loss"])}, accuracy {Text.Num(r.Score.GetValueOrDefault("accuracy"))} ({r.Confusion!.Correct}/{r.Confusion.Total} correct)"]);
        if (ibex is not null)
            rows.Add(["IBEX 35", $"test MAE {Text.Num(ibex.ModelMae, "0.0")} points (LSTM, {ibex.Epochs} epochs) vs {Text.Num(ibex.PersistenceMae, "0.0")} (persistence)"]);
        foreach (var row in rows) console.WriteLine($"{row[0],-14} {row[1]}");
        report.AddTable(["part", "result"], rows, "Scores on the test rows");
        report.AddTable(["part", "seconds"], timings.Select(t => new[] { t.Part, Text.Num(t.Time.TotalSeconds, "0.0") }).ToList(), "Time taken");

        total.Stop();
        string closing = $"The whole run took {Text.Num(total.Elapsed.TotalSeconds, "0.0")} s on {Environment.ProcessorCount} core{(Environment.ProcessorCount == 1 ? "" : "s")} with {Neurite.Backends.Backend.MaxThreads} kernel thread{(Neurite.Backends.Backend.MaxThreads == 1 ? "" : "s")}.";
        report.AddParagraph(closing);
        Commands.ReportFolder.Write(folder, report);
        console.WriteLine();
        console.WriteLine($"Report: {Path.Combine(folder, HtmlReport.IndexFileName)} ({context.PlotFiles.Count} plots, each also as a PNG beside it)");
        console.WriteLine(closing);
        return new TutorialResult(folder, context.PlotFiles.ToList(), total.Elapsed, classification.Select(c => c.Score).ToList(), ibex?.ModelMae, ibex?.PersistenceMae);
    }

    public static string PartName(TutorialPart part) => part switch
    {
        TutorialPart.Iris => "iris",
        TutorialPart.BreastCancer => "breast-cancer",
        TutorialPart.Ibex => "ibex",
        _ => part.ToString(),
    };
}

/// <summary>Where the report went, which plots it holds, how long it took, and the scores.</summary>
public sealed record TutorialResult(string OutputFolder, IReadOnlyList<string> PlotFiles, TimeSpan Elapsed,
    IReadOnlyList<IReadOnlyDictionary<string, double>> ClassificationScores, double? LstmMae, double? PersistenceMae);
