using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.Core;

public class OptimizerTests
{
    private static Parameter Weight(float value, float gradient)
    {
        var layer = new Dense(1, useBias: false, inputShape: [1]);
        layer.Build([1]);
        var p = layer.Parameters[0];
        p.Value.Span[0] = value;
        p.Gradient.Span[0] = gradient;
        return p;
    }

    private static double[] Run(Optimizer optimizer, int steps, float w0 = 1f, float g = 0.5f)
    {
        var p = Weight(w0, g);
        var trace = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            p.Gradient.Span[0] = g;
            optimizer.Apply([p]);
            trace[i] = p.Value.Span[0];
        }
        return trace;
    }

    [Fact]
    public void Sgd_defaults_and_plain_step()
    {
        var sgd = new Sgd();
        Assert.Equal(0.01, sgd.LearningRate);
        Assert.Equal(0.0, sgd.Momentum);
        Assert.Equal(1 - 0.01 * 0.5, Run(sgd, 1)[0], 6);
    }

    [Fact]
    public void Sgd_momentum_and_nesterov_follow_keras_updates()
    {
        // m1 = -0.1·0.5 = -0.05 → w = 0.95; m2 = 0.9·(-0.05) − 0.05 = −0.095 → w = 0.855
        var t = Run(new Sgd(0.1, momentum: 0.9), 2);
        Assert.Equal(0.95, t[0], 6);
        Assert.Equal(0.855, t[1], 6);
        // Nesterov: w += μ·m − lr·g = 0.9·(−0.05) − 0.05 = −0.095 → 0.905
        Assert.Equal(0.905, Run(new Sgd(0.1, momentum: 0.9, nesterov: true), 1)[0], 6);
    }

    [Fact]
    public void Adam_first_two_steps_match_hand_computation()
    {
        var adam = new Adam(learningRate: 0.1);
        Assert.Equal((0.9, 0.999, 1e-7), (adam.Beta1, adam.Beta2, adam.Epsilon));
        Assert.Equal(1e-3, new Adam().LearningRate);
        var t = Run(adam, 2);
        double w = 1, m = 0, v = 0;
        for (int step = 1; step <= 2; step++)
        {
            m += (0.5 - m) * 0.1;
            v += (0.25 - v) * 0.001;
            double alpha = 0.1 * Math.Sqrt(1 - Math.Pow(0.999, step)) / (1 - Math.Pow(0.9, step));
            w -= alpha * m / (Math.Sqrt(v) + 1e-7);
            Assert.Equal(w, t[step - 1], 5);
        }
        // Step one is lr · m̂/√v̂ ≈ lr (ε is negligible): 1 − 0.1.
        Assert.Equal(0.9, t[0], 4);
    }

    [Fact]
    public void RmsProp_first_step_matches_hand_computation()
    {
        // s = 0.1·0.25 = 0.025; w −= 0.1·0.5/√(0.025 + 1e−7)
        Assert.Equal(1 - 0.05 / Math.Sqrt(0.025 + 1e-7), Run(new RmsProp(learningRate: 0.1), 1)[0], 5);
    }

    [Fact]
    public void Adagrad_first_step_matches_hand_computation()
    {
        // a = 0.1 + 0.25; w −= 0.1·0.5/√(0.35 + 1e−7)
        Assert.Equal(1 - 0.05 / Math.Sqrt(0.35 + 1e-7), Run(new Adagrad(learningRate: 0.1), 1)[0], 5);
    }

    [Fact]
    public void Clip_value_and_clip_norm_limit_the_gradient()
    {
        Assert.Equal(1 - 0.1 * 0.2, Run(new Sgd(0.1, clipValue: 0.2), 1)[0], 6);
        Assert.Equal(1 - 0.1 * 0.3, Run(new Sgd(0.1, clipNorm: 0.3), 1)[0], 6);
        Assert.Equal(1 - 0.1 * 0.5, Run(new Sgd(0.1, clipNorm: 3), 1)[0], 6);
    }

    [Fact]
    public void Optimizer_names_resolve_with_keras_defaults_and_unknown_names_fail_clearly()
    {
        Assert.IsType<Adam>(Optimizer.Get("adam"));
        Assert.IsType<Sgd>(Optimizer.Get("SGD"));
        Assert.IsType<RmsProp>(Optimizer.Get("rmsprop"));
        var ex = Assert.Throws<NeuriteException>(() => Optimizer.Get("adamw2"));
        Assert.Contains("'adamw2'", ex.Message);
        Assert.Contains("adam", ex.Message);
    }
}
