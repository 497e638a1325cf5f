namespace Neurite;

/// <summary>Entry points for model files (Keras's <c>keras.models</c>).</summary>
public static class Models
{
    /// <summary>Loads a Keras 3 <c>.keras</c> or Keras 2 <c>.h5</c> model; see <see cref="Sequential.Load"/>.</summary>
    public static Sequential Load(string path) => Sequential.Load(path);
}
