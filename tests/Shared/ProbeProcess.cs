using System.Diagnostics;

namespace Neurite.Tests.Shared;

/// <summary>Runs a test assembly's own entry point in a fresh process, as the neurite tool's runtime settings would.</summary>
internal static class ProbeProcess
{
    /// <summary>Runs <c>dotnet exec ASSEMBLY ARGUMENTS</c> from the test output folder; returns its exit code and its output and error text.</summary>
    public static (int Code, string Output) Run(string assembly, params string[] arguments)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "exec", Path.Combine(AppContext.BaseDirectory, assembly) }.Concat(arguments))
            info.ArgumentList.Add(a);
        // As the neurite tool runs (its runtimeconfig): methods with loops are compiled optimised on their first call.
        info.Environment["DOTNET_TC_QuickJitForLoops"] = "0";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {host}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The probe '{string.Join(' ', arguments)}' did not finish within 120 s.");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
