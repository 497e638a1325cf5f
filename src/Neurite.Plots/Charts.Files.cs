namespace Neurite.Plots;

public static partial class Charts
{
    /// <summary>
    /// Writes <paramref name="png"/> to <paramref name="path"/> through a temporary file in the same folder and a
    /// rename, so an interrupted run never leaves a half-written image. Creates the folder if needed.
    /// </summary>
    public static void SaveAtomically(string path, byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        AtomicFile.Write(path, png);
    }
}
