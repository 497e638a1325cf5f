namespace Neurite.Cli.Commands;

/// <summary>
/// An exclusive lock on saving one model path, held while its model and preprocessing file are renamed into place.
/// It is an OS file lock (.NET takes one for <see cref="FileShare.None"/>) on a hidden file beside the model,
/// <c>.MODEL.keras.lock</c>, which stays there: deleting it would let a waiting process lock a file no longer in
/// the folder while a third locks a new one.
/// </summary>
internal static class SaveLock
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    public static IDisposable Acquire(string modelPath)
    {
        string path = Path.Combine(Path.GetDirectoryName(modelPath)!, $".{Path.GetFileName(modelPath)}.lock");
        var deadline = DateTime.UtcNow + Patience;
        for (int wait = 1; ; wait = Math.Min(wait * 2, 100))
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(wait);
            }
            catch (IOException e)
            {
                throw new UserInputException($"The model '{modelPath}' could not be saved: another process has held its lock '{path}' for over {Patience.TotalSeconds:0} s ({ModelRecipe.OneLine(e.Message)}). Wait for it to finish, or save to another path.");
            }
        }
    }
}
