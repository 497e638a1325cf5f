using Neurite.Data;

namespace Neurite.Datasets;

/// <summary>
/// Wisconsin breast cancer: 699 biopsies, an Id (text; 54 are repeated), nine ordinal cytology
/// attributes coded "1".."10" and Class (benign, malignant). Bare.nuclei is missing 16 times, leaving 683 complete rows.
/// </summary>
/// <remarks>
/// Source: R package mlbench 2.1-3, <c>BreastCancer</c> (Wolberg &amp; Mangasarian 1990, UCI repository).
/// The attributes are read as categorical, as R's factors are, with levels in numeric order; Mitoses
/// has only 9 levels (1–8 and 10). See Datasets/PROVENANCE.md.
/// </remarks>
public static class BreastCancer
{
    /// <summary>Where the data come from.</summary>
    public const string Provenance = "R package mlbench 2.1-3, BreastCancer (Wolberg & Mangasarian 1990, UCI Machine Learning Repository), exported with write.csv.";

    /// <summary>The nine ordinal attributes, in file order.</summary>
    public static IReadOnlyList<string> AttributeNames { get; } =
        ["Cl.thickness", "Cell.size", "Cell.shape", "Marg.adhesion", "Epith.c.size", "Bare.nuclei", "Bl.cromatin", "Normal.nucleoli", "Mitoses"];

    /// <summary>Read options that keep Id and the attributes categorical (they look numeric but are codes).</summary>
    public static CsvOptions CsvOptions { get; } = new()
    {
        ColumnKinds = AttributeNames.Append("Id").ToDictionary(n => n, _ => ColumnKind.Categorical),
    };

    /// <summary>All 699 rows, missing Bare.nuclei values kept as missing.</summary>
    public static Table Load() => EmbeddedCsv.Load("BreastCancer.csv", CsvOptions);

    /// <summary>The 683 complete rows in file order (R's <c>BreastCancer[complete.cases(BreastCancer), ]</c>).</summary>
    public static Table LoadComplete() => Load().DropIncomplete();

    /// <summary>
    /// The tutorial's flag (1 = train, 2 = test) for each of the 683 complete rows, from R 4.2.2's
    /// <c>set.seed(17); sample(2, 683, TRUE, prob = c(.7, .3))</c>.
    /// </summary>
    public static IReadOnlyList<int> TutorialSplitFlags() => EmbeddedCsv.LoadFlags("BreastCancer_split_seed17.csv");

    /// <summary>The tutorial's split of <see cref="LoadComplete"/>: 481 training rows, 202 test rows.</summary>
    public static TrainTestSplit TutorialSplit() => Splits.FromFlags(TutorialSplitFlags());
}
