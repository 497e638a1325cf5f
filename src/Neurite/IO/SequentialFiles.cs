namespace Neurite.IO;

/// <summary>
/// Keras's file calls on a model: <c>model.Save(path)</c>, <c>Sequential.Load(path)</c>, <c>model.SaveWeights(path)</c>,
/// <c>model.LoadWeights(path)</c>. They are extension members here, with <c>using Neurite.IO;</c>, so that the file
/// formats depend on the model and the model knows nothing of them.
/// </summary>
public static class SequentialFiles
{
    extension(Sequential model)
    {
        /// <summary>
        /// Saves the whole model (architecture, weights, and the optimizer's state when compiled): as a
        /// Keras 3 <c>.keras</c> archive, or for a path ending in <c>.h5</c> as a Keras 2 HDF5 file
        /// (tf.keras 2.11–2.15's layout), which keeps hard_sigmoid's Keras 2 meaning. The file is written
        /// to a temporary file and renamed, so a crash mid-save leaves any previous file intact.
        /// </summary>
        /// <exception cref="ModelFileException">The path is neither .keras nor .h5, or the model cannot be expressed in that format.</exception>
        public void Save(string path) => KerasFiles.Save(model, path);

        /// <summary>Saves the weights (and optimizer state when compiled) to a Keras 3 <c>.weights.h5</c> file, atomically.</summary>
        public void SaveWeights(string path) => KerasFiles.SaveWeights(model, path);

        /// <summary>
        /// Replaces the weights from a <c>.weights.h5</c>, <c>.keras</c> or Keras 2 <c>.h5</c> file saved
        /// from the same architecture; nothing changes unless every weight matches.
        /// </summary>
        public void LoadWeights(string path) => KerasFiles.LoadWeights(model, path);
    }

    extension(Sequential)
    {
        /// <summary>
        /// Loads a model from a Keras 3 <c>.keras</c> archive or a Keras 2 full-model <c>.h5</c> file;
        /// compiled (with its optimizer state, for .keras) when the file's training setup is one Neurite has.
        /// Loading never runs code from the file and checks every size before allocating; what it could not
        /// keep is in <see cref="Sequential.LoadWarnings"/>.
        /// </summary>
        /// <exception cref="ModelFileException">The file is missing, truncated, corrupted, too large or not a supported model.</exception>
        public static Sequential Load(string path) => KerasFiles.Load(path);
    }
}
