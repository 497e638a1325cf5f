using System.CommandLine;
using Neurite.Backends;

namespace Neurite.Cli.Commands;

/// <summary>
/// <c>--device cpu|cuda</c> on the training commands: chooses the backend for the run and puts the CPU back
/// after it. A GPU that cannot be used is one line naming what is missing (driver, cuBLAS, device) and the
/// fix, exit code 2; the run never falls back to the CPU on its own.
/// </summary>
internal static class DeviceChoice
{
    public const string Cpu = "cpu", Cuda = "cuda";

    public static Option<string> CreateOption()
    {
        var option = new Option<string>("--device")
        {
            Description = "Where to train: cpu (default) or cuda (an NVIDIA GPU with its driver and cuBLAS 12 or 13).",
            DefaultValueFactory = _ => Cpu,
            HelpName = "cpu|cuda",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                string device = token.Trim().ToLowerInvariant();
                if (device is Cpu or Cuda) return device;
                result.AddError($"--device must be cpu or cuda; received '{token}'. Use --device cuda for an NVIDIA GPU, or leave it out for the CPU.");
                return Cpu;
            },
        };
        return option;
    }

    /// <summary>Runs <paramref name="run"/> on the chosen device; false, with the problem written, when the device cannot be used.</summary>
    public static bool TryRunOn(string? device, string command, TextWriter error, Action run)
    {
        try
        {
            Backend.Use(device ?? Cpu);
        }
        catch (NeuriteException e)
        {
            error.WriteLine($"neurite {command}: {e.Message}");
            return false;
        }
        try
        {
            run();
        }
        finally
        {
            Backend.Use(Cpu);
        }
        return true;
    }
}
