namespace Neurite.IO;

/// <summary>
/// A model or weights file could not be read or written: it is truncated, corrupted, too large,
/// of an unsupported kind, or does not match the model. The message names the file, the problem
/// and what to do.
/// </summary>
public sealed class ModelFileException : NeuriteException
{
    public ModelFileException(string path, string problem) : base($"{Describe(path)}: {problem}") => FilePath = path;

    public ModelFileException(string path, string problem, Exception inner) : base($"{Describe(path)}: {problem}", inner) => FilePath = path;

    /// <summary>The file (or archive member) the problem is in.</summary>
    public string FilePath { get; }

    private static string Describe(string path) => $"Model file '{path}'";
}

/// <summary>
/// Upper bounds checked before anything is allocated, so a hostile or corrupted file ends in a
/// <see cref="ModelFileException"/> instead of exhausting memory.
/// </summary>
public static class ModelFileLimits
{
    /// <summary>Largest model file (or archive member) read, in bytes: 2 GiB − 1, the most a .NET array holds.</summary>
    public static long MaxFileBytes { get; set; } = int.MaxValue;

    /// <summary>Largest <c>config.json</c> / <c>model_config</c> accepted, in bytes.</summary>
    public static int MaxConfigBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Most a <c>.keras</c> archive member may expand (declared size over compressed size; members
    /// up to 1 MiB are exempt). Keras stores members uncompressed, and deflate rarely gains more
    /// than 10x on weights, so a larger ratio means a zip bomb or a corrupted size.
    /// </summary>
    public static int MaxExpansionRatio { get; set; } = 100;

    /// <summary>
    /// Most floats a model with a fixed batch size (a stateful one, or any whose input declares the
    /// batch) may reserve for its recurrent layers' per-batch buffers when it is built: about
    /// batch × steps × (2 × features + 8 × units) each. 2^26 floats is 256 MiB, room for e.g. a batch
    /// of 256 sequences of 100 steps through LSTM(256).
    /// </summary>
    public static long MaxBatchBufferFloats { get; set; } = 1L << 26;

    /// <summary>Most layers a loaded model may have.</summary>
    public static int MaxLayers { get; set; } = 10_000;

    /// <summary>Most scalar weights a loaded model may have in total (one float32 array holds at most 2^31 − 1).</summary>
    public static long MaxTotalWeights { get; set; } = 500_000_000;
}
