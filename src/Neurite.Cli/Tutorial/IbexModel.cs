using System.Diagnostics;
using Neurite.Data;
using Neurite.Layers;
using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>The tutorial's stacked stateful LSTM, trained epoch by epoch with ResetStates between epochs.</summary>
internal static class IbexModel
{
    public static Sequential Create(int lags, int features, int batchSize) => new(
        new Lstm(100, returnSequences: true, stateful: true, inputShape: [lags, features], batchSize: batchSize),
        new Dropout(0.5),
        new Lstm(50, returnSequences: false, stateful: true),
        new Dropout(0.5),
        new Dense(1));

    public static IbexForecast TrainAndForecast(TutorialContext context, WindowSet train, WindowSet test)
    {
        var options = context.Options;
        var model = Create(IbexPart.Lags, train.FeatureCount, IbexPart.BatchSize);
        model.Output = context.Console;
        // compile(loss = 'mae', optimizer = 'adam')
        model.Compile(loss: "mae", optimizer: "adam");
        context.Show(model.SummaryText());
        context.AddPlot("ibex-network.png",
            ModelDiagram.Draw(model, "IBEX model: (price, vol) × 10 lags → LSTM 100 → LSTM 50 → 1", ["price (10 lags)", "vol (10 lags)"]),
            "The network: price and volume over ten lags (inputs, green), LSTM(100) and LSTM(50) (blue; dropout 0.5 after each, not drawn), the next day's price (orange).");

        int epochs = options.EffectiveLstmEpochs;
        context.Say($"Training: MAE loss, Adam, {epochs} epoch{(epochs == 1 ? "" : "s")} of {train.Count / IbexPart.BatchSize} batches of {IbexPart.BatchSize}, " +
                    "no shuffling, model.ResetStates() after every epoch (the tutorial's for (i in 1:2000) loop).");
        var losses = new List<double>(epochs);
        var progress = new EpochProgress(context.Console, epochs, options.LiveProgress, "lstm");
        var watch = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var history = model.Fit(train.X, train.Y, epochs: 1, batchSize: IbexPart.BatchSize, shuffle: false, verbose: 0, cancellationToken: options.Interrupt);
            model.ResetStates();
            double loss = history["loss"][0];
            losses.Add(loss);
            progress.EpochDone(epoch, new Dictionary<string, double> { ["loss"] = loss });
        }
        watch.Stop();
        context.Say($"Trained {epochs} epochs in {Text.Num(watch.Elapsed.TotalSeconds, "0.0")} s ({Text.Num(watch.Elapsed.TotalMilliseconds / epochs, "0.0")} ms per epoch).");
        context.AddPlot("ibex-history.png",
            Charts.History(new Dictionary<string, IReadOnlyList<double>> { ["loss"] = losses }, "IBEX LSTM: training loss (MAE, standardised)",
                width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "The training loss (MAE on standardised prices) after each epoch.");

        // pred_out <- predict(x.test, batch_size = batch.size)
        var predicted = model.Predict(test.X, batchSize: IbexPart.BatchSize, verbose: 0);
        model.ResetStates();
        double standardisedMae = ForecastScores.MeanAbsoluteError(ForecastScores.Flatten(test.Actual), ForecastScores.Flatten(predicted));
        return new IbexForecast(predicted, standardisedMae, epochs, watch.Elapsed);
    }
}

/// <summary>The test forecast (standardised) and what training cost.</summary>
internal sealed record IbexForecast(Tensor Predicted, double StandardisedMae, int Epochs, TimeSpan TrainingTime);
