using System.Globalization;

namespace Neurite.IO;

/// <summary>Which Keras wrote (or will read) a config: the meaning of <c>hard_sigmoid</c> and the recurrent layers' defaults differ.</summary>
internal enum KerasGeneration
{
    /// <summary>Keras 2.3+ and tf.keras of TensorFlow 2.3+: hard_sigmoid is clip(0.2x + 0.5, 0, 1), Neurite's definition; LSTM and GRU default to a sigmoid recurrent activation.</summary>
    Keras2,
    /// <summary>Keras 2.0–2.2 (and 1.x): as <see cref="Keras2"/>, but LSTM and GRU default <c>recurrent_activation</c> to hard_sigmoid (Keras 2.3.0 changed it).</summary>
    Keras2Early,
    /// <summary>
    /// tf.keras "2.1.x-tf"/"2.2.x-tf", or no version at all: as <see cref="Keras2"/>, but the recurrent default
    /// cannot be told (TensorFlow 1.x meant hard_sigmoid, TensorFlow 2.0–2.2 sigmoid under the same version string).
    /// </summary>
    Keras2UnknownRecurrentDefault,
    /// <summary>Keras 3.x: hard_sigmoid is relu6(x + 3) / 6, which Neurite does not implement.</summary>
    Keras3,
}

internal static class KerasVersions
{
    /// <summary>The generation a legacy HDF5 file's <c>keras_version</c> attribute names (null when it has none).</summary>
    public static KerasGeneration Of(string? version)
    {
        if (version is null) return KerasGeneration.Keras2UnknownRecurrentDefault;
        var parts = version.Split('.', 3);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)) return KerasGeneration.Keras2UnknownRecurrentDefault;
        if (major >= 3) return KerasGeneration.Keras3;
        if (major < 2) return KerasGeneration.Keras2Early;
        int minor = parts.Length > 1 && int.TryParse(new string(parts[1].TakeWhile(char.IsAsciiDigit).ToArray()), NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? m : 0;
        if (minor >= 3) return KerasGeneration.Keras2;
        return version.Contains("-tf", StringComparison.Ordinal) ? KerasGeneration.Keras2UnknownRecurrentDefault : KerasGeneration.Keras2Early;
    }

    /// <summary>Whether the Keras that wrote the file keeps its optimizer as <c>[iteration, slots...]</c> in Keras 2.11+'s order.</summary>
    public static bool HasKeras211OptimizerLayout(string? version)
    {
        if (version is null) return false;
        var parts = version.Split('.', 3);
        return parts.Length >= 2 && parts[0] == "2"
            && int.TryParse(new string(parts[1].TakeWhile(char.IsAsciiDigit).ToArray()), NumberStyles.None, CultureInfo.InvariantCulture, out int minor)
            && minor >= 11;
    }
}
