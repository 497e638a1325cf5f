using ILGPU;
using ILGPU.Runtime;
using Neurite.Activations;
using Neurite.Backends;
using Neurite.Layers;
using Neurite.Losses;
using Neurite.Optimizers;
using Neurite.Cuda.Kernels;

namespace Neurite.Cuda;

/// <summary>
/// Trains a model of Dense, Activation, Dropout and recurrent layers (LSTM, GRU in both reset conventions, SimpleRNN) wholly
/// on the device: weights, gradients, optimizer slots and a stateful recurrent layer's carried states (h and c of an LSTM,
/// h of the others) live in device buffers across batches; per batch, x and y go up and the per-row losses and the
/// predictions (for the metrics) come down. Host weights are brought up to date only by <see cref="SyncToHost"/>, which
/// Sequential (and each planned layer, through <c>Layer.HeldBy</c>) calls before anything reads them;
/// <see cref="HostChanged"/> after a host write drops the device copies, which the next step takes up again from the host.
/// </summary>
/// <remarks>
/// Declines (plans nothing, so the model trains layer by layer through the backend's ops) for anything it has no
/// kernels for: other layers, a recurrent layer with its own dropout or recurrentDropout (its masks) or returned states,
/// activations other than linear/relu/tanh/sigmoid/softmax, Huber loss, Adagrad, AMSGrad, gradient clipping, fixed
/// dropout masks, a stateful model without a fixed batch size.
/// </remarks>
internal sealed class DeviceTrainer : ITrainingStrategy, IDisposable
{
    private readonly Sequential _model;
    private readonly DeviceOps _ops;
    private readonly Scratch _activations;
    private readonly Dictionary<Parameter, DeviceParameter> _parameters = new(ReferenceEqualityComparer.Instance);
    private readonly List<Step> _steps = [];
    private bool? _supported;
    private bool _hostStale;
    private MemoryBuffer1D<double, Stride1D.Dense>? _rowLoss;
    private byte[] _keepBits = [];
    private float[] _output = [];
    private double[] _rowLossHost = [];

    public DeviceTrainer(Sequential model, DeviceOps ops)
    {
        _model = model;
        _ops = ops;
        _activations = new Scratch(ops.Accelerator);
    }

    /// <summary>The predictions of the latest step, (B, outputs), for the metrics.</summary>
    public ReadOnlySpan<float> LastOutput => _output;

    /// <summary>True when the device has kernels for the whole model as compiled (see the type's remarks); plans on first call.</summary>
    public bool Plans()
    {
        _supported ??= Plan();
        return _supported == true;
    }

    public bool TryTrainStep(Tensor xb, Tensor yb, ReadOnlySpan<float> sampleWeights, out double loss)
    {
        loss = 0;
        if (!Plans()) return false;
        int batch = xb.Shape[0];
        foreach (var s in _steps)
            if (s.States is not null && s.StateBatch != batch) return false;
        int slot = 0;
        var x = _activations.Floats(slot++, xb.Size);
        DeviceOps.Upload(xb.Span, x);
        var truth = _activations.Floats(slot++, yb.Size);
        DeviceOps.Upload(yb.Span, truth);
        var weights = _activations.Floats(slot++, Math.Max(1, sampleWeights.Length));
        DeviceOps.Upload(sampleWeights, weights);

        // Forward: each step reads the previous output and writes its own.
        var inputs = new ArrayView<float>[_steps.Count + 1];
        inputs[0] = x;
        for (int i = 0; i < _steps.Count; i++)
        {
            var step = _steps[i];
            long size = (long)batch * step.OutputWidth;
            var output = _activations.Floats(slot++, size);
            var z = step.Kind switch
            {
                StepKind.Dense => _activations.Floats(slot++, size),
                // The input, packed step-major for the sequence core (kept for the backward pass).
                StepKind.Recurrent => _activations.Floats(slot++, (long)batch * step.InputWidth),
                _ => output,
            };
            step.Z = z;
            step.Output = output;
            Forward(step, inputs[i], batch);
            inputs[i + 1] = output;
        }

        // Loss and its gradient on the device; only the per-row losses and the predictions come back.
        var last = _steps[^1];
        int width = last.OutputWidth;
        var gradient = _activations.Floats(slot++, (long)batch * width);
        if (_rowLoss is null || _rowLoss.Length < batch)
        {
            _rowLoss?.Dispose();
            _rowLoss = _ops.Accelerator.Allocate1D<double>(batch);
        }
        _ops.Loss(_lossKind, last.Output, truth, gradient, _rowLoss.View, weights, batch, width, batch, !sampleWeights.IsEmpty, wantGradient: true);
        if (_rowLossHost.Length < batch) _rowLossHost = new double[batch];
        _ops.Download(_rowLoss.View.SubView(0, batch), _rowLossHost.AsSpan(0, batch));
        double total = 0;
        for (int b = 0; b < batch; b++) total += _rowLossHost[b];
        loss = total / batch;
        if (_output.Length != batch * width) _output = new float[batch * width];
        _ops.Download(last.Output, _output);
        var metrics = _model.Metrics;
        for (int m = 0; m < metrics.Count; m++) metrics[m].Update(_output, yb.Span, batch, width);

        // Backward, then one update per weight.
        var dOutput = gradient;
        for (int i = _steps.Count - 1; i >= 0; i--)
        {
            var dInput = i == 0 ? default : _activations.Floats(slot++, (long)batch * _steps[i].InputWidth);
            Backward(_steps[i], inputs[i], dOutput, dInput, batch, i > 0);
            dOutput = dInput;
        }
        Update();
        _hostStale = true;
        return true;
    }

    /// <summary>Copies the device's weights and optimizer slots into the model's host tensors, if a step has changed them since.</summary>
    public void SyncToHost()
    {
        if (!_hostStale) return;
        foreach (var (parameter, device) in _parameters)
        {
            _ops.Download(device.Value.View, parameter.Value.Span);
            var slots = _model.Optimizer!.GetSlots(parameter);
            for (int s = 0; s < slots.Count && s < device.Slots.Length; s++) _ops.Download(device.Slots[s].View, slots[s]);
        }
        foreach (var step in _steps)
            if (step.States is not null)
                for (int i = 0; i < step.States.Length; i++) _ops.Download(step.States[i].View, ((RecurrentLayer)step.Layer).CarriedState(i, step.StateBatch));
        _hostStale = false;
    }

    /// <summary>The host's weights, slots or states were written: drop the device copies (the next step uploads them again).</summary>
    public void HostChanged()
    {
        foreach (var layer in _model.Layers)
            if (ReferenceEquals(layer.HeldBy, this)) layer.HeldBy = null;
        foreach (var p in _parameters.Values) p.Dispose();
        _parameters.Clear();
        foreach (var step in _steps) step.Dispose();
        _steps.Clear();
        _supported = null;
        _hostStale = false;
    }

    public void Reset()
    {
        SyncToHost();
        HostChanged();
    }

    private LossKind _lossKind;

    private bool Plan()
    {
        if (_model.Loss is not { } loss || _model.Optimizer is not { } optimizer || !_model.IsBuilt) return false;
        LossKind? kind = loss switch
        {
            CategoricalCrossentropy => LossKind.CategoricalCrossentropy,
            SparseCategoricalCrossentropy => LossKind.SparseCategoricalCrossentropy,
            BinaryCrossentropy => LossKind.BinaryCrossentropy,
            MeanSquaredError => LossKind.MeanSquaredError,
            MeanAbsoluteError => LossKind.MeanAbsoluteError,
            _ => null,
        };
        if (kind is null) return false;
        _lossKind = kind.Value;
        if (optimizer.ClipNorm is not null || optimizer.ClipValue is not null || optimizer.GlobalClipNorm is not null) return false;
        if (optimizer is not (Sgd or Adam { Amsgrad: false } or RmsProp)) return false;
        foreach (var layer in _model.Layers)
        {
            bool rows = layer.InputShape.Count == 1;
            var step = layer switch
            {
                // Dense and softmax on rows of features only, (B, F), as an MLP (or a recurrent stack's head) has.
                Dense dense when rows && ActivationCode(dense.Activation) is { } code =>
                    new Step(StepKind.Dense, layer, code, dense.InputShape[^1], dense.Units),
                Activation activation when ActivationCode(activation.Function) is { } code && (rows || code != -2) =>
                    new Step(StepKind.Activation, layer, code, Width(layer), Width(layer)),
                Dropout dropout when !dropout.UsesFixedMasks => new Step(StepKind.Dropout, layer, 0, Width(layer), Width(layer)),
                RecurrentLayer recurrent => PlanRecurrent(recurrent),
                _ => null,
            };
            if (step is null) return false;
            _steps.Add(step);
        }
        if (!UploadStates()) return false;
        // Upload the weights once: from here on the device holds them, and the layers read and write through this trainer.
        foreach (var layer in _model.Layers)
        {
            layer.HeldBy = this;
            foreach (var parameter in layer.Parameters)
            {
                var device = new DeviceParameter(_ops, parameter.Value.Size);
                DeviceOps.Upload(parameter.Value.Span, device.Value.View);
                var slots = optimizer.GetSlots(parameter);
                for (int s = 0; s < slots.Count && s < device.Slots.Length; s++) DeviceOps.Upload(slots[s], device.Slots[s].View);
                _parameters[parameter] = device;
            }
        }
        return _steps.Count > 0;
    }

    /// <summary>
    /// An LSTM, GRU or SimpleRNN on its cell's device core, if it has no dropout of its own and returns no states (a stateful
    /// one keeps its states on the device too); null otherwise.
    /// </summary>
    private Step? PlanRecurrent(RecurrentLayer layer)
    {
        if (layer.Dropout != 0 || layer.RecurrentDropout != 0 || layer.ReturnState || layer.UsesFixedMasks) return null;
        int features = layer.InputShape[1], units = layer.Units;
        IDeviceSequenceCore? core = layer switch
        {
            Lstm => new DeviceLstmCore(_ops, features, units, layer.ActivationKind, layer.RecurrentActivationKind, layer.ReturnSequences, layer.GoBackwards),
            Gru gru => new DeviceGruCore(_ops, features, units, layer.ActivationKind, layer.RecurrentActivationKind, gru.ResetAfter, layer.ReturnSequences, layer.GoBackwards),
            SimpleRnn => new DeviceSimpleRnnCore(_ops, features, units, layer.ActivationKind, layer.ReturnSequences, layer.GoBackwards),
            _ => null,
        };
        if (core is null) return null;
        return new Step(StepKind.Recurrent, layer, 0, Width(layer), layer.ReturnSequences ? layer.InputShape[0] * units : units)
        {
            Core = core,
            StepMajorGradient = new Scratch(_ops.Accelerator),
        };
    }

    /// <summary>Values per sample of the layer's input (T·F for a sequence).</summary>
    private static int Width(Layer layer)
    {
        int width = 1;
        foreach (int d in layer.InputShape) width *= d;
        return width;
    }

    /// <summary>A stateful recurrent layer's carried states go to the device (its batch is the model's fixed one); false when that is not known.</summary>
    private bool UploadStates()
    {
        foreach (var step in _steps)
        {
            if (step.Layer is not RecurrentLayer { Stateful: true } layer) continue;
            if (_model.FixedBatchSize is not int batch) return false;
            step.StateBatch = batch;
            step.States = new MemoryBuffer1D<float, Stride1D.Dense>[step.Core!.StateCount];
            step.StateViews = new ArrayView<float>[step.States.Length];
            for (int i = 0; i < step.States.Length; i++)
            {
                step.States[i] = _ops.Allocate((long)batch * layer.Units);
                step.StateViews[i] = step.States[i].View;
                DeviceOps.Upload(layer.CarriedState(i, batch), step.StateViews[i]);
            }
        }
        return true;
    }

    /// <summary>Linear = -1, softmax = -2, else a <see cref="DeviceMath"/> code; null when there is no kernel.</summary>
    private static int? ActivationCode(ActivationFunction function) => function.Name switch
    {
        "linear" => -1,
        "softmax" => -2,
        "relu" => DeviceMath.Relu,
        "tanh" => DeviceMath.TanhCode,
        "sigmoid" => DeviceMath.SigmoidCode,
        _ => null,
    };

    private void Forward(Step step, ArrayView<float> input, int batch)
    {
        int rows = batch, n = rows * step.OutputWidth;
        switch (step.Kind)
        {
            case StepKind.Dense:
                var kernel = _parameters[step.Layer.Parameters[0]].Value.View;
                _ops.MatMul(input, kernel, step.Z, rows, step.InputWidth, step.OutputWidth, false, false, false);
                if (step.Layer.Parameters.Count > 1) _ops.AddBias(step.Z, _parameters[step.Layer.Parameters[1]].Value.View, rows, step.OutputWidth);
                Activate(step, step.Z, step.Output, rows);
                break;
            case StepKind.Activation:
                step.Z = input;
                Activate(step, input, step.Output, rows);
                break;
            case StepKind.Recurrent:
                ForwardRecurrent(step, input, batch);
                break;
            case StepKind.Dropout:
                int bytes = (n + 7) / 8;
                if (_keepBits.Length < bytes) _keepBits = new byte[bytes];
                ((Dropout)step.Layer).DrawKeepBits(_keepBits, n);
                step.KeepBits ??= _ops.Accelerator.Allocate1D<byte>(bytes);
                if (step.KeepBits.Length < bytes)
                {
                    step.KeepBits.Dispose();
                    step.KeepBits = _ops.Accelerator.Allocate1D<byte>(bytes);
                }
                DeviceOps.Upload(_keepBits.AsSpan(0, bytes), step.KeepBits.View);
                _ops.MultiplyByKeepBits(input, step.KeepBits.View, step.KeptScale, step.Output, n);
                break;
        }
    }

    private void Activate(Step step, ArrayView<float> z, ArrayView<float> a, int rows)
    {
        int n = rows * step.OutputWidth;
        switch (step.Activation)
        {
            case -1: z.SubView(0, n).CopyTo(a.SubView(0, n)); break;
            case -2: _ops.Softmax(z, a, rows, step.OutputWidth); break;
            case DeviceMath.Relu: _ops.Relu(z, a, n); break;
            case DeviceMath.TanhCode: _ops.Tanh(z, a, n); break;
            default: _ops.Sigmoid(z, a, n); break;
        }
    }

    private void Backward(Step step, ArrayView<float> input, ArrayView<float> dOutput, ArrayView<float> dInput, int batch, bool wantInputGradient)
    {
        int rows = batch, n = rows * step.OutputWidth;
        switch (step.Kind)
        {
            case StepKind.Dense:
                // dz overwrites the output gradient in place: nothing reads it after this layer.
                ActivateBackward(step, step.Z, step.Output, dOutput, dOutput, rows);
                var kernel = _parameters[step.Layer.Parameters[0]];
                _ops.MatMul(input, dOutput, kernel.Gradient.View, step.InputWidth, rows, step.OutputWidth, true, false, false);
                if (step.Layer.Parameters.Count > 1)
                    _ops.SumRows(dOutput, _parameters[step.Layer.Parameters[1]].Gradient.View, rows, step.OutputWidth, accumulate: false);
                if (wantInputGradient) _ops.MatMul(dOutput, kernel.Value.View, dInput, rows, step.OutputWidth, step.InputWidth, false, true, false);
                break;
            case StepKind.Activation:
                if (wantInputGradient) ActivateBackward(step, step.Z, step.Output, dOutput, dInput, rows);
                break;
            case StepKind.Recurrent:
                BackwardRecurrent(step, dOutput, dInput, batch, wantInputGradient);
                break;
            case StepKind.Dropout:
                if (wantInputGradient) _ops.MultiplyByKeepBits(dOutput, step.KeepBits!.View, step.KeptScale, dInput, n);
                break;
        }
    }

    private void ActivateBackward(Step step, ArrayView<float> z, ArrayView<float> a, ArrayView<float> da, ArrayView<float> dz, int rows)
    {
        int n = rows * step.OutputWidth;
        switch (step.Activation)
        {
            case -1: if (!da.Equals(dz)) da.SubView(0, n).CopyTo(dz.SubView(0, n)); break;
            case -2: _ops.SoftmaxBackward(a, da, dz, rows, step.OutputWidth); break;
            case DeviceMath.Relu: _ops.ReluBackward(z, da, dz, n); break;
            default: _ops.ActivationBackward(a, da, dz, n, step.Activation); break;
        }
    }

    private void Update()
    {
        var optimizer = _model.Optimizer!;
        long step = optimizer.Iterations + 1;
        // The weights the CPU's Optimizer.Apply updates: those trainable when the model was built, still trainable now.
        var trainable = _model.TrainableParameters;
        for (int i = 0; i < trainable.Count; i++)
        {
            var parameter = trainable[i];
            if (!parameter.Trainable) continue;
            var d = _parameters[parameter];
            int n = parameter.Value.Size;
            switch (optimizer)
            {
                case Sgd sgd:
                    _ops.Sgd(d.Value.View, d.Gradient.View, d.Slots[0].View, n, (float)sgd.LearningRate, (float)sgd.Momentum, sgd.Nesterov);
                    break;
                case Adam adam:
                    float alpha = (float)(adam.LearningRate * Math.Sqrt(1 - Math.Pow(adam.Beta2, step)) / (1 - Math.Pow(adam.Beta1, step)));
                    _ops.Adam(d.Value.View, d.Gradient.View, d.Slots[0].View, d.Slots[1].View, n, alpha, (float)(1 - adam.Beta1), (float)(1 - adam.Beta2), (float)adam.Epsilon);
                    break;
                case RmsProp rms:
                    _ops.RmsProp(d.Value.View, d.Gradient.View, d.Slots[0].View, d.Slots[1].View, d.Slots[2].View, n,
                        (float)rms.LearningRate, (float)rms.Rho, (float)rms.Epsilon, (float)rms.Momentum, rms.Centered);
                    break;
            }
        }
        optimizer.Iterations++;
    }

    public void Dispose()
    {
        Reset();
        _rowLoss?.Dispose();
        _activations.Dispose();
    }

    private void ForwardRecurrent(Step step, ArrayView<float> input, int batch)
    {
        var layer = (RecurrentLayer)step.Layer;
        int steps = layer.InputShape[0], units = layer.Units;
        _ops.ToStepMajor(input, step.Z, batch, steps, layer.InputShape[1], layer.GoBackwards);
        var p = layer.Parameters;
        var core = step.Core!;
        core.ForwardOnDevice(batch, steps, step.Z, _parameters[p[0]].Value.View, _parameters[p[1]].Value.View,
            p.Count > 2 ? _parameters[p[2]].Value.View : default, step.StateViews);
        if (layer.ReturnSequences) _ops.ToBatchMajor(core.HiddenSequence, step.Output, batch, steps, units, reverse: false);
        else core.FinalStateView(0).CopyTo(step.Output.SubView(0, batch * units));
        for (int i = 0; i < step.StateViews.Length; i++) core.FinalStateView(i).CopyTo(step.StateViews[i]);
    }

    private void BackwardRecurrent(Step step, ArrayView<float> dOutput, ArrayView<float> dInput, int batch, bool wantInputGradient)
    {
        var layer = (RecurrentLayer)step.Layer;
        int steps = layer.InputShape[0], features = layer.InputShape[1], units = layer.Units;
        var gradients = step.StepMajorGradient!;
        var dOut = dOutput;
        if (layer.ReturnSequences)
        {
            dOut = gradients.Floats(0, (long)batch * steps * units);
            _ops.ToStepMajor(dOutput, dOut, batch, steps, units, reverse: false);
        }
        var p = layer.Parameters;
        var dPacked = wantInputGradient ? gradients.Floats(1, (long)batch * steps * features) : default;
        step.Core!.BackwardOnDevice(dOut, step.Z, _parameters[p[0]].Value.View, _parameters[p[1]].Value.View,
            _parameters[p[0]].Gradient.View, _parameters[p[1]].Gradient.View, p.Count > 2 ? _parameters[p[2]].Gradient.View : default, dPacked);
        if (wantInputGradient) _ops.ToBatchMajor(dPacked, dInput, batch, steps, features, layer.GoBackwards);
    }

    private enum StepKind { Dense, Activation, Dropout, Recurrent }

    private sealed class Step(StepKind kind, Layer layer, int activation, int inputWidth, int outputWidth)
    {
        public StepKind Kind { get; } = kind;
        public Layer Layer { get; } = layer;
        public int Activation { get; } = activation;
        public int InputWidth { get; } = inputWidth;
        public int OutputWidth { get; } = outputWidth;
        public float KeptScale => (float)(1.0 / (1.0 - ((Dropout)Layer).Rate));
        public ArrayView<float> Z { get; set; }
        public ArrayView<float> Output { get; set; }
        public MemoryBuffer1D<byte, Stride1D.Dense>? KeepBits { get; set; }

        /// <summary>A recurrent layer's sequence core, its carried states (stateful; no views otherwise), and its step-major gradient buffers.</summary>
        public IDeviceSequenceCore? Core { get; init; }
        public MemoryBuffer1D<float, Stride1D.Dense>[]? States { get; set; }
        public ArrayView<float>[] StateViews { get; set; } = [];
        public int StateBatch { get; set; }
        public Scratch? StepMajorGradient { get; init; }

        public void Dispose()
        {
            KeepBits?.Dispose();
            Core?.Dispose();
            StepMajorGradient?.Dispose();
            if (States is not null) foreach (var s in States) s.Dispose();
        }
    }

    /// <summary>A weight's value, gradient and three optimizer slots (zeros unless uploaded) on the device.</summary>
    private sealed class DeviceParameter : IDisposable
    {
        public DeviceParameter(DeviceOps ops, int length)
        {
            Value = ops.Allocate(length);
            Gradient = ops.Allocate(length);
            Slots = [ops.Allocate(length), ops.Allocate(length), ops.Allocate(length)];
            foreach (var s in Slots) s.View.MemSetToZero();
        }

        public MemoryBuffer1D<float, Stride1D.Dense> Value { get; }
        public MemoryBuffer1D<float, Stride1D.Dense> Gradient { get; }
        public MemoryBuffer1D<float, Stride1D.Dense>[] Slots { get; }

        public void Dispose()
        {
            Value.Dispose();
            Gradient.Dispose();
            foreach (var s in Slots) s.Dispose();
        }
    }
}
