using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Neurite.Cli.Tests.Commands;

/// <summary>A temporary folder with generated CSVs, and a way to run the command line in-process.</summary>
public sealed class CommandTestKit : IDisposable
{
    public CommandTestKit()
    {
        Folder = Path.Combine(Path.GetTempPath(), "neurite-commands-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    public string Write(string name, string content)
    {
        string path = PathOf(name);
        File.WriteAllText(path, content);
        return path;
    }

    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the built command in a child process with extra environment variables.</summary>
    public static async Task<(int Code, string Output, string Error)> RunProcessAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Neurite.Cli.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // No JIT profile in the user's cache folder from a test, unless the test sets where it goes.
        start.Environment[JitProfile.OptOutVariable] = "1";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    public static JsonElement Json(string output) => JsonDocument.Parse(output).RootElement;

    /// <summary>
    /// Two classes that a line separates: "a" rows have x1 around +2, "b" rows around −2 (sd 0.7), so the classes
    /// overlap in under 0.5% of rows. Class "a" is 60% of the rows; x2 and colour are noise.
    /// </summary>
    public string SeparableTable(string name = "classes.csv", int rows = 150)
    {
        var rng = new System.Random(5);
        var csv = new StringBuilder("x1,x2,colour,label\n");
        for (int i = 0; i < rows; i++)
        {
            bool a = rng.NextDouble() < 0.6;
            double x1 = (a ? 2 : -2) + 0.7 * Gaussian(rng), x2 = Gaussian(rng);
            csv.Append(F(x1)).Append(',').Append(F(x2)).Append(',').Append(rng.NextDouble() < 0.5 ? "red" : "blue").Append(',').Append(a ? "a" : "b").Append('\n');
        }
        return Write(name, csv.ToString());
    }

    /// <summary>A seasonal series y = 10 + 3 sin(2πt/12) + noise (sd <paramref name="noise"/>), with dates.</summary>
    public (string Path, double[] Values) SeasonalSeries(string name = "series.csv", int rows = 240, double noise = 0.1)
    {
        var rng = new System.Random(9);
        var csv = new StringBuilder("day,value\n");
        var values = new double[rows];
        var start = new DateTime(2021, 1, 1);
        for (int t = 0; t < rows; t++)
        {
            values[t] = Math.Round(10 + 3 * Math.Sin(2 * Math.PI * t / 12) + noise * Gaussian(rng), 4);
            csv.Append(start.AddDays(t).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',').Append(F(values[t])).Append('\n');
        }
        return (Write(name, csv.ToString()), values);
    }

    private static double Gaussian(System.Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}
