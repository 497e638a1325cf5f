using Neurite.Activations;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Layers;

namespace Neurite.Backends.Cpu;

/// <summary>
/// What a model's training step asks of the CPU kernels, as a <see cref="KernelPrewarm"/> list: each layer's products
/// with their shapes for a batch of the given size, its bias and activation passes or recurrent core, the loss and
/// the optimizer's update, on the calling thread's kernel path.
/// </summary>
internal static class ModelPrewarm
{
    public static KernelPrewarm For(Sequential model, int batchSize, KernelPath path, int threads)
    {
        var prewarm = new KernelPrewarm(path);
        // A recurrent model trains each batch as two halves on two threads (HalvesTraining), each half on one.
        bool halves = threads > 1 && HalvesTraining.CanTrainInHalves(model);
        // A small step trained layer by layer runs every kernel on the calling thread.
        if (!halves && model.StepStaysOnOneThread(batchSize, threads)) threads = 1;
        if (threads > 1) prewarm.AddWorkerPool();
        int[] batches = halves ? [batchSize, batchSize / 2, batchSize - batchSize / 2] : [batchSize];
        foreach (int batch in batches.Distinct().Where(b => b > 0))
        {
            int layerThreads = halves && batch != batchSize ? 1 : threads;
            for (int i = 0; i < model.Layers.Count; i++)
            {
                var layer = model.Layers[i];
                if (!layer.IsBuilt) continue;
                var input = layer.InputShape;
                int rows = batch;
                for (int d = 0; d < input.Count - 1; d++) rows *= input[d];
                bool needsInputGradient = i > 0;
                switch (layer)
                {
                    case Dense dense:
                        prewarm.AddDense(rows, input[^1], dense.Units, dense.UseBias, Kind(dense.Activation), needsInputGradient, layerThreads);
                        break;
                    case Activation activation:
                        prewarm.AddActivation(Kind(activation.Function));
                        break;
                    case Lstm lstm:
                        prewarm.AddRecurrent(typeof(LstmSequence), batch, input[0], input[1], lstm.Units, 4, layerThreads);
                        break;
                    case Gru gru:
                        prewarm.AddRecurrent(typeof(GruSequence), batch, input[0], input[1], gru.Units, 3, layerThreads, resetBefore: !gru.ResetAfter);
                        break;
                    case SimpleRnn rnn:
                        prewarm.AddRecurrent(typeof(SimpleRnnSequence), batch, input[0], input[1], rnn.Units, 1, layerThreads);
                        break;
                }
            }
        }
        prewarm.AddInputCheck();
        if (model.Loss?.BackendKind is { } loss) prewarm.AddLoss(loss);
        if (model.Optimizer is { } optimizer) prewarm.AddOptimizer(optimizer);
        foreach (var metric in model.CompiledMetrics) prewarm.AddMetric(metric);
        prewarm.AddCoreLibGenerics();
        return prewarm;
    }

    /// <summary>What <see cref="For"/> depends on, as text: models alike get the same list.</summary>
    public static string Key(Sequential model, int batchSize, KernelPath path, int threads)
    {
        var key = new System.Text.StringBuilder().Append(path).Append('/').Append(threads).Append('/').Append(batchSize)
            .Append(model.StepStaysOnOneThread(batchSize, threads) ? "/kept" : "");
        foreach (var layer in model.Layers)
        {
            key.Append('|').Append(layer.GetType().Name);
            if (!layer.IsBuilt) continue;
            key.Append(':').AppendJoin(',', layer.InputShape).Append('>').AppendJoin(',', layer.OutputShape);
            if (layer is Dense dense) key.Append(':').Append(Kind(dense.Activation)).Append(dense.UseBias ? "+b" : "");
            else if (layer is Activation activation) key.Append(':').Append(Kind(activation.Function));
        }
        key.Append('|').AppendJoin(',', model.CompiledMetrics.Select(m => m is Metrics.MeanMetric mean ? mean.BackendKind.ToString() : m.GetType().Name));
        return key.Append('|').Append(model.Loss?.BackendKind).Append('|').Append(model.Optimizer switch
        {
            Optimizers.Adam { Amsgrad: true } => "amsgrad",
            { } optimizer => optimizer.GetType().Name,
            null => "",
        }).ToString();
    }

    // A custom activation runs its own code, not a kernel.
    private static ActivationKind Kind(ActivationFunction function) => function switch
    {
        BuiltInActivation builtIn => builtIn.Kind,
        Softmax => ActivationKind.Softmax,
        _ => ActivationKind.Linear,
    };
}
