namespace Neurite.IO;

/// <summary>Entry points for model files (Keras's <c>keras.models</c>).</summary>
public static class Models
{
    /// <summary>Loads a Keras 3 <c>.keras</c> or Keras 2 <c>.h5</c> model, as <c>Sequential.Load</c> does (see <see cref="SequentialFiles"/>).</summary>
    /// <exception cref="ModelFileException">The file is missing, truncated, corrupted, too large or not a supported model.</exception>
    public static Sequential Load(string path) => KerasFiles.Load(path);
}
