using Neurite.Callbacks;
using Neurite.Forecasting;

namespace Neurite.Tests.Forecasting;

/// <summary><see cref="NeuralEnsemble.FitMember"/>: a member ends with the weights of its epoch of lowest validation loss.</summary>
public class NeuralEnsembleFitMemberTests
{
    private const int Inputs = 5, Hidden = 16, Seed = 23, MaxEpochs = 150;

    [Fact]
    public void A_member_is_given_back_the_weights_of_its_lowest_validation_loss_and_the_epochs_to_it()
    {
        var (x, y, xv, yv) = Data();

        // The same member trained by Fit with the same seed, stopping rule and shuffles, its weights recorded at every epoch's end.
        NeuriteRandom.SetSeed(Seed);
        var recorded = NeuralEnsemble.CreateMember(Inputs, Hidden, 1);
        var recorder = new Recorder();
        recorded.Fit(x, y, epochs: MaxEpochs, batchSize: NeuralEnsemble.BatchSize, validationData: (xv, yv), verbose: 0,
            callbacks: new Callback[] { recorder, new EarlyStopping("val_loss", patience: NeuralEnsemble.Patience) });
        int best = recorder.Losses.IndexOf(recorder.Losses.Min());
        // Otherwise the test could not tell a restored copy from the last epoch's weights or from the first improvement's.
        Assert.True(best >= 1 && best <= recorder.Losses.Count - 2, $"best epoch {best} of {recorder.Losses.Count}: {string.Join(' ', recorder.Losses.Select(l => l.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))}");

        NeuriteRandom.SetSeed(Seed);
        var member = NeuralEnsemble.CreateMember(Inputs, Hidden, 1);
        int epochs = NeuralEnsemble.FitMember(member, x, y, xv, yv, MaxEpochs);

        Assert.Equal(best + 1, epochs);
        var kept = member.GetWeights();
        Assert.Equal(recorder.Weights[best].Count, kept.Count);
        for (int i = 0; i < kept.Count; i++)
        {
            Assert.Equal(recorder.Weights[best][i].ShapeArray, kept[i].ShapeArray);
            Assert.Equal(recorder.Weights[best][i].Span.ToArray(), kept[i].Span.ToArray());
        }
        Assert.NotEqual(recorder.Weights[^1][0].Span.ToArray(), kept[0].Span.ToArray());
    }

    // 24 training windows and 12 validation windows of the same linear relation, each with noise of its own: the member
    // learns the relation first and then the training noise, so its best validation epoch lies before its last.
    private static (Tensor X, Tensor Y, Tensor XValidation, Tensor YValidation) Data()
    {
        static (Tensor, Tensor) Make(int rows, int offset, double slope)
        {
            var x = new float[rows * Inputs];
            var y = new float[rows];
            for (int r = 0; r < rows; r++)
            {
                double sum = 0;
                for (int j = 0; j < Inputs; j++)
                {
                    double v = Math.Sin(0.37 * (r + offset) + 1.3 * j);
                    x[r * Inputs + j] = (float)v;
                    sum += v * (j + 1);
                }
                y[r] = (float)(slope * sum + 0.3 * Math.Cos(r + offset));
            }
            return (new Tensor(x, rows, Inputs), new Tensor(y, rows, 1));
        }
        var (xt, yt) = Make(24, 0, 0.5);
        var (xv, yv) = Make(12, 100, 0.5);
        return (xt, yt, xv, yv);
    }

    private sealed class Recorder : Callback
    {
        public List<double> Losses { get; } = new();

        public List<IReadOnlyList<Tensor>> Weights { get; } = new();

        public override void OnEpochEnd(int epoch, Logs logs)
        {
            Assert.True(logs.TryGetValue("val_loss", out double loss));
            Losses.Add(loss);
            Weights.Add(Model!.GetWeights());
        }
    }
}
