using System.Runtime.InteropServices;
using System.Text;

namespace Neurite.Cli.Commands;

/// <summary>
/// Where the CLI writes a file the user named. A regular file is replaced atomically (a temporary file beside it,
/// flushed to disk, then renamed), through any symbolic links, so a link keeps pointing at the new content. A FIFO
/// or character device (<c>/dev/stdout</c>, a named pipe) is written directly, since renaming over it would replace
/// the device with a plain file. Anything else that is not a regular file is refused.
/// </summary>
internal static partial class OutputFile
{
    public enum Kind { Absent, Regular, Folder, Stream, Other }

    /// <summary>What <paramref name="path"/> names once links are followed.</summary>
    public static Kind KindOf(string path)
    {
        if (Directory.Exists(path)) return Kind.Folder;
        if (!File.Exists(path)) return Kind.Absent;
        return FileType(path) switch
        {
            FileTypeRegular or null => Kind.Regular,
            FileTypeFifo or FileTypeCharacterDevice => Kind.Stream,
            _ => Kind.Other,
        };
    }

    /// <summary>
    /// The file a write to <paramref name="path"/> should replace: the path itself, or the final target of the chain of
    /// symbolic links it starts (which may not exist yet).
    /// </summary>
    public static string FinalTarget(string path, string option)
    {
        string full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (info.LinkTarget is null) return full;
        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException e)
        {
            throw new UserInputException($"{option} '{path}' is a symbolic link that cannot be followed ({ModelRecipe.OneLine(e.Message)}). Fix the link or pass another path.");
        }
    }

    /// <summary>
    /// Refuses, before any work starts, a file path that cannot be written: a folder, a socket or block device, a
    /// missing or read-only parent folder.
    /// </summary>
    public static void CheckWritableFile(string path, string option, string example)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new UserInputException($"{option} is empty. Pass a file name, e.g. {option} {example}.");
        switch (KindOf(path))
        {
            case Kind.Folder:
                throw new UserInputException($"{option} '{path}' is a folder. Pass a file name, e.g. {option} {example}.");
            case Kind.Other:
                throw new UserInputException($"{option} '{path}' is neither a regular file nor a pipe or character device, so it cannot be written. Pass a file name, e.g. {option} {example}.");
            case Kind.Stream:
                return;
        }
        string target = FinalTarget(path, option);
        CheckWritableFolder(Path.GetDirectoryName(target)!, option, path);
    }

    /// <summary>Refuses a folder that does not exist or that this process may not create files in.</summary>
    public static void CheckWritableFolder(string folder, string option, string given)
    {
        if (File.Exists(folder) && !Directory.Exists(folder))
            throw new UserInputException($"{option} '{given}' lies in '{folder}', which is a file, not a folder. Pass a path in an existing folder.");
        if (!Directory.Exists(folder))
            throw new UserInputException($"{option} '{given}' lies in the folder '{folder}', which does not exist. Create it first (mkdir), or pass a path in an existing folder.");
        string probe = Path.Combine(folder, $".neurite-write-check.{Guid.NewGuid():N}.tmp");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{option} '{given}' cannot be written: the folder '{folder}' does not accept new files ({ModelRecipe.OneLine(e.Message)}). Pass a path in a folder you may write to.");
        }
    }

    /// <summary>Writes <paramref name="content"/> to the file <paramref name="path"/> names (see the class remarks).</summary>
    public static void WriteText(string path, string content, string option) =>
        Write(path, new UTF8Encoding(false).GetBytes(content), option);

    public static void Write(string path, byte[] content, string option)
    {
        switch (KindOf(path))
        {
            case Kind.Stream:
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                    stream.Write(content);
                return;
            case Kind.Folder or Kind.Other:
                CheckWritableFile(path, option, "out.csv"); // refuses both
                return;
        }
        string target = FinalTarget(path, option);
        string temporary = WriteTemporary(target, content);
        try
        {
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> to a new temporary file beside <paramref name="target"/>, flushed to disk, and
    /// returns its path; the caller renames it into place.
    /// </summary>
    public static string WriteTemporary(string target, byte[] content)
    {
        string temporary = TemporaryPath(target);
        try
        {
            using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        return temporary;
    }

    /// <summary>A fresh hidden name in the folder of <paramref name="target"/>, so the final rename stays on one file system.</summary>
    public static string TemporaryPath(string target, string suffix = ".tmp") =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}{suffix}");

    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private const int FileTypeFifo = 0x1000, FileTypeCharacterDevice = 0x2000, FileTypeRegular = 0x8000, FileTypeMask = 0xF000;

    /// <summary>
    /// The S_IFMT bits of the file <paramref name="path"/> names after links, or null where the system cannot say.
    /// .NET reports no file type beyond folder and link, so this asks Linux's statx, whose layout is the same on
    /// every architecture (stx_mode is the 16 bits at offset 28); elsewhere every file counts as regular.
    /// </summary>
    private static int? FileType(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = new byte[256];
        try
        {
            return Statx(AtCurrentDirectory, path, 0, StatxType, buffer) == 0 ? BitConverter.ToUInt16(buffer, 28) & FileTypeMask : null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 1;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte[] buffer);
}
