using Neurite.Data;

namespace Neurite.Datasets;

/// <summary>
/// Fisher's iris: 150 flowers, four measurements in cm (Sepal.Length, Sepal.Width, Petal.Length,
/// Petal.Width) and Species (setosa, versicolor, virginica; 50 each).
/// </summary>
/// <remarks>Source: R's <c>datasets::iris</c> (Fisher 1936; Anderson 1935), written with <c>write.csv</c>. See Datasets/PROVENANCE.md.</remarks>
public static class Iris
{
    /// <summary>Where the data come from.</summary>
    public const string Provenance = "R datasets::iris (Fisher 1936, Anderson 1935), exported with write.csv.";

    /// <summary>The four measurement columns.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"];

    /// <summary>150 rows: four numeric columns and the categorical Species (levels setosa, versicolor, virginica).</summary>
    public static Table Load() => EmbeddedCsv.Load("iris.csv");

    /// <summary>
    /// The tutorial's flag per row (1 = train, 2 = test) from R 4.2.2's
    /// <c>set.seed(17); sample(2, 150, TRUE, prob = c(.7, .3))</c>.
    /// </summary>
    public static IReadOnlyList<int> TutorialSplitFlags() => EmbeddedCsv.LoadFlags("iris_split_seed17.csv");

    /// <summary>The tutorial's split: 103 training rows, 47 test rows.</summary>
    public static TrainTestSplit TutorialSplit() => Splits.FromFlags(TutorialSplitFlags());
}
