using Neurite.Plots;

namespace Neurite.Cli.Commands;

/// <summary>
/// The report folder of <c>classify</c> and <c>forecast</c>: checked before training, written into a temporary folder
/// and moved into place, so a failure part way (a full disk) leaves no half-written report.
/// </summary>
internal static class ReportFolder
{
    /// <summary>Refuses, before any work, an --out that is a file, lies in a missing folder or cannot be written.</summary>
    public static void Check(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new UserInputException("--out is empty. Pass a folder for the report, e.g. --out report.");
        if (File.Exists(folder) && !Directory.Exists(folder))
            throw new UserInputException($"--out '{folder}' is a file, but the report needs a folder. Pass a folder name (it is created if missing).");
        if (Directory.Exists(folder))
        {
            OutputFile.CheckWritableFolder(folder, "--out", folder);
            return;
        }
        string parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)))!;
        OutputFile.CheckWritableFolder(parent, "--out", folder);
    }

    /// <summary>
    /// Writes the report page, its images and <paramref name="files"/> into <paramref name="folder"/>. A new folder
    /// appears whole, by one rename of the temporary folder; into an existing one every file is renamed in, each
    /// complete, the page last, and other files there are left alone.
    /// </summary>
    public static void Write(string folder, HtmlReport report, params (string Name, string Content)[] files)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        bool exists = Directory.Exists(full);
        string staging = exists
            ? Path.Combine(full, $".neurite-report.{Guid.NewGuid():N}.tmp")
            : OutputFile.TemporaryPath(full);
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var (name, content) in files)
                OutputFile.WriteText(Path.Combine(staging, name), content, "--out");
            report.WriteTo(staging);
            if (!exists)
            {
                Directory.Move(staging, full);
                return;
            }
            var names = Directory.GetFiles(staging).Select(Path.GetFileName).OrderBy(n => n == HtmlReport.IndexFileName).ToArray();
            foreach (var name in names)
                File.Move(Path.Combine(staging, name!), Path.Combine(full, name!), overwrite: true);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
