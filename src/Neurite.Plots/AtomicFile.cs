namespace Neurite.Plots;

/// <summary>Writes files so that readers see either the old content or the complete new content, never a partial file.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = Path.GetFullPath(path);
        // Through a symbolic link: the file it names is replaced, and the link keeps pointing at the new content.
        var link = new FileInfo(fullPath);
        if (link.LinkTarget is not null) fullPath = link.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? fullPath;
        string folder = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' has no parent folder; pass a file path such as reports/chart.png.", nameof(path));
        Directory.CreateDirectory(folder);
        // Same folder as the target so the final move is a rename within one file system.
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
