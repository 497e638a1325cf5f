using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Neurite.Layers;

namespace Neurite.Onnx.Tests;

/// <summary>ONNX Runtime runs each exported model and reproduces Neurite's predictions to 1e-5.</summary>
public class OnnxExportTests
{
    private static Tensor RandomTensor(int seed, params int[] shape)
    {
        var rng = new System.Random(seed);
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Size; i++) t.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    public static TheoryData<string> Models => new()
    {
        "dense_activations", "dense_softmax_dropout", "dense_gelu_swish", "lstm_stack", "lstm_backwards_sequences",
        "gru_reset_after", "gru_reset_before_hard_sigmoid", "simple_rnn", "lstm_hard_sigmoid",
    };

    private static Sequential Build(string name) => name switch
    {
        "dense_activations" => new Sequential([new Dense(8, "relu", inputShape: [5]), new Dense(6, "tanh"), new Dense(4, "elu"), new Dense(4, "selu"),
            new Dense(3, "softplus"), new Dense(3, "hard_sigmoid"), new Dense(2, "sigmoid"), new Dense(2, useBias: false)]),
        "dense_softmax_dropout" => new Sequential([new Dense(8, "relu", inputShape: [5]), new Dropout(0.5), new Activation("tanh"), new Dense(3, "softmax")]),
        "dense_gelu_swish" => new Sequential([new Dense(8, "gelu", inputShape: [5]), new Dense(4, "swish"), new Dense(2)]),
        "lstm_stack" => new Sequential([new Lstm(6, returnSequences: true, inputShape: [7, 3]), new Dropout(0.2), new Lstm(5), new Dense(2)]),
        "lstm_backwards_sequences" => new Sequential([new Lstm(4, returnSequences: true, goBackwards: true, inputShape: [7, 3]), new Dense(2)]),
        "gru_reset_after" => new Sequential([new Gru(6, returnSequences: true, inputShape: [7, 3]), new Gru(4), new Dense(1)]),
        "gru_reset_before_hard_sigmoid" => new Sequential([new Gru(5, recurrentActivation: "hard_sigmoid", resetAfter: false, inputShape: [7, 3]), new Dense(1, "sigmoid")]),
        "simple_rnn" => new Sequential([new SimpleRnn(5, returnSequences: true, inputShape: [7, 3]), new SimpleRnn(4, activation: "relu", goBackwards: true), new Dense(1)]),
        "lstm_hard_sigmoid" => new Sequential([new Lstm(5, recurrentActivation: "hard_sigmoid", useBias: true, inputShape: [7, 3]), new Dense(1)]),
        _ => throw new ArgumentException(name),
    };

    private static void RandomiseBiases(Sequential model)
    {
        // Fresh biases are zero (or one); random ones make a gate-order or bias-layout mistake visible.
        int seed = 100;
        foreach (var layer in model.Layers)
            foreach (var p in layer.Parameters)
                if (p.Name == "bias") RandomTensor(seed++, p.Value.ShapeArray()).Span.CopyTo(p.Value.Span);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void OnnxRuntime_matches_Neurite(string name)
    {
        var model = Build(name);
        RandomiseBiases(model);
        byte[] onnx = model.ToOnnxBytes();
        using var session = new InferenceSession(onnx);

        foreach (int batch in new[] { 1, 5 }) // the batch axis is dynamic
        {
            var x = RandomTensor(batch, [batch, .. model.Layers[0].InputShape]);
            var expected = model.Predict(x).ToArray();
            var actual = Run(session, [("input", x)])["output"];
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"{name} batch {batch} output {i}: Neurite {expected[i]}, ONNX Runtime {actual[i]}");
        }
    }

    [Fact]
    public void Stateful_model_carries_states_through_explicit_inputs_and_outputs()
    {
        var model = new Sequential([new Lstm(4, stateful: true, returnSequences: true, inputShape: [3, 2], batchSize: 2), new Gru(3, stateful: true), new Dense(1)]);
        RandomiseBiases(model);
        using var session = new InferenceSession(model.ToOnnxBytes());
        string lstm = model.Layers[0].Name, gru = model.Layers[1].Name;
        Assert.Equal(new[] { "input", $"{lstm}_h_in", $"{lstm}_c_in", $"{gru}_h_in" }.Order(), session.InputMetadata.Keys.Order());
        Assert.Equal(new[] { "output", $"{lstm}_h_out", $"{lstm}_c_out", $"{gru}_h_out" }.Order(), session.OutputMetadata.Keys.Order());

        var states = session.InputMetadata.Keys.Where(k => k != "input").ToDictionary(k => k, k => Tensor.Zeros(2, k.StartsWith(model.Layers[0].Name + "_") ? 4 : 3));
        for (int step = 0; step < 3; step++)
        {
            var x = RandomTensor(10 + step, 2, 3, 2);
            var expected = model.Predict(x).ToArray();
            var inputs = new List<(string, Tensor)> { ("input", x) };
            inputs.AddRange(states.Select(kv => (kv.Key, kv.Value)));
            var outputs = Run(session, inputs);
            var actual = outputs["output"];
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"batch {step} output {i}: Neurite {expected[i]}, ONNX Runtime {actual[i]}");
            foreach (var key in states.Keys.ToList())
                states[key] = new Tensor(outputs[key[..^3] + "_out"], 2, states[key].Shape[1]);
        }
    }

    private static Dictionary<string, float[]> Run(InferenceSession session, IEnumerable<(string Name, Tensor Value)> inputs)
    {
        var values = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name,
            new DenseTensor<float>(i.Value.ToArray(), i.Value.Shape.ToArray()))).ToList();
        using var results = session.Run(values);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }
}

internal static class TensorExtensions
{
    public static int[] ShapeArray(this Tensor t) => t.Shape.ToArray();
}
