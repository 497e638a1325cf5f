using System.Text.Json.Nodes;
using Neurite.Layers;

namespace Neurite.IO;

internal static partial class LayerCodec
{
    private static Layer? RecurrentFrom(KerasJson json, string className, JsonObject c, string where, KerasGeneration generation,
        string name, int[]? inputShape, int? batchSize)
    {
        if (className is not ("LSTM" or "GRU" or "SimpleRNN")) return null;
        RequireNoExtras(json, c, where, "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
            "kernel_constraint", "recurrent_constraint", "bias_constraint");
        if (json.Bool(c, "time_major", where, false))
            throw json.Error($"{where}.time_major is true; Neurite takes (batch, time, features) inputs. Rebuild the layer with time_major=False in Keras.");
        int units = json.PositiveInt(c, "units", where, 1 << 20);
        string activation = ActivationFrom(json, c, "activation", where, generation, "tanh");
        bool useBias = json.Bool(c, "use_bias", where, true);
        var kernelInit = InitializerFrom(json, c["kernel_initializer"], $"{where}.kernel_initializer", "glorot_uniform");
        var recurrentInit = InitializerFrom(json, c["recurrent_initializer"], $"{where}.recurrent_initializer", "orthogonal");
        var biasInit = InitializerFrom(json, c["bias_initializer"], $"{where}.bias_initializer", "zeros");
        double dropout = RateFrom(json, c, "dropout", where);
        double recurrentDropout = RateFrom(json, c, "recurrent_dropout", where);
        bool returnSequences = json.Bool(c, "return_sequences", where, false);
        bool returnState = json.Bool(c, "return_state", where, false);
        bool goBackwards = json.Bool(c, "go_backwards", where, false);
        bool stateful = json.Bool(c, "stateful", where, false);
        string recurrentActivation = className == "SimpleRNN" ? "sigmoid" : RecurrentActivationFrom(json, c, where, generation);
        switch (className)
        {
            case "LSTM":
                return new Lstm(units, activation, recurrentActivation, useBias,
                    kernelInit, recurrentInit, biasInit, json.Bool(c, "unit_forget_bias", where, true), dropout, recurrentDropout,
                    returnSequences, returnState, goBackwards, stateful, inputShape, batchSize, name);
            case "GRU":
                // Keras 2.1 wrote no reset_after key and meant false; Keras 2.3+ and 3 write it (3's default is true).
                bool resetAfter = json.Bool(c, "reset_after", where, generation == KerasGeneration.Keras3);
                return new Gru(units, activation, recurrentActivation, useBias,
                    kernelInit, recurrentInit, biasInit, dropout, recurrentDropout,
                    returnSequences, returnState, goBackwards, stateful, resetAfter, inputShape, batchSize, name);
            default:
                return new SimpleRnn(units, activation, useBias, kernelInit, recurrentInit, biasInit, dropout, recurrentDropout,
                    returnSequences, returnState, goBackwards, stateful, inputShape, batchSize, name);
        }
    }

    /// <summary>An LSTM's or GRU's recurrent activation; when absent, the default of the Keras that wrote the file.</summary>
    private static string RecurrentActivationFrom(KerasJson json, JsonObject c, string where, KerasGeneration generation)
    {
        if (c["recurrent_activation"] is null && generation == KerasGeneration.Keras2UnknownRecurrentDefault)
            throw json.Error($"{where} has no recurrent_activation, and the file's keras_version does not tell its default (hard_sigmoid under TensorFlow 1.x and Keras 2.0-2.2, sigmoid from TensorFlow 2.0 and Keras 2.3). Add \"recurrent_activation\" to the layer's config in the file, or re-save it with a current Keras.");
        return ActivationFrom(json, c, "recurrent_activation", where, generation, generation == KerasGeneration.Keras2Early ? "hard_sigmoid" : "sigmoid");
    }
}
