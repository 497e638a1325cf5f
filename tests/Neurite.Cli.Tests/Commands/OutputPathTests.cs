using System.Diagnostics;
using System.Text.Json.Nodes;
using Neurite.Cli.Commands;

namespace Neurite.Cli.Tests.Commands;

/// <summary>A test that needs Linux (named pipes made with mkfifo, file types from statx); elsewhere it is skipped, saying so.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux: it makes a named pipe with mkfifo, and file types come from statx";
    }
}

/// <summary>Where the commands write: through links, into pipes and devices, checked before training, and as whole pairs.</summary>
public sealed class OutputPathTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private const string TwoClasses = "x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n9,a\n10,b\n";

    private string Train(string model, string seed = "17")
    {
        var (code, _, error) = CommandTestKit.Run("classify", _kit.Write("train.csv", TwoClasses), "--target", "y", "--epochs", "1", "--seed", seed,
            "--out", _kit.PathOf("r-" + Guid.NewGuid().ToString("N")), "--save", model);
        Assert.True(code == 0, error);
        return model;
    }

    private static void UsageError((int Code, string Output, string Error) run, string expected)
    {
        Assert.Equal(CliApp.UsageError, run.Code);
        Assert.Contains(expected, run.Error);
        Assert.Single(run.Error.TrimEnd().Split('\n'), l => l.StartsWith("neurite", StringComparison.Ordinal));
    }

    [Fact]
    public void Predictions_written_to_a_symbolic_link_land_in_its_target_and_the_link_stays()
    {
        string model = Train(_kit.PathOf("m.keras"));
        string target = _kit.Write("real.csv", "old\n");
        string link = _kit.PathOf("link.csv");
        File.CreateSymbolicLink(link, target);
        var run = CommandTestKit.Run("predict", model, _kit.PathOf("train.csv"), "--out", link);
        Assert.True(run.Code == 0, run.Error);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.StartsWith("line,predicted", File.ReadAllText(target));
    }

    [Fact]
    public void A_model_saved_to_a_symbolic_link_replaces_its_target_and_loads_through_the_link()
    {
        string target = _kit.PathOf("real.keras");
        Train(target, "1");
        string link = _kit.PathOf("link.keras");
        File.CreateSymbolicLink(link, target);
        Train(link, "2");
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        var run = CommandTestKit.Run("predict", link, _kit.PathOf("train.csv"));
        Assert.True(run.Code == 0, run.Error);
    }

    [LinuxFact]
    public void Predictions_go_into_a_character_device_through_a_link_without_replacing_anything()
    {
        string model = Train(_kit.PathOf("m.keras"));
        string link = _kit.PathOf("null.csv");
        File.CreateSymbolicLink(link, "/dev/null");
        var run = CommandTestKit.Run("predict", model, _kit.PathOf("train.csv"), "--out", link);
        Assert.True(run.Code == 0, run.Error);
        Assert.Equal("/dev/null", new FileInfo(link).LinkTarget);
        Assert.Equal(OutputFile.Kind.Stream, OutputFile.KindOf("/dev/null"));
    }

    [LinuxFact]
    public async Task Predictions_go_into_a_named_pipe_which_stays_a_pipe()
    {
        string model = Train(_kit.PathOf("m.keras"));
        string fifo = MakeFifo("pipe.csv");
        var reader = Task.Run(() => File.ReadAllText(fifo));
        var run = CommandTestKit.Run("predict", model, _kit.PathOf("train.csv"), "--out", fifo);
        Assert.True(run.Code == 0, run.Error);
        string received = await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("line,predicted", received);
        Assert.Equal(OutputFile.Kind.Stream, OutputFile.KindOf(fifo));
        // The pipe may be standard output itself (/dev/stdout), so the progress lines go to standard error.
        Assert.Equal("", run.Output);
        Assert.Contains("rows classified", run.Error);
    }

    [LinuxFact]
    public void A_model_is_not_saved_into_a_named_pipe()
    {
        string fifo = MakeFifo("pipe.keras");
        var run = CommandTestKit.Run("classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--epochs", "1", "--out", _kit.PathOf("r"), "--save", fifo);
        UsageError(run, "is not a regular file");
        Assert.Equal(OutputFile.Kind.Stream, OutputFile.KindOf(fifo));
        Assert.False(Directory.Exists(_kit.PathOf("r")), "training ran before the check");
    }

    [LinuxFact]
    public async Task Data_read_from_a_named_pipe_is_read_once_and_whole()
    {
        // As from a shell's <(zcat data.csv.gz): a pipe cannot be opened twice, so no check may read it first.
        string fifo = MakeFifo("rows.csv");
        var writer = Task.Run(() => File.WriteAllText(fifo, TwoClasses));
        var (code, output, error) = CommandTestKit.Run("classify", fifo, "--target", "y", "--epochs", "1", "--out", _kit.PathOf("r"), "--json");
        Assert.True(code == 0, error);
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(10, CommandTestKit.Json(output).GetProperty("rows").GetInt32());
    }

    private string MakeFifo(string name)
    {
        string path = _kit.PathOf(name);
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    [Theory]
    [InlineData("--out", "absent/report")]
    [InlineData("--save", "absent/model.keras")]
    public void Outputs_in_a_missing_folder_are_refused_before_training(string option, string relative)
    {
        string path = _kit.PathOf(relative);
        string[] args = option == "--out"
            ? ["classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--epochs", "1", "--out", path]
            : ["classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--epochs", "1", "--out", _kit.PathOf("r"), option, path];
        UsageError(CommandTestKit.Run(args), "which does not exist");
        Assert.False(Directory.Exists(_kit.PathOf("absent")));
        Assert.False(Directory.Exists(_kit.PathOf("r")), "the report was written");
    }

    [Fact]
    public void Predictions_into_a_missing_folder_are_refused_before_reading()
    {
        string model = Train(_kit.PathOf("m.keras"));
        UsageError(CommandTestKit.Run("predict", model, _kit.PathOf("train.csv"), "--out", _kit.PathOf("absent/p.csv")), "which does not exist");
    }

    [Fact]
    public void A_report_into_an_existing_folder_replaces_its_files_and_leaves_others_and_no_staging()
    {
        string report = _kit.PathOf("report");
        Directory.CreateDirectory(report);
        File.WriteAllText(Path.Combine(report, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(report, "predictions.csv"), "old");
        var run = CommandTestKit.Run("classify", _kit.Write("t.csv", TwoClasses), "--target", "y", "--epochs", "1", "--out", report);
        Assert.True(run.Code == 0, run.Error);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(report, "notes.txt")));
        Assert.StartsWith("line,split,y,predicted", File.ReadAllText(Path.Combine(report, "predictions.csv")));
        Assert.True(File.Exists(Path.Combine(report, "index.html")));
        Assert.Empty(Directory.GetFileSystemEntries(report, ".*"));
        Assert.Empty(Directory.GetFileSystemEntries(_kit.Folder, ".*tmp*"));
    }

    [Fact]
    public void A_preprocessing_file_from_another_model_of_the_same_shape_is_refused()
    {
        string first = Train(_kit.PathOf("first.keras"), "1");
        string second = Train(_kit.PathOf("second.keras"), "2");
        File.Copy(second + ".neurite.json", first + ".neurite.json", overwrite: true);
        foreach (var command in new[] { "predict", "evaluate", "summary" })
        {
            string[] args = command == "summary" ? [command, first] : [command, first, _kit.PathOf("train.csv")];
            UsageError(CommandTestKit.Run(args), "do not belong together");
        }
    }

    [Fact]
    public void A_model_file_replaced_after_its_preprocessing_was_saved_is_refused()
    {
        // What a save killed between its two renames leaves: the new model beside the old preprocessing.
        string first = Train(_kit.PathOf("first.keras"), "1");
        string second = Train(_kit.PathOf("second.keras"), "2");
        File.Copy(second, first, overwrite: true);
        UsageError(CommandTestKit.Run("predict", first, _kit.PathOf("train.csv")), "do not belong together");
    }

    [Fact]
    public void A_preprocessing_file_without_the_model_fingerprint_is_refused()
    {
        string model = Train(_kit.PathOf("m.keras"));
        var recipe = JsonNode.Parse(File.ReadAllText(model + ".neurite.json"))!.AsObject();
        Assert.True(recipe.Remove("model_sha256"), "the recipe records no model_sha256");
        File.WriteAllText(model + ".neurite.json", recipe.ToJsonString());
        UsageError(CommandTestKit.Run("predict", model, _kit.PathOf("train.csv")), "does not record which model file");
    }

    [Fact]
    public async Task Concurrent_saves_to_one_path_end_as_one_consistent_pair()
    {
        string path = _kit.PathOf("shared.keras");
        string data = _kit.Write("wide.csv", "f0,f1,f2,f3,f4,f5\n1,2,3,4,5,6\n");
        var output = new CommandOutput(TextWriter.Null, TextWriter.Null, json: false);
        for (int round = 0; round < 10; round++)
        {
            // Models of 1 to 6 inputs: a model paired with another's preprocessing would not even have its shape.
            var saves = Enumerable.Range(1, 6).Select(width => Task.Run(() =>
            {
                var features = Enumerable.Range(0, width).Select(j => new FeatureRecipe($"f{j}", FeatureRecipe.Numeric)).ToArray();
                var recipe = new ModelRecipe { Task = "classify", Classify = new ClassifyRecipe("y", ["a", "b"], features, "a") };
                CommandChecks.SaveModel(ClassifyCommand.BuildModel(width, [3], 2), recipe, path, output);
            })).ToArray();
            await Task.WhenAll(saves);
            var run = CommandTestKit.Run("predict", path, data);
            Assert.True(run.Code == 0, $"round {round}: {run.Error}");
        }
        Assert.Empty(Directory.GetFiles(_kit.Folder, "*.tmp*"));
    }
}
