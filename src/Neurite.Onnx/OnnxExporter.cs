using System.Runtime.InteropServices;
using Neurite.Activations;
using Neurite.Layers;
using static Neurite.Onnx.OnnxFields;

namespace Neurite.Onnx;

/// <summary>
/// Exports a <see cref="Sequential"/> to ONNX (opset 17) for inference in ONNX Runtime and other
/// engines: Dense, Activation, Dropout (identity), LSTM, GRU and SimpleRNN, with a dynamic batch axis
/// named <c>batch</c>. The graph input is <c>input</c> and the output <c>output</c>; a stateful model
/// also takes each recurrent layer's states as inputs (<c>{layer}_h_in</c>, <c>{layer}_c_in</c>, each
/// (batch, units)) and returns the final states (<c>{layer}_h_out</c>, <c>{layer}_c_out</c>), so the
/// caller carries them from one batch to the next.
/// </summary>
public static class OnnxExporter
{
    public const int Opset = 17;
    private const long IrVersion = 8;

    /// <summary>Writes the ONNX model to <paramref name="path"/> (through a temporary file, renamed when complete).</summary>
    public static void ExportOnnx(this Sequential model, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes = ToOnnxBytes(model);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>The serialized ONNX <c>ModelProto</c>.</summary>
    public static byte[] ToOnnxBytes(this Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt)
            throw new NeuriteException($"Model '{model.Name}' is not built, so it has no weights to export. Give the first layer an inputShape, or call Build/Fit first.");
        var g = new GraphBuilder(model.FixedBatchSize);
        g.AddInput("input", model.Layers[0].InputShape);
        string current = "input";
        foreach (var layer in model.Layers) current = ExportLayer(g, layer, current);
        g.Node("Identity", [current], ["output"], "output_identity");
        g.AddOutput("output", model.Layers[^1].OutputShape);
        byte[] graph = g.Build(model.Name);
        return new ProtoWriter()
            .Int64(ModelIrVersion, IrVersion)
            .String(ModelProducerName, "Neurite")
            .String(ModelProducerVersion, typeof(Sequential).Assembly.GetName().Version?.ToString() ?? "0")
            .Bytes(ModelGraph, graph)
            .Message(ModelOpsetImport, o => o.String(OpsetDomain, "").Int64(OpsetVersion, Opset))
            .ToArray();
    }

    private static string ExportLayer(GraphBuilder g, Layer layer, string x)
    {
        string n = layer.Name;
        // GetWeights, not the parameters' tensors: a backend training on a device brings its weights home first.
        var p = layer.GetWeights();
        switch (layer.Config)
        {
            case DenseConfig d:
            {
                string w = g.Initializer($"{n}/kernel", p[0].ToArray(), p[0].Shape);
                string y = g.Node("MatMul", [x, w], [$"{n}/matmul"], $"{n}/MatMul");
                if (d.UseBias)
                {
                    string b = g.Initializer($"{n}/bias", p[1].ToArray(), p[1].Shape);
                    y = g.Node("Add", [y, b], [$"{n}/bias_add"], $"{n}/Add");
                }
                return Activation(g, d.Activation, y, n);
            }
            case DropoutConfig:
                return g.Node("Identity", [x], [$"{n}/identity"], $"{n}/Identity");
            case ActivationConfig a:
                return Activation(g, a.Activation, x, n);
            case RecurrentConfig r:
                return Recurrent(g, (RecurrentLayer)layer, r, x);
            default:
                throw new NeuriteException($"Layer '{layer.Name}' ({layer.ClassName}) has no ONNX export. Exportable layers: Dense, Activation, Dropout, LSTM, GRU, SimpleRNN.");
        }
    }

    private static string Activation(GraphBuilder g, ActivationFunction f, string x, string n)
    {
        string o = $"{n}/{f.Name}";
        switch (f.Name)
        {
            case "linear": return x;
            case "relu": return g.Node("Relu", [x], [o], o);
            case "sigmoid": return g.Node("Sigmoid", [x], [o], o);
            case "tanh": return g.Node("Tanh", [x], [o], o);
            case "softmax": return g.Node("Softmax", [x], [o], o, a => a.Int("axis", -1));
            case "elu": return g.Node("Elu", [x], [o], o, a => a.Float("alpha", 1f));
            case "selu": return g.Node("Selu", [x], [o], o, a => a.Float("alpha", 1.6732632423543772f).Float("gamma", 1.0507009873554805f));
            case "softplus": return g.Node("Softplus", [x], [o], o);
            // Neurite's hard_sigmoid is Keras 2's clip(0.2x + 0.5, 0, 1): ONNX HardSigmoid with its default alpha and beta.
            case "hard_sigmoid": return g.Node("HardSigmoid", [x], [o], o, a => a.Float("alpha", 0.2f).Float("beta", 0.5f));
            case "swish":
            {
                string s = g.Node("Sigmoid", [x], [$"{o}/sigmoid"], $"{o}/Sigmoid");
                return g.Node("Mul", [x, s], [o], o);
            }
            case "gelu":
            {
                // Exact GELU: 0.5·x·(1 + erf(x/√2)); the Gelu operator needs opset 20.
                string scaled = g.Node("Mul", [x, g.Scalar($"{o}/inv_sqrt2", (float)(1 / Math.Sqrt(2)))], [$"{o}/scaled"], $"{o}/Scale");
                string erf = g.Node("Erf", [scaled], [$"{o}/erf"], $"{o}/Erf");
                string plus = g.Node("Add", [erf, g.Scalar($"{o}/one", 1f)], [$"{o}/plus1"], $"{o}/Plus1");
                string half = g.Node("Mul", [x, g.Scalar($"{o}/half", 0.5f)], [$"{o}/half_x"], $"{o}/Half");
                return g.Node("Mul", [half, plus], [o], o);
            }
            default:
                throw new NeuriteException($"The activation '{f.Name}' has no ONNX export.");
        }
    }

    private static string OnnxActivation(string? name, RecurrentLayer r) => name switch
    {
        "sigmoid" => "Sigmoid",
        "tanh" => "Tanh",
        "relu" => "Relu",
        "hard_sigmoid" => "HardSigmoid", // ONNX's defaults alpha 0.2, beta 0.5 are Keras 2's definition, which Neurite uses
        _ => throw new NeuriteException($"{r.ClassName} '{r.Name}' uses the activation '{name}', which ONNX recurrent operators do not offer. Use tanh, sigmoid, relu or hard_sigmoid."),
    };

    private static string Recurrent(GraphBuilder g, RecurrentLayer layer, RecurrentConfig r, string x)
    {
        string n = layer.Name;
        int u = r.Units, f = layer.InputShape[1];
        // GetWeights, not the parameters' tensors: a backend training on a device brings its weights home first.
        var p = layer.GetWeights();
        float[] kernel = p[0].ToArray(), recurrent = p[1].ToArray();
        string op;
        int gates;
        int[] gateOrder; // ONNX gate block i comes from Keras block gateOrder[i]
        string[] activations;
        float[] inputBias, recurrentBias;
        var attributes = new List<Action<AttributeWriter>>();
        switch (r)
        {
            case LstmConfig:
                op = "LSTM"; gates = 4;
                gateOrder = [0, 3, 1, 2]; // Keras i,f,c,o -> ONNX i,o,f,c
                activations = [OnnxActivation(r.RecurrentActivation, layer), OnnxActivation(r.Activation, layer), OnnxActivation(r.Activation, layer)];
                inputBias = r.UseBias ? p[2].ToArray() : new float[4 * u];
                recurrentBias = new float[4 * u];
                break;
            case GruConfig gru:
                op = "GRU"; gates = 3;
                gateOrder = [0, 1, 2]; // z, r, h in both
                activations = [OnnxActivation(r.RecurrentActivation, layer), OnnxActivation(r.Activation, layer)];
                if (!r.UseBias) { inputBias = new float[3 * u]; recurrentBias = new float[3 * u]; }
                else if (gru.ResetAfter)
                {
                    var b = p[2].ToArray();
                    inputBias = b[..(3 * u)];
                    recurrentBias = b[(3 * u)..];
                }
                else { inputBias = p[2].ToArray(); recurrentBias = new float[3 * u]; }
                attributes.Add(a => a.Int("linear_before_reset", gru.ResetAfter ? 1 : 0));
                break;
            case SimpleRnnConfig:
                op = "RNN"; gates = 1;
                gateOrder = [0];
                activations = [OnnxActivation(r.Activation, layer)];
                inputBias = r.UseBias ? p[2].ToArray() : new float[u];
                recurrentBias = new float[u];
                break;
            default:
                throw new NeuriteException($"Layer '{n}' ({layer.ClassName}) has no ONNX export.");
        }
        string w = g.Initializer($"{n}/W", GateRows(kernel, f, u, gateOrder), [1, gates * u, f]);
        string rk = g.Initializer($"{n}/R", GateRows(recurrent, u, u, gateOrder), [1, gates * u, u]);
        var bias = new float[2 * gates * u];
        ReorderBias(inputBias, u, gateOrder).CopyTo(bias, 0);
        ReorderBias(recurrentBias, u, gateOrder).CopyTo(bias, gates * u);
        string bn = g.Initializer($"{n}/B", bias, [1, 2 * gates * u]);

        string xt = g.Node("Transpose", [x], [$"{n}/x_time_major"], $"{n}/TransposeIn", a => a.Ints("perm", [1, 0, 2]));
        var inputs = new List<string> { xt, w, rk, bn };
        int states = r is LstmConfig ? 2 : 1;
        string[] stateNames = r is LstmConfig ? ["h", "c"] : ["h"];
        if (r.Stateful)
        {
            int batch = layer.FixedBatchSize ?? layer.DeclaredBatchSize ?? throw new NeuriteException($"Stateful layer '{n}' has no fixed batch size; pass batchSize to the model's first layer.");
            inputs.Add(""); // sequence_lens: absent, every sequence has the full length
            for (int s = 0; s < states; s++)
            {
                string input = $"{n}_{stateNames[s]}_in";
                g.AddInput(input, [u], batch);
                inputs.Add(g.Node("Unsqueeze", [input, g.Int64s($"{n}/axis0_{s}", [0])], [$"{n}/{stateNames[s]}0"], $"{n}/Unsqueeze{s}"));
            }
        }
        string y = $"{n}/Y", yh = $"{n}/Y_h", yc = $"{n}/Y_c";
        g.Node(op, inputs.ToArray(), r is LstmConfig ? [y, yh, yc] : [y, yh], $"{n}/{op}", a =>
        {
            a.Int("hidden_size", u).Strings("activations", activations).String("direction", r.GoBackwards ? "reverse" : "forward");
            foreach (var attribute in attributes) attribute(a);
        });
        if (r.Stateful)
        {
            string[] finals = r is LstmConfig ? [yh, yc] : [yh];
            for (int s = 0; s < states; s++)
            {
                string output = $"{n}_{stateNames[s]}_out";
                g.Node("Squeeze", [finals[s], g.Int64s($"{n}/axis0_out{s}", [0])], [output], $"{n}/SqueezeState{s}");
                g.AddOutput(output, [u], layer.FixedBatchSize ?? layer.DeclaredBatchSize);
            }
        }
        if (!r.ReturnSequences)
            return g.Node("Squeeze", [yh, g.Int64s($"{n}/axis0", [0])], [$"{n}/last"], $"{n}/SqueezeLast");
        string seq = g.Node("Squeeze", [y, g.Int64s($"{n}/axis1", [1])], [$"{n}/sequence_time_major"], $"{n}/SqueezeDirections");
        if (r.GoBackwards)
        {
            // ONNX "reverse" keeps outputs at their input positions; Keras returns them in processing order, i.e. reversed in time.
            seq = g.Node("Slice", [seq, g.Int64s($"{n}/rev_start", [-1]), g.Int64s($"{n}/rev_end", [long.MinValue]), g.Int64s($"{n}/rev_axes", [0]), g.Int64s($"{n}/rev_steps", [-1])],
                [$"{n}/sequence_processing_order"], $"{n}/ReverseTime");
        }
        return g.Node("Transpose", [seq], [$"{n}/sequence"], $"{n}/TransposeOut", a => a.Ints("perm", [1, 0, 2]));
    }

    /// <summary>Keras (rows, G·U) with gate blocks in Keras order → ONNX (G·U, rows) in ONNX order.</summary>
    private static float[] GateRows(float[] keras, int rows, int units, int[] gateOrder)
    {
        int gates = gateOrder.Length, width = gates * units;
        var result = new float[width * rows];
        for (int gi = 0; gi < gates; gi++)
            for (int j = 0; j < units; j++)
                for (int i = 0; i < rows; i++)
                    result[(gi * units + j) * rows + i] = keras[i * width + gateOrder[gi] * units + j];
        return result;
    }

    private static float[] ReorderBias(float[] keras, int units, int[] gateOrder)
    {
        var result = new float[keras.Length];
        for (int gi = 0; gi < gateOrder.Length; gi++)
            Array.Copy(keras, gateOrder[gi] * units, result, gi * units, units);
        return result;
    }

    /// <summary>Collects nodes, initializers, inputs and outputs, then writes a GraphProto.</summary>
    private sealed class GraphBuilder(int? fixedBatch)
    {
        private readonly List<byte[]> _nodes = [], _initializers = [], _inputs = [], _outputs = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        public void AddInput(string name, IReadOnlyList<int> shape, int? batch = null) => _inputs.Add(ValueInfo(name, shape, batch ?? fixedBatch));

        public void AddOutput(string name, IReadOnlyList<int> shape, int? batch = null) => _outputs.Add(ValueInfo(name, shape, batch ?? fixedBatch));

        private static byte[] ValueInfo(string name, IReadOnlyList<int> shape, int? batch) => new ProtoWriter()
            .String(ValueInfoName, name)
            .Message(ValueInfoType, t => t.Message(TypeTensorType, tt => tt
                .Int64(TensorTypeElemType, DataTypeFloat)
                .Message(TensorTypeShape, s =>
                {
                    s.Message(ShapeDim, d => { if (batch is int b) d.Int64(DimValue, b); else d.String(DimParam, "batch"); });
                    foreach (var dim in shape) s.Message(ShapeDim, d => d.Int64(DimValue, dim));
                })))
            .ToArray();

        public string Node(string op, string[] inputs, string[] outputs, string name, Action<AttributeWriter>? attributes = null)
        {
            var w = new ProtoWriter();
            foreach (var i in inputs) w.String(NodeInput, i);
            foreach (var o in outputs) w.String(NodeOutput, o);
            w.String(NodeName, name).String(NodeOpType, op);
            if (attributes is not null)
            {
                var aw = new AttributeWriter(w);
                attributes(aw);
            }
            _nodes.Add(w.ToArray());
            return outputs[0];
        }

        public string Initializer(string name, float[] values, IReadOnlyList<int> shape)
        {
            Unique(name);
            var w = new ProtoWriter();
            foreach (var d in shape) w.Int64(TensorDims, d);
            w.Int64(TensorDataType, DataTypeFloat).String(TensorName, name).Bytes(TensorRawData, LittleEndian(values));
            _initializers.Add(w.ToArray());
            return name;
        }

        public string Scalar(string name, float value)
        {
            var w = new ProtoWriter();
            w.Int64(TensorDataType, DataTypeFloat).String(TensorName, name).Bytes(TensorRawData, LittleEndian([value]));
            Unique(name);
            _initializers.Add(w.ToArray());
            return name;
        }

        public string Int64s(string name, long[] values)
        {
            Unique(name);
            var bytes = new byte[values.Length * 8];
            for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
            _initializers.Add(new ProtoWriter().Int64(TensorDims, values.Length).Int64(TensorDataType, DataTypeInt64).String(TensorName, name).Bytes(TensorRawData, bytes).ToArray());
            return name;
        }

        private void Unique(string name)
        {
            if (!_names.Add(name)) throw new NeuriteException($"Two layers produce the ONNX tensor '{name}'; give the layers unique names.");
        }

        private static byte[] LittleEndian(float[] values)
        {
            var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            if (!BitConverter.IsLittleEndian)
                for (int i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
            return bytes;
        }

        public byte[] Build(string name)
        {
            var w = new ProtoWriter();
            foreach (var n in _nodes) w.Bytes(GraphNode, n);
            w.String(GraphName, name);
            foreach (var i in _initializers) w.Bytes(GraphInitializer, i);
            foreach (var i in _inputs) w.Bytes(GraphInput, i);
            foreach (var o in _outputs) w.Bytes(GraphOutput, o);
            return w.ToArray();
        }
    }
}

/// <summary>Writes a node's AttributeProto fields.</summary>
internal sealed class AttributeWriter(ProtoWriter node)
{
    public AttributeWriter Int(string name, long value)
    {
        node.Message(NodeAttribute, a => a.String(AttrName, name).Int64(AttrI, value).Int64(AttrType, AttrTypeInt));
        return this;
    }

    public AttributeWriter Float(string name, float value)
    {
        node.Message(NodeAttribute, a => a.String(AttrName, name).Float(AttrF, value).Int64(AttrType, AttrTypeFloat));
        return this;
    }

    public AttributeWriter String(string name, string value)
    {
        node.Message(NodeAttribute, a => a.String(AttrName, name).Bytes(AttrS, System.Text.Encoding.UTF8.GetBytes(value)).Int64(AttrType, AttrTypeString));
        return this;
    }

    public AttributeWriter Ints(string name, long[] values)
    {
        node.Message(NodeAttribute, a =>
        {
            a.String(AttrName, name);
            foreach (var v in values) a.Int64(AttrInts, v);
            a.Int64(AttrType, AttrTypeInts);
        });
        return this;
    }

    public AttributeWriter Strings(string name, string[] values)
    {
        node.Message(NodeAttribute, a =>
        {
            a.String(AttrName, name);
            foreach (var v in values) a.Bytes(AttrStrings, System.Text.Encoding.UTF8.GetBytes(v));
            a.Int64(AttrType, AttrTypeStrings);
        });
        return this;
    }
}
