namespace Neurite.IO;

/// <summary>
/// Writes a file through a temporary file beside it and renames it over the target only after
/// every byte is written and flushed, so a crash or error mid-save leaves the previous file intact.
/// </summary>
internal static class AtomicFile
{
    private static readonly AsyncLocal<Func<Stream, Stream>?> OutputWrapper = new();

    /// <summary>
    /// Test hook: wraps the temporary file's stream (e.g. in one that fails after N bytes, to
    /// simulate a crash mid-save). Flows with the async context, so parallel tests do not see it.
    /// </summary>
    internal static Func<Stream, Stream>? WrapOutputForTesting
    {
        get => OutputWrapper.Value;
        set => OutputWrapper.Value = value;
    }

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = FinalTarget(Path.GetFullPath(path));
        string directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory))
            throw new ModelFileException(path, $"the folder '{directory}' does not exist. Create it first (Directory.CreateDirectory) or save elsewhere.");
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var wrapper = WrapOutputForTesting;
                var target = wrapper is null ? file : wrapper(file);
                write(target);
                target.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// The file a save to <paramref name="full"/> replaces: the path itself, or the final target of the symbolic links it
    /// starts, so that a link keeps pointing at the new content instead of being replaced by a plain file.
    /// </summary>
    internal static string FinalTarget(string full)
    {
        var info = new FileInfo(full);
        return info.LinkTarget is null ? full : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    private static void TryDelete(string temp)
    {
        try { File.Delete(temp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
