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
        var plan = Assert.IsType<EarlyPrewarm.ClassifyPlan>(EarlyPrewarm.Read(["classify", "data.csv", "--target", "y", "--hidden", "16,4", "--batch-size", "10", "--threads", "1", "--epochs", "60"]));
        Assert.Equal([16, 4], plan.Hidden);
        Assert.Equal(10, plan.BatchSize);
        Assert.Equal(1, plan.Threads);
        Assert.Equal(60, plan.Epochs);

        // The other spellings System.CommandLine takes, and the last of an option given twice.
        plan = Assert.IsType<EarlyPrewarm.ClassifyPlan>(EarlyPrewarm.Read(["classify", "data.csv", "--hidden=12", "--batch-size:7", "--threads", "3", "--threads", "2"]));
        Assert.Equal([12], plan.Hidden);
        Assert.Equal(7, plan.BatchSize);
        Assert.Equal(2, plan.Threads);
    }

    [Fact]
    public void Without_the_options_or_with_values_the_command_will_refuse_the_prewarm_takes_the_defaults()
    {
        var plan = Assert.IsType<EarlyPrewarm.ClassifyPlan>(EarlyPrewarm.Read(["classify", "data.csv", "--target", "y"]));
        Assert.Equal(ClassifyOptions.DefaultHidden, plan.Hidden);
        Assert.Equal(ClassifyOptions.DefaultBatchSize, plan.BatchSize);
        Assert.Null(plan.Threads);
        Assert.Equal(ClassifyOptions.DefaultEpochs, plan.Epochs);

        plan = Assert.IsType<EarlyPrewarm.ClassifyPlan>(EarlyPrewarm.Read(["classify", "data.csv", "--hidden", "8,x", "--batch-size", "-3", "--threads", "9999", "--target"]));
        Assert.Equal(ClassifyOptions.DefaultHidden, plan.Hidden);
        Assert.Equal(ClassifyOptions.DefaultBatchSize, plan.BatchSize);
        Assert.Null(plan.Threads);
    }

    [Fact]
    public void Forecast_prewarms_its_first_network_from_the_units_window_features_horizon_and_threads_given()
    {
        // The forecaster's defaults: 32 units, one step ahead, a window of at least 8.
        var plan = Assert.IsType<EarlyPrewarm.ForecastPlan>(EarlyPrewarm.Read(["forecast", "data.csv", "--column", "y"]));
        Assert.Equal((EarlyPrewarm.GuessedLookback, ForecastOptions.DefaultUnits, ForecastOptions.DefaultHorizon, (int?)null, 32),
            (plan.Inputs, plan.Units, plan.Horizon, plan.Threads, plan.BatchSize));

        // A window of --lookback steps of the column and of each feature (the column itself is not a feature twice).
        plan = Assert.IsType<EarlyPrewarm.ForecastPlan>(EarlyPrewarm.Read(
            ["forecast", "data.csv", "--column", "y", "--lookback", "12", "--features", "a,b,y", "--units=16", "--horizon:3", "--threads", "1"]));
        Assert.Equal((36, 16, 3, (int?)1), (plan.Inputs, plan.Units, plan.Horizon, plan.Threads));

        // Without --lookback the forecaster's window is a season and a bit, at least 8.
        plan = Assert.IsType<EarlyPrewarm.ForecastPlan>(EarlyPrewarm.Read(["forecast", "data.csv", "--column", "y", "--season", "12"]));
        Assert.Equal(13, plan.Inputs);
        plan = Assert.IsType<EarlyPrewarm.ForecastPlan>(EarlyPrewarm.Read(["forecast", "data.csv", "--column", "y", "--season", "4", "--units", "8,8"]));
        Assert.Equal((EarlyPrewarm.GuessedLookback, ForecastOptions.DefaultUnits), (plan.Inputs, plan.Units));
    }

    [Fact]
    public void The_forecast_stand_in_is_the_forecasters_network_with_the_batch_it_trains_on_fixed_and_names_of_its_own()
    {
        var standIn = new EarlyPrewarm.ForecastPlan(Inputs: 13, Units: 24, Horizon: 2, Threads: null).StandIn();
        var trained = Forecasting.NeuralEnsemble.CreateMember(13, 24, 2);
        Assert.Equal(Forecasting.NeuralEnsemble.BatchSize, standIn.FixedBatchSize);
        Assert.Null(trained.FixedBatchSize);
        Assert.Equal(trained.Layers.Count, standIn.Layers.Count);
        for (int i = 0; i < trained.Layers.Count; i++)
        {
            var (a, b) = (Assert.IsType<Dense>(standIn.Layers[i]), Assert.IsType<Dense>(trained.Layers[i]));
            Assert.Equal((b.Units, b.Activation.GetType(), b.UseBias), (a.Units, a.Activation.GetType(), a.UseBias));
            Assert.Equal(b.InputShape, a.InputShape);
            Assert.StartsWith(EarlyPrewarm.StandInName + "_", a.Name, StringComparison.Ordinal);
            Assert.DoesNotContain(EarlyPrewarm.StandInName, b.Name, StringComparison.Ordinal);
        }
        Assert.Equal([13], standIn.Layers[0].InputShape);
        Assert.Equal(2, standIn.Layers[^1].OutputShape[^1]);
        Assert.Equal(trained.Loss!.GetType(), standIn.Loss!.GetType());
        Assert.Equal((trained.Optimizer!.GetType(), trained.Optimizer.LearningRate), (standIn.Optimizer!.GetType(), standIn.Optimizer.LearningRate));
        Assert.Equal(EarlyPrewarm.StandInName, standIn.Name);
    }

    /// <summary>
    /// After its prewarm each stand-in is fitted as its command fits its model, in two epochs of four steps each validated.
    /// classify's: 50 rows with a validation fifth split off (10), so 40 training rows in batches of 24 (a whole batch and
    /// one of 16). forecast's, as the forecaster fits a member: 40 rows in batches of 32 (a whole batch and one of 8),
    /// validated on 20 rows. Zero inputs through zero biases give a uniform softmax and zero outputs, so the cross-entropy
    /// and the MSE against zero targets are exactly 0 every epoch.
    /// </summary>
    [Theory]
    [InlineData("classify")]
    [InlineData("forecast")]
    public void The_stand_in_trains_two_epochs_with_a_short_batch_and_validates_each(string command)
    {
        var plan = StandInPlan(command);
        Assert.Equal((2, 40, 20, 50), (EarlyPrewarm.StandInEpochs, EarlyPrewarm.StandInRows, EarlyPrewarm.StandInValidationRows, EarlyPrewarm.ClassifyStandInRows));
        var standIn = EarlyPrewarm.PrewarmAndTrain(plan);
        Assert.StartsWith(EarlyPrewarm.StandInName, standIn.Name, StringComparison.Ordinal);
        Assert.True(4 == standIn.Optimizer!.Iterations, $"{command}: {standIn.Optimizer.Iterations} steps");
        var history = standIn.History!.Values;
        Assert.Equal([0.0, 0.0], history["loss"]);
        Assert.Equal([0.0, 0.0], history["val_loss"]);
        Assert.Same(TextWriter.Null, standIn.Output);
    }

    /// <summary>
    /// Each stand-in shuffles from a generator seeded on a flow of its own (both commands seed theirs): the caller's seeded
    /// sequence goes on as if the stand-in had not trained (its weights, drawn when it is built, come from the caller's
    /// generator: in the tool the early prewarm's thread, never seeded).
    /// </summary>
    [Theory]
    [InlineData("classify")]
    [InlineData("forecast")]
    public void The_stand_in_seeds_a_flow_of_its_own_and_leaves_the_callers_sequence_as_it_was(string command)
    {
        var plan = StandInPlan(command);
        var standIn = plan.StandIn();
        standIn.Output = TextWriter.Null;
        const int seed = 5;
        NeuriteRandom.SetSeed(seed);
        double[] expected = [NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble()];
        NeuriteRandom.SetSeed(seed);
        double first = NeuriteRandom.NextDouble();
        // Two epochs: two shuffles, which drew from this flow's generator when the stand-in had none of its own.
        plan.Train(standIn);
        Assert.Equal(2, standIn.History!.Epoch.Count);
        Assert.True(expected.SequenceEqual([first, NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble()]), $"{command}: the caller's sequence moved");
    }

    private static EarlyPrewarm.Plan StandInPlan(string command) => command == "classify"
        ? new EarlyPrewarm.ClassifyPlan([10, 6], 24, Threads: null)
        : new EarlyPrewarm.ForecastPlan(Inputs: 13, Units: 24, Horizon: 2, Threads: null);

    /// <summary>forecast's and classify's early prewarms run beside a played-back profile too; no other command has one.</summary>
    [Fact]
    public void The_training_commands_early_prewarm_runs_beside_a_played_back_profile()
    {
        Assert.True(EarlyPrewarm.BesideProfile(["forecast", "data.csv", "--column", "y"]));
        Assert.True(EarlyPrewarm.BesideProfile(["classify", "data.csv", "--target", "y"]));
        Assert.False(EarlyPrewarm.BesideProfile(["tutorial"]));
        Assert.False(EarlyPrewarm.BesideProfile([]));
    }

    /// <summary>
    /// The short batch lengths the stand-ins are prewarmed for: every length from 1 to the tallest register tile, the
    /// tallest first (the tiles of 6 to 12 rows also serve every short batch of 13 to 31 rows).
    /// </summary>
    /// <summary>
    /// Once the command has started the prewarm of its exact short batches, the stand-in's guessed lengths stop: fitted with
    /// that signal already given, the stand-in is prewarmed for its whole batch only; without it, for every length 1 to 12
    /// as well. (Stand-ins of widths no other test uses: the prewarms started are counted per process.)
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_stand_ins_guessed_short_batches_stop_once_the_command_knows_its_own(bool known)
    {
        using var stop = new CancellationTokenSource();
        if (known) stop.Cancel();
        // Widths of each case's own: the other case's prewarms are not counted here whichever runs first.
        int width = known ? 19 : 18, batch = 26;
        var standIn = EarlyPrewarm.PrewarmAndTrain(new EarlyPrewarm.ClassifyPlan([width, 7], batch, Threads: null, Epochs: 3), stop.Token);
        string signature = $"|Dense:{width}>{width}:";
        var prewarmed = Neurite.Backends.Cpu.CpuBackend.StartedPrewarms.Where(k => k.Contains(signature, StringComparison.Ordinal))
            .Select(k => int.Parse(k.Split('|')[0].Split('/')[2], System.Globalization.CultureInfo.InvariantCulture)).Where(b => b == batch || b <= 12).Distinct().Order();
        Assert.Equal(2, standIn.History!.Epoch.Count);
        if (Neurite.Backends.Cpu.Kernels.KernelSelector.Best == Neurite.Backends.Cpu.Kernels.KernelPath.Scalar)
        {
            // Without a vector path there is nothing to compile ahead: no prewarm runs at all.
            Assert.Empty(prewarmed);
            return;
        }
        Assert.Equal(known ? [batch] : [.. Enumerable.Range(1, 12), batch], prewarmed);
    }

    [Fact]
    public void Forecasts_short_batch_prewarm_takes_every_tile_height_once_the_tallest_first()
    {
        Assert.Equal(new[] { 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }, EarlyPrewarm.ShortBatchPrewarmOrder);
        Assert.Equal(Backends.Cpu.Kernels.GemmMicroKernels.MaxRowsV512, EarlyPrewarm.ShortBatchPrewarmRows);
    }

    [Theory]
    [InlineData("forecast", "--help")]
    [InlineData("forecast", "data.csv", "--column", "y", "--device", "cuda")]
    [InlineData("forecast", "data.csv", "--column", "y", "--batch-size", "16")]
    [InlineData("forecast", "data.csv", "--column", "y", "--stateful")]
    [InlineData("forecast", "data.csv", "--column", "y", "--units", "4096", "--lookback", "100000")]
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
        Assert.Null(EarlyPrewarm.Start(["forecast", "--version"]));
    }

    [Fact]
    public void The_stand_in_is_the_model_classify_trains_with_the_guessed_widths_the_fixed_batch_and_names_of_its_own()
    {
        var standIn = new EarlyPrewarm.ClassifyPlan([16, 4], ClassifyBatchSize: 10, Threads: null).StandIn();
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

    /// <summary>
    /// A version's first forecast runs the early prewarm alone (no profile to play back); the next one plays the first
    /// one's profile back beside it. Both print the same JSON and write the same report, forecasts and model, byte for byte.
    /// </summary>
    [Fact]
    public async Task A_forecast_with_the_early_prewarm_prints_and_writes_the_same_bytes_as_one_without()
    {
        var (data, _) = _kit.SeasonalSeries(rows: 160);
        string cache = _kit.PathOf("cache"), report = _kit.PathOf("report"), model = _kit.PathOf("model.keras");
        string[] args = ["forecast", data, "--column", "value", "--ensemble", "2", "--epochs", "15", "--out", report, "--save", model, "--json"];
        Assert.IsType<EarlyPrewarm.ForecastPlan>(EarlyPrewarm.Read(args));
        string ProfileFolder() => Path.Combine(cache, "neurite", "jit-profile");
        async Task<Dictionary<string, byte[]>> Forecast()
        {
            var (code, output, error) = await CommandTestKit.RunProcessAsync(
                new Dictionary<string, string> { ["XDG_CACHE_HOME"] = cache, [JitProfile.OptOutVariable] = "" }, args);
            Assert.True(code == CliApp.Success, error);
            var written = Directory.GetFiles(report).ToDictionary(f => "report/" + Path.GetFileName(f), File.ReadAllBytes);
            written["stdout"] = System.Text.Encoding.UTF8.GetBytes(output);
            // The .keras archive's metadata holds the time it was saved, and the recipe that archive's SHA-256: the rest must match.
            var recipe = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(model + ModelRecipe.SidecarSuffix))!.AsObject();
            Assert.True(recipe.Remove("model_sha256"), "the recipe names no model_sha256");
            written["recipe"] = System.Text.Encoding.UTF8.GetBytes(recipe.ToJsonString());
            using var zip = System.IO.Compression.ZipFile.OpenRead(model);
            foreach (var entry in zip.Entries.Where(e => e.Name != "metadata.json"))
            {
                using var stream = entry.Open();
                using var bytes = new MemoryStream();
                stream.CopyTo(bytes);
                written["model/" + entry.FullName] = bytes.ToArray();
            }
            Directory.Delete(report, recursive: true);
            return written;
        }

        Assert.False(Directory.Exists(ProfileFolder()));
        var withEarlyPrewarm = await Forecast();
        string profile = Assert.Single(Directory.GetFiles(ProfileFolder(), "forecast.jitprofile", SearchOption.AllDirectories));
        Assert.True(JitProfile.HasRecording(Path.GetDirectoryName(profile)!, "forecast.jitprofile"), "the first run left no profile, so the second would prewarm early too");
        var withoutIt = await Forecast();

        Assert.Equal(withEarlyPrewarm.Keys.Order(), withoutIt.Keys.Order());
        Assert.Contains("report/index.html", withEarlyPrewarm.Keys);
        Assert.Contains("model/config.json", withEarlyPrewarm.Keys);
        foreach (var (name, bytes) in withEarlyPrewarm)
            Assert.True(bytes.AsSpan().SequenceEqual(withoutIt[name]), $"{name} differs between the run with the early prewarm and the one without");
    }

    /// <summary>
    /// classify's stand-in with the data's widths fits as many rows as the command's Fit, so the same short batches, up to
    /// 16 batches an epoch, and at least the guessed stand-in's 50 where the data has them (hand-derived).
    /// </summary>
    [Theory]
    [InlineData(478, 32, 478)]      // BreastCancer: 382 + 96 rows, under 16 x 32 = 512
    [InlineData(105, 32, 105)]      // iris
    [InlineData(10_000, 32, 512)]   // 16 batches of 32
    [InlineData(10_000, 2, 50)]     // 16 x 2 = 32 rows: the guessed stand-in's 50
    [InlineData(20, 2, 20)]         // fewer rows than that: all of them
    public void The_exact_stand_in_has_the_datas_widths_and_fits_its_rows_up_to_sixteen_batches(int trainRows, int batch, int rows)
    {
        var plan = EarlyPrewarm.ExactClassifyPlan([8, 5], batch, epochs: 200, inputs: 89, classes: 2, trainRows);
        Assert.NotNull(plan);
        Assert.Equal(rows, plan.Rows);
        Assert.Equal(batch, plan.BatchSize);
        Assert.Equal(200, plan.Epochs);
        var standIn = plan.StandIn();
        Assert.Equal(89, standIn.Layers[0].InputShape[^1]);
        Assert.Equal(2, standIn.Layers[^1].OutputShape[^1]);
        Assert.StartsWith("early_prewarm_", standIn.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void No_exact_stand_in_is_built_for_a_model_or_rows_too_large_to_build_in_passing()
    {
        // 1 << 22 values in one matrix is the most: 2^21 inputs x 4 units is twice that; 512 rows x 2^14 inputs is 2^23.
        Assert.Null(EarlyPrewarm.ExactClassifyPlan([4], 32, 200, inputs: 1 << 21, classes: 2, trainRows: 100));
        Assert.Null(EarlyPrewarm.ExactClassifyPlan([4], 32, 200, inputs: 1 << 14, classes: 2, trainRows: 1000));
        Assert.NotNull(EarlyPrewarm.ExactClassifyPlan([4], 32, 200, inputs: 1 << 12, classes: 2, trainRows: 1000));
    }

    /// <summary>
    /// The exact stand-in is built and fitted on a thread that takes no flow from the command: its weights and shuffles
    /// draw nothing from the command's seeded generator, whose sequence goes on as if it had not run. (Had the thread taken
    /// the caller's flow, it would share the caller's generator: the stand-in's weights alone take 89 x 8 + 8 x 5 + 5 x 2 draws.)
    /// </summary>
    [Fact]
    public void The_exact_stand_in_trains_on_a_flow_of_its_own_and_leaves_the_commands_seeded_sequence_as_it_was()
    {
        const int seed = 11;
        NeuriteRandom.SetSeed(seed);
        double[] expected = [NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble()];
        NeuriteRandom.SetSeed(seed);
        double first = NeuriteRandom.NextDouble();
        var thread = EarlyPrewarm.StartExact(EarlyPrewarm.ExactClassifyPlan([8, 5], 32, 200, inputs: 89, classes: 2, trainRows: 100));
        Assert.NotNull(thread);
        Assert.True(thread.Join(TimeSpan.FromMinutes(2)), "the exact stand-in did not finish");
        Assert.True(expected.SequenceEqual([first, NeuriteRandom.NextDouble(), NeuriteRandom.NextDouble()]), "the caller's sequence moved");
    }
}
