using System.Text.Json;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

/// <summary>
/// Optimizer trajectories against Keras 3's update rules, written out independently in plain Python by
/// tests/fixtures/optimizers/make_fixtures.py (committed beside the JSON). Weights of 67 and 131 elements run
/// every vector width's blocks and the scalar tail; gradients spanning 1e-8..1 make epsilon decide many
/// elements, so the paper's (or PyTorch's) epsilon placement, or none, fails these tests.
/// </summary>
public class OptimizerFixtureTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        var path = Path.Combine(IO.Fixtures.RepoRoot, "tests", "fixtures", "optimizers", "optimizer_fixtures.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases").EnumerateArray().ToArray();
    });

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Value) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    public static TheoryData<string> RangeUpdateCaseNames() => ["adam", "adam_amsgrad"];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Trajectory_matches_keras_update_rules(string name)
    {
        var c = Case(name);
        var optimizer = Create(c);
        var parameters = Initial(c);
        var gradients = Steps(c, "gradients");
        var expected = Steps(c, "expected");
        for (int step = 0; step < gradients.Length; step++)
        {
            for (int p = 0; p < parameters.Length; p++) SetGradient(parameters[p], gradients[step][p]);
            optimizer.Apply(parameters);
            AssertWeights(c, expected[step], parameters, $"{name} step {step + 1}");
        }
        Assert.Equal(gradients.Length, optimizer.Iterations);

        // The fixture discriminates: each other epsilon placement (or no clipping, no AMSGrad) ends far away.
        foreach (var alternative in c.GetProperty("alternatives").EnumerateObject())
        {
            var other = Vectors(alternative.Value);
            double largest = 0;
            for (int p = 0; p < parameters.Length; p++)
                for (int i = 0; i < other[p].Length; i++)
                    largest = Math.Max(largest, Math.Abs(parameters[p].Value.Span[i] - other[p][i]) / Tolerance(c, p, i, other[p][i]));
            Assert.True(largest > 100, $"{name}: the {alternative.Name} trajectory ends within {largest:F1} tolerances of Neurite's");
        }

        if (c.TryGetProperty("final_m", out var finalM))
        {
            // Adam's slots in Keras's order: m (first moment, signed), then v (second moment).
            var m = Vectors(finalM);
            var v = Vectors(c.GetProperty("final_v"));
            for (int p = 0; p < parameters.Length; p++)
            {
                var slots = optimizer.GetSlots(parameters[p]);
                for (int i = 0; i < m[p].Length; i++)
                {
                    double g = gradients.Max(s => Math.Abs(s[p][i]));
                    Assert.True(Math.Abs(slots[0][i] - m[p][i]) <= 1e-5 * Math.Abs(m[p][i]) + 1e-7 * g, $"{name} m[{p}][{i}]: {slots[0][i]} vs {m[p][i]}");
                    Assert.True(Math.Abs(slots[1][i] - v[p][i]) <= 1e-5 * v[p][i] + 1e-7 * g * g, $"{name} v[{p}][{i}]: {slots[1][i]} vs {v[p][i]}");
                }
            }
        }
    }

    /// <summary>
    /// The threaded trainer updates ranges of a weight; ranges that start off any vector boundary give the
    /// same trajectory as the whole weight.
    /// </summary>
    [Theory]
    [MemberData(nameof(RangeUpdateCaseNames))]
    public void Range_updates_follow_the_same_trajectory(string name)
    {
        var c = Case(name);
        var optimizer = Create(c);
        Assert.True(optimizer.UpdatesElementwise);
        var parameters = Initial(c);
        var gradients = Steps(c, "gradients");
        var expected = Steps(c, "expected");
        optimizer.PrepareSlots(parameters);
        for (int step = 0; step < gradients.Length; step++)
        {
            for (int p = 0; p < parameters.Length; p++)
            {
                SetGradient(parameters[p], gradients[step][p]);
                int length = parameters[p].Value.Size;
                int[] cuts = [0, 5, 5 + 21, length - 3, length];
                for (int k = 0; k + 1 < cuts.Length; k++)
                    optimizer.UpdateRange(parameters[p], cuts[k], cuts[k + 1] - cuts[k], step + 1);
            }
            optimizer.CompleteStep();
            AssertWeights(c, expected[step], parameters, $"{name} ranges, step {step + 1}");
        }
    }

    private static void SetGradient(Parameter parameter, double[] gradient)
    {
        var span = parameter.Gradient.Span;
        for (int i = 0; i < gradient.Length; i++) span[i] = (float)gradient[i];
    }

    private static JsonElement Case(string name) => Cases.Value.Single(e => e.GetProperty("name").GetString() == name);

    private static Optimizer Create(JsonElement c)
    {
        var cfg = c.GetProperty("config");
        double Get(string key, double fallback) => cfg.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        bool Flag(string key) => cfg.TryGetProperty(key, out var v) && v.GetBoolean();
        double? Clip(string key) => cfg.TryGetProperty(key, out var v) ? v.GetDouble() : null;
        double lr = cfg.GetProperty("learning_rate").GetDouble();
        var (clipNorm, clipValue, globalClipNorm) = (Clip("clipnorm"), Clip("clipvalue"), Clip("global_clipnorm"));
        return c.GetProperty("optimizer").GetString() switch
        {
            "sgd" => new Sgd(lr, Get("momentum", 0), Flag("nesterov"), clipNorm, clipValue, globalClipNorm),
            "adam" => new Adam(lr, Get("beta_1", 0), Get("beta_2", 0), Get("epsilon", 0), Flag("amsgrad"), clipNorm, clipValue, globalClipNorm),
            "rmsprop" => new RmsProp(lr, Get("rho", 0), Get("momentum", 0), Get("epsilon", 0), Flag("centered"), clipNorm, clipValue, globalClipNorm),
            "adagrad" => new Adagrad(lr, Get("initial_accumulator_value", 0), Get("epsilon", 0), clipNorm, clipValue, globalClipNorm),
            var other => throw new InvalidOperationException($"unknown optimizer {other} in the fixture"),
        };
    }

    private static Parameter[] Initial(JsonElement c) =>
        Vectors(c.GetProperty("initial")).Select((v, i) => new Parameter($"w{i}", Tensor.FromArray(v, v.Length))).ToArray();

    // Float32 rounding of a weight near 0.5 and of each step's increment over five steps stays below
    // 2e-6 + 1e-5·|displacement|; an epsilon misplaced moves eps-dominated elements by ~1e-3.
    private static double Tolerance(JsonElement c, int parameter, int index, double expected)
    {
        double initial = c.GetProperty("initial")[parameter][index].GetDouble();
        return 2e-6 + 1e-5 * Math.Abs(expected - initial);
    }

    private static void AssertWeights(JsonElement c, double[][] expected, Parameter[] parameters, string what)
    {
        for (int p = 0; p < parameters.Length; p++)
        {
            var actual = parameters[p].Value.Span;
            Assert.Equal(expected[p].Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[p][i]) <= Tolerance(c, p, i, expected[p][i]),
                    $"{what}, weight {p}[{i}]: Neurite {actual[i]:G9}, Keras's rule {expected[p][i]:G9}");
        }
    }

    private static double[][][] Steps(JsonElement c, string key) =>
        c.GetProperty(key).EnumerateArray().Select(Vectors).ToArray();

    private static double[][] Vectors(JsonElement e) =>
        e.EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
}
