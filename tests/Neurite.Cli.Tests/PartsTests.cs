using Neurite.Cli.Tutorial;
using Neurite.Layers;

namespace Neurite.Cli.Tests;

public sealed class PartsTests
{
    [Fact]
    public void Confusion_table_counts_actual_rows_against_predicted_columns()
    {
        // actual:    0 0 0 1 1 2 2 2
        // predicted: 0 0 1 1 1 1 2 2  → row 0: 2 1 0; row 1: 0 2 0; row 2: 0 1 2
        var table = ConfusionTable.From([0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 1, 1, 1, 1, 2, 2], ["a", "b", "c"]);
        Assert.Equal(new[,] { { 2, 1, 0 }, { 0, 2, 0 }, { 0, 1, 2 } }, table.Counts);
        Assert.Equal(6, table.Correct);
        Assert.Equal(8, table.Total);
        var lines = table.Format().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("classes", lines[0].Trim());
        Assert.Matches(@"^\s+0\s+1\s+2\s+total$", lines[1]);
        Assert.Matches(@"^\s+0\s+2\s+1\s+0\s+3\s+a$", lines[2]);
        Assert.Matches(@"^\s+2\s+0\s+1\s+2\s+3\s+c$", lines[4]);
    }

    [Fact]
    public void Classes_of_one_hot_rows_are_the_index_of_the_one()
    {
        var y = new Tensor([0, 1, 0, 1, 0, 0, 0, 0, 1], 3, 3);
        Assert.Equal([1, 0, 2], ConfusionTable.ClassesOfOneHot(y));
    }

    [Theory]
    [InlineData(80.0, 100.0, "The LSTM is better than persistence", "20.0% below")]
    [InlineData(150.0, 100.0, "Persistence (tomorrow's price = today's) is better than the LSTM", "50.0% above")]
    [InlineData(100.0, 100.0, "tie", "100.0")]
    public void The_verdict_says_plainly_which_forecast_is_better(double model, double persistence, string says, string amount)
    {
        string verdict = IbexPart.Verdict(model, persistence);
        Assert.Contains(says, verdict);
        Assert.Contains(amount, verdict);
    }

    [Fact]
    public void Ibex_samples_are_ten_real_lags_with_targets_2000_training_and_1000_test_days()
    {
        var series = IbexSeries.Load();
        Assert.Equal(3000, series.Window.RowCount);
        Assert.Equal(3010, series.WithLeadIn.RowCount);
        Assert.Equal(new DateTime(2007, 2, 16), series.Window.Date("Date")[0]);

        var (train, test) = IbexSeries.Windows(series.WithLeadIn, series.LeadIn);
        Assert.Equal([2000, 10, 2], train.X.Shape);
        Assert.Equal([1000, 10, 2], test.X.Shape);
        // Rows of WithLeadIn: 0–9 lead-in, 10–2009 the training days, 2010–3009 the test days.
        Assert.Equal(10, train.TargetStarts[0]);
        Assert.Equal(2009, train.TargetStarts[^1]);
        Assert.Equal(2010, test.TargetStarts[0]);
        Assert.Equal(3009, test.TargetStarts[^1]);
        // Sample i reads the ten days before its target, price in column 0 and vol in column 1, oldest first.
        var price = series.WithLeadIn.Numeric("price");
        var vol = series.WithLeadIn.Numeric("vol");
        Assert.Equal((float)price[0], train.X[0, 0, 0]);
        Assert.Equal((float)vol[9], train.X[0, 9, 1]);
        Assert.Equal((float)price[10], train.Y[0, 0]);
        Assert.Equal((float)price[2000 + 7], test.X[0, 7, 0]);
        Assert.Equal((float)price[3009], test.Y[999, 0]);
    }

    [Fact]
    public void The_network_diagram_leaves_out_dropout_and_starts_with_the_inputs()
    {
        var model = new Sequential(new Dense(8, "relu", inputShape: [4]), new Dropout(0.5), new Dense(2, "softmax"));
        var layers = ModelDiagram.Layers(model, 4);
        Assert.Equal(["Input", "Dense", "Dense"], layers.Select(l => l.Kind));
        Assert.Equal([4, 8, 2], layers.Select(l => l.Units));
        Assert.Equal([null, "relu", "softmax"], layers.Select(l => l.Activation));
    }

    [Fact]
    public void Options_give_the_tutorials_lstm_epochs_unless_quick_or_overridden()
    {
        Assert.Equal(2000, new TutorialOptions().EffectiveLstmEpochs);
        Assert.Equal(TutorialOptions.QuickLstmEpochs, new TutorialOptions { Quick = true }.EffectiveLstmEpochs);
        Assert.Equal(7, new TutorialOptions { Quick = true, LstmEpochs = 7 }.EffectiveLstmEpochs);
        Assert.Throws<TutorialOptionsException>(() => new TutorialOptions { LstmEpochs = 0 }.Validate());
        Assert.Throws<TutorialOptionsException>(() => new TutorialOptions { Parts = [] }.Validate());
    }
}
