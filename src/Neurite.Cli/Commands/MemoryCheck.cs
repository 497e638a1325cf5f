using System.Globalization;

namespace Neurite.Cli.Commands;

/// <summary>
/// Estimates of the memory a run needs, checked before anything large is allocated, so that a run too big for the
/// machine ends in one line with the figure and a fix rather than an out-of-memory crash part way. Sizes are
/// multiplied as doubles, which cannot overflow for any option values.
/// </summary>
internal static class MemoryCheck
{
    /// <summary>
    /// The share of the memory available to the process that one estimate may claim: the estimates count the big
    /// arrays, not every buffer and copy beside them, and the machine runs other work too.
    /// </summary>
    private const double Share = 0.6;

    /// <summary>Bytes this process may use: the machine's memory or the container's limit, whichever is lower.</summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Refuses an allocation of about <paramref name="bytes"/>, described by <paramref name="what"/>, that would not fit.</summary>
    public static void Require(double bytes, string what, string fix)
    {
        long available = Available;
        if (bytes > Share * available)
            throw new UserInputException($"This run needs about {Size(bytes)} of memory for {what}, more than the {Size(Share * available)} it may take on this machine ({Size(available)} available). {fix}");
    }

    /// <summary>Refuses an array of more elements than .NET arrays hold, whatever the memory.</summary>
    public static void RequireArray(double elements, string what, string fix)
    {
        if (elements > Array.MaxLength)
            throw new UserInputException($"This run needs one array of {elements.ToString("0", CultureInfo.InvariantCulture)} values for {what}, more than the {Array.MaxLength} one array can hold. {fix}");
    }

    /// <summary>
    /// Floats held while training an MLP with Adam: weights, gradients, two moment slots and early stopping's copy of
    /// the best weights, and a batch's activations.
    /// </summary>
    public static double MlpTrainingBytes(double inputs, IReadOnlyList<int> hidden, int outputs, int batch)
    {
        double parameters = 0, previous = inputs, activations = 0;
        foreach (double width in hidden.Select(h => (double)h).Append(outputs))
        {
            parameters += (previous + 1) * width;
            activations += width;
            previous = width;
        }
        return 4 * (5 * parameters + 3 * batch * (activations + inputs));
    }

    public static string Size(double bytes) => bytes >= 1 << 30
        ? (bytes / (1 << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (1 << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";
}
