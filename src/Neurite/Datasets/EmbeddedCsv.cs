using Neurite.Data;

namespace Neurite.Datasets;

/// <summary>Reads the CSV files shipped inside the library (EmbeddedResource), so the data sets need no download and no shared folder.</summary>
internal static class EmbeddedCsv
{
    public static Table Load(string fileName, CsvOptions? options = null)
    {
        using var reader = Open(fileName);
        return Table.ReadCsv(reader, $"Neurite.Datasets/{fileName} (embedded)", options);
    }

    /// <summary>The <c>ind</c> column of a split-flags file written by R's <c>write.csv(data.frame(row, ind))</c>.</summary>
    public static int[] LoadFlags(string fileName)
    {
        var table = Load(fileName);
        return table.Numeric("ind").ToArray().Select(v => (int)v).ToArray();
    }

    private static StreamReader Open(string fileName)
    {
        var assembly = typeof(EmbeddedCsv).Assembly;
        var stream = assembly.GetManifestResourceStream($"Neurite.Datasets.{fileName}")
            ?? throw new NeuriteException($"The embedded data file '{fileName}' is missing from {assembly.GetName().Name}. The build must include src/Neurite/Datasets/*.csv as EmbeddedResource.");
        return new StreamReader(stream);
    }
}
