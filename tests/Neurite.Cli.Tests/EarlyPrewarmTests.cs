using Neurite.Cli.Commands;
using Neurite.Cli.Tests.Commands;
using Neurite.Layers;

namespace Neurite.Cli.Tests;

/// <summary>
/// The early prewarm (<see cref="EarlyPrewarm"/>): what it reads off a command line, that its stand-in is the model the
/// command trains but for the widths only the data tells, and that it changes nothing a run writes. (Whether it makes
/// the first steps faster is a timing: bench/results/cold-start-s6.md.)
/// </summary>
public sealed class EarlyPrewarmTests : IDisposable
{
    private readonly CommandTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void Classify_prewarms_the_models_hidden_layers_batch_size_and_threads_as_its_options_give_them()
    {
        var plan = EarlyPrewarm.Read(["classify", "data.csv", "--target", "y", "--hidden", "16,4", "--batch-size", "10", "--threads", "1"]);
        Assert.NotNull(plan);
        Assert.Equal([16, 4], plan.Hidden);
        Assert.Equal(10, plan.BatchSize);
        Assert.Equal(1, plan.Threads);

        // The other spellings System.CommandLine takes, and the last of an option given twice.
        plan = EarlyPrewarm.Read(["classify", "data.csv", "--hidden=12", "--batch-size:7", "--threads", "3", "--threads", "2"]);
        Assert.Equal([12], plan!.Hidden);
        Assert.Equal(7, plan.BatchSize);
        Assert.Equal(2, plan.Threads);
    }

    [Fact]
    public void Without_the_options_or_with_values_the_command_will_refuse_the_prewarm_takes_the_defaults()
    {
        var plan = EarlyPrewarm.Read(["classify", "data.csv", "--target", "y"]);
        Assert.Equal(ClassifyOptions.DefaultHidden, plan!.Hidden);
        Assert.Equal(ClassifyOptions.DefaultBatchSize, plan.BatchSize);
        Assert.Null(plan.Threads);

        plan = EarlyPrewarm.Read(["classify", "data.csv", "--hidden", "8,x", "--batch-size", "-3", "--threads", "9999", "--target"]);
        Assert.Equal(ClassifyOptions.DefaultHidden, plan!.Hidden);
        Assert.Equal(ClassifyOptions.DefaultBatchSize, plan.BatchSize);
        Assert.Null(plan.Threads);
    }

    [Theory]
    [InlineData("forecast", "data.csv", "--column", "y")]
    [InlineData("tutorial", "--quick")]
    [InlineData("classify", "--help")]
    [InlineData("classify", "data.csv", "--target", "y", "--device", "cuda")]
    [InlineData("classify", "data.csv", "--target", "y", "--hidden", "100000,100000")]
    [InlineData("--version")]
    public void Nothing_is_prewarmed_for_a_command_that_trains_no_MLP_on_the_CPU_now(params string[] args)
    {
        Assert.Null(EarlyPrewarm.Read(args));
    }

    [Fact]
    public void An_empty_command_line_or_one_it_cannot_read_starts_nothing_and_does_not_throw()
    {
        Assert.Null(EarlyPrewarm.Start([]));
        Assert.Null(EarlyPrewarm.Start(["classify", "--help"]));
    }

    [Fact]
    public void The_stand_in_is_the_model_classify_trains_with_the_guessed_widths_the_fixed_batch_and_names_of_its_own()
    {
        var plan = new EarlyPrewarm.Plan([16, 4], BatchSize: 10, Threads: null);
        var standIn = EarlyPrewarm.StandIn(plan);
        var trained = ClassifyCommand.BuildModel(16, [16, 4], EarlyPrewarm.GuessedClasses);
        Assert.Equal(10, standIn.FixedBatchSize);
        Assert.Null(trained.FixedBatchSize);
        Assert.Equal(trained.Layers.Count, standIn.Layers.Count);
        for (int i = 0; i < trained.Layers.Count; i++)
        {
            var (a, b) = (Assert.IsType<Dense>(standIn.Layers[i]), Assert.IsType<Dense>(trained.Layers[i]));
            Assert.Equal(b.Units, a.Units);
            Assert.Equal(b.Activation.GetType(), a.Activation.GetType());
            Assert.Equal(b.InputShape, a.InputShape);
            Assert.StartsWith("early_prewarm_", a.Name, StringComparison.Ordinal);
        }
        Assert.Equal(16, standIn.Layers[0].InputShape[^1]);
        Assert.Equal(EarlyPrewarm.GuessedClasses, standIn.Layers[^1].OutputShape[^1]);
        Assert.Equal(trained.Loss!.GetType(), standIn.Loss!.GetType());
        Assert.Equal(trained.Optimizer!.GetType(), standIn.Optimizer!.GetType());
        Assert.StartsWith("early_prewarm_", standIn.Name, StringComparison.Ordinal);
    }

    /// <summary>
    /// The stand-in is built in the tool's process before the real model: had it taken the default names, the report's
    /// model summary would read sequential_1 and dense_3 instead of sequential and dense.
    /// </summary>
    [Fact]
    public async Task A_run_of_the_tool_names_its_model_as_without_the_stand_in()
    {
        string data = _kit.SeparableTable(rows: 60);
        string report = _kit.PathOf("report");
        var (code, _, error) = await CommandTestKit.RunProcessAsync(new Dictionary<string, string>(),
            "classify", data, "--target", "label", "--epochs", "2", "--threads", "1", "--out", report);
        Assert.True(code == CliApp.Success, error);
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("Model: &quot;sequential&quot;", html);
        Assert.Contains("dense (Dense)", html);
        Assert.Contains("dense_2 (Dense)", html);
        Assert.DoesNotContain("early_prewarm", html);
    }
}
