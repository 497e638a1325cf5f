using Neurite.Backends;
using ILGPU.Runtime;
using Neurite.Layers;
using Neurite.Losses;
using Neurite.Optimizers;

namespace Neurite.Cuda.Tests;

/// <summary>The loss and optimizer kernels against the CPU's <see cref="Loss"/> and <see cref="Optimizer"/> classes.</summary>
public class LossAndOptimizerTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string, string> LossCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var accelerator in new[] { "cpu-accelerator", "cuda" })
            foreach (var loss in new[] { "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse", "mae" })
                data.Add(accelerator, loss);
        return data;
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossesAndGradientsMatchTheCpu(string accelerator, string lossName)
    {
        var device = Devices.For(accelerator);
        const int rows = 9, width = 5, averageOver = 12;
        var loss = Loss.Get(lossName);
        // Probabilities that sum to 1 per row, with one near zero to reach the clipping branch.
        var pred = Close.Random(rows * width, 11, 0.01f, 1f);
        pred[3] = 1e-9f;
        for (int r = 0; r < rows; r++)
        {
            float sum = 0;
            for (int k = 0; k < width; k++) sum += pred[r * width + k];
            for (int k = 0; k < width; k++) pred[r * width + k] /= sum;
        }
        bool sparse = lossName.StartsWith("sparse", StringComparison.Ordinal);
        var truth = sparse ? Enumerable.Range(0, rows).Select(r => (float)(r % width)).ToArray() : Close.Random(rows * width, 12, 0f, 1f);
        if (lossName == "categorical_crossentropy")
            for (int i = 0; i < truth.Length; i++) truth[i] = i % width == (i / width) % width ? 1f : 0f;
        var weights = Close.Random(rows, 13, 0.5f, 2f);

        var expectedGradient = new float[rows * width];
        double expected = loss.Compute(pred, truth, expectedGradient, weights, rows, width, averageOver);

        var kind = lossName switch
        {
            "categorical_crossentropy" => LossKind.CategoricalCrossentropy,
            "sparse_categorical_crossentropy" => LossKind.SparseCategoricalCrossentropy,
            "binary_crossentropy" => LossKind.BinaryCrossentropy,
            "mse" => LossKind.MeanSquaredError,
            _ => LossKind.MeanAbsoluteError,
        };
        var ops = device.Ops;
        using var dPred = ops.Allocate(pred.Length);
        using var dTruth = ops.Allocate(truth.Length);
        using var dGradient = ops.Allocate(pred.Length);
        using var dWeights = ops.Allocate(rows);
        using var dRowLoss = ops.Accelerator.Allocate1D<double>(rows);
        DeviceOps.Upload(pred, dPred.View);
        DeviceOps.Upload(truth, dTruth.View);
        DeviceOps.Upload(weights, dWeights.View);
        ops.Loss(kind, dPred.View, dTruth.View, dGradient.View, dRowLoss.View, dWeights.View, rows, width, averageOver, hasWeights: true, wantGradient: true);
        var gradient = new float[pred.Length];
        var rowLoss = new double[rows];
        ops.Download(dGradient.View, gradient);
        ops.Download(dRowLoss.View, rowLoss);
        double actual = rowLoss.Sum() / averageOver;

        Assert.True(Math.Abs(expected - actual) <= Tolerance * Math.Abs(expected), $"{lossName}: loss {actual} vs the CPU's {expected}");
        Close.Assert(expectedGradient, gradient, Tolerance, lossName + " gradient");
    }

    public static TheoryData<string, string> OptimizerCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var accelerator in new[] { "cpu-accelerator", "cuda" })
            foreach (var optimizer in new[] { "sgd", "sgd-momentum", "sgd-nesterov", "adam", "rmsprop", "rmsprop-centered-momentum" })
                data.Add(accelerator, optimizer);
        return data;
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void ThreeUpdatesMatchTheCpuOptimizer(string accelerator, string name)
    {
        var device = Devices.For(accelerator);
        Optimizer optimizer = name switch
        {
            "sgd" => new Sgd(0.1),
            "sgd-momentum" => new Sgd(0.1, momentum: 0.9),
            "sgd-nesterov" => new Sgd(0.1, momentum: 0.9, nesterov: true),
            "adam" => new Adam(0.01),
            "rmsprop" => new RmsProp(0.01),
            _ => new RmsProp(0.01, momentum: 0.5, centered: true),
        };
        const int n = 37;
        var start = Close.Random(n, 14);
        var parameter = new Parameter("kernel", new Tensor((float[])start.Clone(), n));
        var ops = device.Ops;
        using var value = ops.Allocate(n);
        using var gradient = ops.Allocate(n);
        using var slot0 = ops.Allocate(n);
        using var slot1 = ops.Allocate(n);
        using var slot2 = ops.Allocate(n);
        DeviceOps.Upload(start, value.View);
        foreach (var buffer in new[] { slot0, slot1, slot2 }) buffer.View.MemSetToZero();

        for (int step = 1; step <= 3; step++)
        {
            var g = Close.Random(n, 100 + step);
            g.CopyTo(parameter.Gradient.Span);
            optimizer.Apply([parameter]);
            DeviceOps.Upload(g, gradient.View);
            switch (optimizer)
            {
                case Sgd sgd:
                    ops.Sgd(value.View, gradient.View, slot0.View, n, (float)sgd.LearningRate, (float)sgd.Momentum, sgd.Nesterov);
                    break;
                case Adam adam:
                    float alpha = (float)(adam.LearningRate * Math.Sqrt(1 - Math.Pow(adam.Beta2, step)) / (1 - Math.Pow(adam.Beta1, step)));
                    ops.Adam(value.View, gradient.View, slot0.View, slot1.View, n, alpha, (float)(1 - adam.Beta1), (float)(1 - adam.Beta2), (float)adam.Epsilon);
                    break;
                case RmsProp rms:
                    ops.RmsProp(value.View, gradient.View, slot0.View, slot1.View, slot2.View, n, (float)rms.LearningRate, (float)rms.Rho,
                        (float)rms.Epsilon, (float)rms.Momentum, rms.Centered);
                    break;
            }
        }
        var actual = new float[n];
        ops.Download(value.View, actual);
        Assert.NotEqual(start, actual);
        Close.Assert(parameter.Value.Span, actual, Tolerance, name);
    }
}
