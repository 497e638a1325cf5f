using System.Reflection;
using System.Runtime;

namespace Neurite.Cli;

/// <summary>
/// The CLI's multicore-JIT profile (<see cref="ProfileOptimization"/>): each run of a command records which methods
/// the JIT compiled, and the next run of that command compiles them on a background thread while its main thread
/// parses the arguments, reads the data and builds the model, so that the first training step finds most of its
/// vector kernels compiled (ReadyToRun cannot precompile them: bench/results/cold-start.md).
/// </summary>
/// <remarks>
/// One profile per command (<c>classify.jitprofile</c>, ...) in a per-user cache folder keyed by the tool's version:
/// <c>$XDG_CACHE_HOME/neurite/jit-profile/VERSION</c> (else <c>~/.cache</c> on Linux, <c>~/Library/Caches</c> on
/// macOS, the local application data folder on Windows). The runtime writes the profile when the process ends and
/// ignores a missing, corrupt or half-written one; nothing here may fail the command: a folder that cannot be made
/// or written leaves the run without a profile. <see cref="OptOutVariable"/> turns it off. A new version's first run
/// removes the folders of versions not run for <see cref="StaleAfter"/>.
/// </remarks>
internal static class JitProfile
{
    /// <summary>Set to any value, no profile is read or written.</summary>
    public const string OptOutVariable = "NEURITE_NO_JIT_PROFILE";

    // The commands that train or predict; --help, --version and mistakes are over before a profile could pay.
    private static readonly string[] Commands = ["tutorial", "classify", "forecast", "summary", "predict", "evaluate"];

    /// <summary>
    /// Starts the profile for this process's command, if it has one; never throws. True when an earlier run's profile is
    /// there to play back (the runtime then compiles what that run compiled, its kernels included, on another core).
    /// </summary>
    public static bool Start(string[] args)
    {
        try
        {
            if (FileName(args) is not string file || Folder(Environment.GetEnvironmentVariable, ToolVersion) is not string folder) return false;
            if (!Directory.Exists(folder)) RemoveStaleVersions(Path.GetDirectoryName(folder)!, DateTime.UtcNow);
            Directory.CreateDirectory(folder);
            bool playsBack = HasRecording(folder, file);
            ProfileOptimization.SetProfileRoot(folder);
            ProfileOptimization.StartProfile(file);
            return playsBack;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // A read-only or unusable cache folder: the run goes on without a profile, as the runtime does for a bad one.
            return false;
        }
    }

    /// <summary>Whether <paramref name="folder"/> holds a recorded profile <paramref name="file"/> (not checked for being readable).</summary>
    internal static bool HasRecording(string folder, string file) => new FileInfo(Path.Combine(folder, file)) is { Exists: true, Length: > 0 };

    /// <summary>How long a version's profiles stay after its last run, once another version has started.</summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromDays(30);

    /// <summary>
    /// Deletes the folders under <paramref name="root"/> (one per tool version) whose files were all last written more
    /// than <see cref="StaleAfter"/> before <paramref name="now"/>, so that upgrades do not leave profiles behind forever;
    /// a version still in use beside another keeps its folder. Runs when a version makes its folder, once per version.
    /// </summary>
    internal static void RemoveStaleVersions(string root, DateTime now)
    {
        if (!Directory.Exists(root)) return;
        foreach (var version in new DirectoryInfo(root).EnumerateDirectories())
        {
            try
            {
                DateTime lastWrite = version.EnumerateFiles("*", SearchOption.AllDirectories)
                    .Select(f => f.LastWriteTimeUtc).DefaultIfEmpty(version.LastWriteTimeUtc).Max();
                if (now - lastWrite > StaleAfter) version.Delete(recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process using or removing it, or not ours to remove: it stays.
            }
        }
    }

    /// <summary>The profile's file name for the command in <paramref name="args"/>; null when it is not one that trains or predicts.</summary>
    internal static string? FileName(IReadOnlyList<string> args)
        => args.Count > 0 && Commands.Contains(args[0], StringComparer.Ordinal) ? args[0] + ".jitprofile" : null;

    /// <summary>
    /// The folder for <paramref name="version"/>'s profiles, from the environment <paramref name="variable"/> reads;
    /// null when <see cref="OptOutVariable"/> is set or no cache folder is known.
    /// </summary>
    internal static string? Folder(Func<string, string?> variable, string version)
    {
        if (!string.IsNullOrEmpty(variable(OptOutVariable))) return null;
        string? cache = variable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : variable("HOME") is { Length: > 0 } home && Path.IsPathFullyQualified(home)
                ? Path.Combine(home, OperatingSystem.IsMacOS() ? "Library/Caches" : ".cache")
                : null;
        return string.IsNullOrEmpty(cache) ? null : Path.Combine(cache, "neurite", "jit-profile", FolderName(version));
    }

    // "0.1.0+3f2a..." (Source Link's commit) names a folder on every file system as "0.1.0_3f2a...".
    private static string FolderName(string version)
        => new(version.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());

    private static string ToolVersion =>
        typeof(JitProfile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
