using System.Text.Json;
using Neurite.Forecasting;

namespace Neurite.Tests.Forecasting;

/// <summary>
/// Exponential smoothing against R's forecast::ets (tests/fixtures/forecasting/ets.json, written by
/// make_ets_fixture.R beside it): with R's parameters and initial states the recursions give R's fitted values,
/// and Neurite's own fit reaches an SSE as low as R's, or close.
/// </summary>
public sealed class EtsAgainstRTests
{
    public static TheoryData<int> Cases() => new(Enumerable.Range(0, Fixture().GetArrayLength()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void With_Rs_parameters_the_recursions_give_Rs_one_step_forecasts(int index)
    {
        var c = Fixture()[index];
        var (model, y) = RModel(c);
        var fitted = model.Forecasts(y, -1, y.Length - 2, 1);
        var expected = Doubles(c, "fitted");
        for (int t = 0; t < y.Length; t++)
            Assert.True(Math.Abs(fitted[t, 0] - expected[t]) <= 1e-9 * Math.Abs(expected[t]) + 1e-12,
                $"{Name(c)}: forecast of y[{t}] is {fitted[t, 0]}, R's {expected[t]}");
        double sse = model.SumOfSquaredErrors(y);
        Assert.Equal(c.GetProperty("sse").GetDouble(), sse, c.GetProperty("sse").GetDouble() * 1e-9);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Neurites_fit_of_the_same_family_is_about_as_close_as_Rs(int index)
    {
        var c = Fixture()[index];
        var (model, y) = RModel(c);
        var fit = EtsFitting.Fit(y, model.Trend, model.Season, model.Period);
        Assert.NotNull(fit);
        // R also optimises the initial seasonal states; Neurite keeps the heuristic ones, so allow a few percent.
        double rSse = c.GetProperty("sse").GetDouble();
        Assert.True(fit.Sse <= 1.05 * rSse, $"{Name(c)}: Neurite's SSE {fit.Sse}, R's {rSse}");
        Assert.InRange(fit.Model.Alpha, 0, 1);
        Assert.InRange(fit.Model.Beta, 0, fit.Model.Alpha);
        Assert.InRange(fit.Model.Gamma, 0, 1 - fit.Model.Alpha);
        if (model.Trend == EtsTrend.Damped) Assert.InRange(fit.Model.Phi, 0.8, 0.98);
    }

    private static (EtsModel Model, double[] Y) RModel(JsonElement c)
    {
        string model = c.GetProperty("model").GetString()!;
        var trend = model[1] == 'N' ? EtsTrend.None : c.GetProperty("damped").GetBoolean() ? EtsTrend.Damped : EtsTrend.Additive;
        var season = model[2] switch { 'N' => EtsSeason.None, 'A' => EtsSeason.Additive, _ => EtsSeason.Multiplicative };
        var ets = new EtsModel(trend, season, c.GetProperty("period").GetInt32(), c.GetProperty("alpha").GetDouble(), c.GetProperty("beta").GetDouble(),
            c.GetProperty("gamma").GetDouble(), c.GetProperty("phi").GetDouble(), c.GetProperty("level0").GetDouble(), c.GetProperty("trend0").GetDouble(), Doubles(c, "seasonal0"));
        return (ets, Doubles(c, "y"));
    }

    private static string Name(JsonElement c) => $"{c.GetProperty("series").GetString()} {c.GetProperty("model").GetString()}{(c.GetProperty("damped").GetBoolean() ? " damped" : "")}";

    private static double[] Doubles(JsonElement c, string name) => c.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static JsonElement Fixture()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Neurite.sln")))
                return JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, "tests", "fixtures", "forecasting", "ets.json"))).RootElement;
        throw new FileNotFoundException("Could not find the folder holding Neurite.sln above " + AppContext.BaseDirectory);
    }
}
