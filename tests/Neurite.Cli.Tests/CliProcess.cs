using System.Diagnostics;

namespace Neurite.Cli.Tests;

/// <summary>Starts the built neurite command (Neurite.Cli.dll beside the tests) as a child process, as a user runs it.</summary>
internal static class CliProcess
{
    public static Process Start(params string[] args) => Start(throughSignalRelay: false, args);

    /// <summary>
    /// Starts neurite so that it can receive SIGINT even where this test process ignores it. A process started in
    /// the background by a non-interactive shell (as CI scripts often are) inherits SIGINT ignored, and its children
    /// inherit that too, so neurite would never see the signal. GNU timeout installs its own SIGINT handler, so the
    /// command it starts begins with the default disposition, and with --foreground it relays a SIGINT sent to it to
    /// that command alone. The returned process is timeout's; its exit code is neurite's.
    /// </summary>
    public static Process StartReceivingSigint(params string[] args) =>
        File.Exists(SignalRelay) ? Start(throughSignalRelay: true, args) : Start(args);

    private const string SignalRelay = "/usr/bin/timeout";

    private static Process Start(bool throughSignalRelay, string[] args)
    {
        // The dotnet CLI names its own host for child processes; a test host started otherwise runs under dotnet itself.
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var info = new ProcessStartInfo(throughSignalRelay ? SignalRelay : host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // No JIT profile in the user's cache folder from a test (JitProfileTests start the command themselves).
        info.Environment[JitProfile.OptOutVariable] = "1";
        if (throughSignalRelay)
            foreach (var a in new[] { "--foreground", "600", host }) info.ArgumentList.Add(a);
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Neurite.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {host}.");
    }

    /// <summary>Runs to the end (at most <paramref name="timeout"/>) and returns the exit code and both outputs.</summary>
    public static (int Code, string Output, string Error) Run(TimeSpan timeout, params string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"neurite {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
