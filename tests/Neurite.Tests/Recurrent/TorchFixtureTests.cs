using System.Text.Json;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Tests.Recurrent;

/// <summary>
/// Compares the sequence cores with PyTorch (float64) outputs and gradients converted to Keras's
/// layout by tests/fixtures/recurrent/make_fixtures.py, committed beside the JSON it wrote.
/// </summary>
public class TorchFixtureTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in LoadCases()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static IEnumerable<JsonElement> LoadCases()
    {
        var document = JsonDocument.Parse(File.ReadAllText(FixturePath()));
        return document.RootElement.GetProperty("cases").EnumerateArray().ToArray();
    }

    private static string FixturePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Neurite.sln")))
                return Path.Combine(dir.FullName, "tests", "fixtures", "recurrent", "recurrent_fixtures.json");
        throw new FileNotFoundException("Could not find the folder holding Neurite.sln above " + AppContext.BaseDirectory);
    }

    private static float[] Floats(JsonElement c, string key) =>
        c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray() : [];

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance,
                $"{what}[{i}]: got {actual[i]:G9}, expected {expected[i]:G9}.");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesTorchOutputsAndGradients(string name)
    {
        var c = LoadCases().Single(e => e.GetProperty("name").GetString() == name);
        int b = c.GetProperty("B").GetInt32(), t = c.GetProperty("T").GetInt32(), f = c.GetProperty("F").GetInt32(), u = c.GetProperty("U").GetInt32();
        bool returnSequences = c.GetProperty("return_sequences").GetBoolean(), goBackwards = c.GetProperty("go_backwards").GetBoolean();
        var activation = GateActivations.Parse(c.GetProperty("activation").GetString(), "activation");
        var recurrentActivation = GateActivations.Parse(c.GetProperty("recurrent_activation").GetString(), "recurrent_activation");
        var x = Floats(c, "x"); var h0 = Floats(c, "h0"); var c0 = Floats(c, "c0");
        var kernel = Floats(c, "kernel"); var recurrent = Floats(c, "recurrent_kernel"); var bias = Floats(c, "bias");
        var dOutput = Floats(c, "R");
        var output = new float[dOutput.Length];
        var dx = new float[x.Length]; var dKernel = new float[kernel.Length]; var dRecurrent = new float[recurrent.Length];
        var dBias = new float[bias.Length]; var dH0 = new float[b * u]; var dC0 = new float[b * u];
        ReadOnlySpan<float> finalHidden, finalCell = default;

        switch (c.GetProperty("kind").GetString())
        {
            case "lstm":
                var lstm = new LstmSequence(f, u, activation, recurrentActivation, returnSequences, goBackwards);
                lstm.Forward(b, t, x, h0, c0, kernel, recurrent, bias, output);
                lstm.Backward(dOutput, default, default, kernel, recurrent, dx, dKernel, dRecurrent, dBias, dH0, dC0);
                finalHidden = lstm.FinalHidden;
                finalCell = lstm.FinalCell;
                break;
            case "gru":
                var gru = new GruSequence(f, u, activation, recurrentActivation, c.GetProperty("reset_after").GetBoolean(), returnSequences, goBackwards);
                gru.Forward(b, t, x, h0, kernel, recurrent, bias, output);
                gru.Backward(dOutput, default, kernel, recurrent, dx, dKernel, dRecurrent, dBias, dH0);
                finalHidden = gru.FinalHidden;
                break;
            default:
                var rnn = new SimpleRnnSequence(f, u, activation, returnSequences, goBackwards);
                rnn.Forward(b, t, x, h0, kernel, recurrent, bias, output);
                rnn.Backward(dOutput, default, kernel, recurrent, dx, dKernel, dRecurrent, dBias, dH0);
                finalHidden = rnn.FinalHidden;
                break;
        }

        AssertClose(Floats(c, "output"), output, "output");
        AssertClose(Floats(c, "final_h"), finalHidden, "final h");
        if (Floats(c, "final_c").Length > 0) AssertClose(Floats(c, "final_c"), finalCell, "final c");
        AssertClose(Floats(c, "grad_x"), dx, "dx");
        AssertClose(Floats(c, "grad_kernel"), dKernel, "dKernel");
        AssertClose(Floats(c, "grad_recurrent_kernel"), dRecurrent, "dRecurrentKernel");
        AssertClose(Floats(c, "grad_bias"), dBias, "dBias");
        if (h0.Length > 0) AssertClose(Floats(c, "grad_h0"), dH0, "dh0");
        if (c0.Length > 0) AssertClose(Floats(c, "grad_c0"), dC0, "dc0");
    }
}
