using Neurite.Forecasting;

namespace Neurite.Tests.Forecasting;

/// <summary>
/// <see cref="NeuralEnsemble.Train"/> builds and prepares every member before the first trains; each member must still be
/// the one that building and fitting it alone, in turn, makes.
/// </summary>
public class NeuralEnsembleTrainTests
{
    // 40 training rows: a whole batch of 32 and a short one of 8; 20 validation rows: one short batch.
    private const int Inputs = 6, Hidden = 8, Outputs = 2, TrainingRows = 40, ValidationRows = 20, Seed = 41, MaxEpochs = 30;

    [Fact]
    public void Each_member_gets_the_weights_and_epochs_of_building_and_fitting_it_alone_in_turn()
    {
        const int members = 3;
        var (x, y) = Data(TrainingRows, 0);
        var (xv, yv) = Data(ValidationRows, 500);

        // The order Train followed before it prepared its members: seed, build, fit; member after member.
        var alone = new List<IReadOnlyList<Tensor>>();
        var aloneEpochs = new int[members];
        for (int m = 0; m < members; m++)
        {
            NeuriteRandom.SetSeed(Seed + 7919 * m);
            var model = NeuralEnsemble.CreateMember(Inputs, Hidden, Outputs);
            aloneEpochs[m] = NeuralEnsemble.FitMember(model, x, y, xv, yv, MaxEpochs);
            alone.Add(model.GetWeights());
        }

        var (joined, epochs) = NeuralEnsemble.Train(x, y, xv, yv, members, Hidden, MaxEpochs, Seed);

        Assert.Equal(aloneEpochs, epochs);
        var w = joined.GetWeights();
        var kernel1 = w[0].Span.ToArray();
        var bias1 = w[1].Span.ToArray();
        var kernel2 = w[2].Span.ToArray();
        var bias2 = w[3].Span.ToArray();
        for (int m = 0; m < members; m++)
        {
            var (k1, b1, k2, b2) = (alone[m][0].Span.ToArray(), alone[m][1].Span.ToArray(), alone[m][2].Span.ToArray(), alone[m][3].Span.ToArray());
            // Member m's block of the joined network: columns m·Hidden.. of the first kernel, its diagonal block of the second.
            for (int i = 0; i < Inputs; i++)
                for (int j = 0; j < Hidden; j++) Assert.Equal(k1[i * Hidden + j], kernel1[i * members * Hidden + m * Hidden + j]);
            for (int j = 0; j < Hidden; j++) Assert.Equal(b1[j], bias1[m * Hidden + j]);
            for (int j = 0; j < Hidden; j++)
                for (int o = 0; o < Outputs; o++) Assert.Equal(k2[j * Outputs + o], kernel2[(m * Hidden + j) * members * Outputs + m * Outputs + o]);
            for (int o = 0; o < Outputs; o++) Assert.Equal(b2[o], bias2[m * Outputs + o]);
        }
        // The members differ (their seeds do), so a mix-up of members or of their generators would show above.
        Assert.NotEqual(alone[0][0].Span.ToArray(), alone[1][0].Span.ToArray());
    }

    [Fact]
    public void Preparing_a_member_for_training_leaves_its_weights_and_steps_and_what_Fit_makes_of_them()
    {
        var (x, y) = Data(TrainingRows, 0);
        var (xv, yv) = Data(ValidationRows, 500);

        NeuriteRandom.SetSeed(Seed);
        var plain = NeuralEnsemble.CreateMember(Inputs, Hidden, Outputs);
        var plainHistory = plain.Fit(x, y, epochs: 5, batchSize: NeuralEnsemble.BatchSize, validationData: (xv, yv), verbose: 0);

        NeuriteRandom.SetSeed(Seed);
        var prepared = NeuralEnsemble.CreateMember(Inputs, Hidden, Outputs);
        var before = prepared.GetWeights().Select(t => t.Span.ToArray()).ToList();
        prepared.PrepareTraining(TrainingRows, ValidationRows, NeuralEnsemble.BatchSize);
        var after = prepared.GetWeights().Select(t => t.Span.ToArray()).ToList();
        Assert.Equal(before, after);
        Assert.Equal(0, prepared.Optimizer!.Iterations);
        // Adam's moments, made ahead, are the zeros a first step starts from.
        foreach (var weight in prepared.Layers.SelectMany(l => l.Parameters))
            foreach (var slot in prepared.Optimizer.GetSlots(weight)) Assert.All(slot, value => Assert.Equal(0f, value));
        var preparedHistory = prepared.Fit(x, y, epochs: 5, batchSize: NeuralEnsemble.BatchSize, validationData: (xv, yv), verbose: 0);

        Assert.Equal(plainHistory["loss"], preparedHistory["loss"]);
        Assert.Equal(plainHistory["val_loss"], preparedHistory["val_loss"]);
        var (p, q) = (plain.GetWeights(), prepared.GetWeights());
        for (int i = 0; i < p.Count; i++) Assert.Equal(p[i].Span.ToArray(), q[i].Span.ToArray());
        Assert.Equal(plain.Optimizer!.Iterations, prepared.Optimizer!.Iterations);
    }

    [Fact]
    public void Preparing_a_member_that_has_trained_leaves_its_weights_moments_and_steps()
    {
        var (x, y) = Data(TrainingRows, 0);
        var (xv, yv) = Data(ValidationRows, 500);
        NeuriteRandom.SetSeed(Seed);
        var model = NeuralEnsemble.CreateMember(Inputs, Hidden, Outputs);
        model.Fit(x, y, epochs: 2, batchSize: NeuralEnsemble.BatchSize, validationData: (xv, yv), verbose: 0);
        var parameters = model.Layers.SelectMany(l => l.Parameters).ToList();
        var weights = model.GetWeights().Select(t => t.Span.ToArray()).ToList();
        var moments = parameters.SelectMany(p => model.Optimizer!.GetSlots(p)).Select(s => s.ToArray()).ToList();
        long steps = model.Optimizer!.Iterations;
        // Two epochs of a whole and a short batch: non-zero moments, which a zero-gradient Adam step would decay.
        Assert.Equal(4, steps);
        Assert.Contains(moments, m => m.Any(v => v != 0));

        model.PrepareTraining(TrainingRows, ValidationRows, NeuralEnsemble.BatchSize);

        Assert.Equal(weights, model.GetWeights().Select(t => t.Span.ToArray()).ToList());
        Assert.Equal(moments, parameters.SelectMany(p => model.Optimizer.GetSlots(p)).Select(s => s.ToArray()).ToList());
        Assert.Equal(steps, model.Optimizer.Iterations);
    }

    private static (Tensor X, Tensor Y) Data(int rows, int offset)
    {
        var x = new float[rows * Inputs];
        var y = new float[rows * Outputs];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int j = 0; j < Inputs; j++)
            {
                double v = Math.Sin(0.29 * (r + offset) + 0.9 * j);
                x[r * Inputs + j] = (float)v;
                sum += v * (j % 3 - 1);
            }
            for (int o = 0; o < Outputs; o++) y[r * Outputs + o] = (float)(0.4 * sum * (o + 1) + 0.2 * Math.Cos(r + offset + o));
        }
        return (new Tensor(x, rows, Inputs), new Tensor(y, rows, Outputs));
    }
}
