using Neurite.Initializers;
using Neurite.Layers;

namespace Neurite.Tests.Core;

public class LayerConfigTests
{
    public static TheoryData<string> Kinds() => ["dense", "dropout", "activation", "lstm", "gru", "rnn"];

    private static Layer Make(string kind) => kind switch
    {
        "dense" => new Dense(3, "relu", useBias: false, inputShape: [4], name: "d"),
        "dropout" => new Dropout(0.3, name: "dr"),
        "activation" => new Activation("tanh", name: "a"),
        "lstm" => new Lstm(5, recurrentActivation: "hard_sigmoid", unitForgetBias: false, dropout: 0.1, returnSequences: true, name: "l"),
        "gru" => new Gru(5, resetAfter: false, goBackwards: true, recurrentInitializer: new Constant(0.5), name: "g"),
        _ => new SimpleRnn(5, activation: "relu", stateful: true, batchSize: 4, inputShape: [3, 2], name: "s"),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AWeightSharingCopyHasTheSameConfigRecordAndGetConfigReadsIt(string kind)
    {
        var layer = Make(kind);
        var copy = layer.CopyWithBatchSize(7);
        Assert.Equal(layer.Config, copy.Config);
        Assert.Equal(layer.Name, copy.Name);
        var config = layer.GetConfig();
        foreach (var (key, value) in layer.Config.Entries())
        {
            Assert.True(config.ContainsKey(key), $"GetConfig lacks '{key}'");
            object? expected = value switch { Activations.ActivationFunction f => f.Name, Initializer i => i.Name, _ => value };
            Assert.Equal(expected, config[key]);
        }
    }

    [Fact]
    public void TheRecordKeepsTheOptionsAsGiven()
    {
        var lstm = (Lstm)Make("lstm");
        Assert.Equal(new LstmConfig(5, "tanh", "hard_sigmoid", true, lstm.KernelInitializer, lstm.RecurrentInitializer, lstm.BiasInitializer,
            false, 0.1, 0, true, false, false, false), lstm.Config);
        var gru = (Gru)Make("gru");
        Assert.False(gru.Config.ResetAfter);
        Assert.Equal(0.5, ((Constant)gru.Config.RecurrentInitializer).Value);
    }

    [Fact]
    public void SimpleRnnHasNoRecurrentActivation()
    {
        var rnn = new SimpleRnn(4);
        Assert.Null(rnn.RecurrentActivation);
        Assert.Null(rnn.Config.RecurrentActivation);
        Assert.False(rnn.GetConfig().ContainsKey("recurrent_activation"));
        Assert.Equal("sigmoid", new Gru(4).RecurrentActivation);
    }
}
