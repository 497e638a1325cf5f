using System.Diagnostics;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>
/// The tutorial's third part: the IBEX 35 series, its autocorrelation, and a stacked stateful LSTM that
/// predicts the next day's price from ten real lags of price and volume, scored against persistence.
/// </summary>
internal static class IbexPart
{
    public const int Lags = 10, BatchSize = 50, TrainingDays = 2000, TestDays = 1000;

    public static IbexResult Run(TutorialContext context)
    {
        context.Heading("IBEX 35: a stacked stateful LSTM");
        context.Say($"Data: {Ibex35.Provenance}");

        var series = IbexSeries.Load();
        var window = series.Window;
        var price = window.Numeric("price").ToArray();
        var vol = window.Numeric("vol").ToArray();
        var dates = window.Date("Date");
        var day = Enumerable.Range(1, window.RowCount).Select(i => (double)i).ToArray();
        context.Say($"The tutorial's window: the last {window.RowCount} complete trading days up to {Ibex35.TutorialEndDate:yyyy-MM-dd} " +
                    $"({dates[0]:yyyy-MM-dd} to {dates[window.RowCount - 1]:yyyy-MM-dd}), price = Close, vol = Volume.");
        context.Show(Text.Head(window));

        // plot_ly(myts, x = ~index, y = ~price, color = ~vol); acf(myts$price, lag.max = 3000)
        context.AddPlot("ibex-series.png",
            Charts.ScatterColoredByValue(day, price, vol, "IBEX 35: closing price by trading day, coloured by volume",
                "trading day (1 = " + $"{dates[0]:yyyy-MM-dd})", "price (index points)", "volume",
                width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "The series, coloured by volume. Volume changes units on 2010-08-23 (about 0.2 M before, 217 M after), hence the colour jump.");
        var acf = Statistics.Acf(price, lagMax: window.RowCount);
        context.AddPlot("ibex-acf.png",
            Charts.Acf(acf, price.Length, "IBEX 35: autocorrelation of the price", width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            $"acf(price, lag.max = 3000): autocorrelation at every lag; the dashed band is ±1.96/√n. Lag 1: {Text.Num(acf[1], "0.000")}, lag 250: {Text.Num(acf[250], "0.000")}.");

        // Standardised with the mean and sd of the training days only, so nothing about the test days leaks in.
        var scaler = new StandardScaler();
        scaler.Fit(window.Head(TrainingDays), "price", "vol");
        var standard = scaler.Transform(series.WithLeadIn);
        var standardWindow = standard.Tail(window.RowCount);
        context.Say($"Standardised with the training days' mean and sd (price {Text.Num(scaler.Mean[0], "0.00")} ± {Text.Num(scaler.StandardDeviation[0], "0.00")}, " +
                    $"vol {Text.Num(scaler.Mean[1], "0")} ± {Text.Num(scaler.StandardDeviation[1], "0")}). The tutorial used all 3000 days, which lets the test days shape the inputs. summary():");
        context.Show(Text.Summary([
            ("price", Statistics.Summary(standardWindow.Numeric("price").ToArray())),
            ("vol", Statistics.Summary(standardWindow.Numeric("vol").ToArray())),
        ]));

        var (train, test) = IbexSeries.Windows(standard, series.LeadIn);
        context.Say($"Samples: ten real lags of (price, vol) predict the next day's price. Training: {train.Count} samples (targets on days 1–{TrainingDays}), " +
                    $"{train.Count / BatchSize} batches of {BatchSize}; test: {test.Count} samples (targets on days {TrainingDays + 1}–{TrainingDays + TestDays}), {test.Count / BatchSize} batches. " +
                    $"x.train is {string.Join(" × ", train.X.Shape)}, y.train {string.Join(" × ", train.Y.Shape)}.");
        context.Report.AddParagraph(IbexSeries.LayoutExplanation);
        context.Console.WriteLine("Layout: " + IbexSeries.LayoutExplanation);

        var forecast = IbexModel.TrainAndForecast(context, train, test);

        // Back to index points: the forecast, the actual test prices and persistence (tomorrow = today).
        var predicted = scaler.InverseTransform(ForecastScores.Flatten(forecast.Predicted), "price");
        var persistence = scaler.InverseTransform(ForecastScores.Flatten(ForecastBaselines.Persistence(test)), "price");
        var actual = scaler.InverseTransform(ForecastScores.Flatten(test.Actual), "price");
        var testDay = test.TargetStarts.Select(t => (double)(t - series.LeadIn + 1)).ToArray();
        double modelMae = ForecastScores.MeanAbsoluteError(actual, predicted);
        double persistenceMae = ForecastScores.MeanAbsoluteError(actual, persistence);

        context.AddPlot("ibex-forecast.png",
            Charts.SeriesWithForecast(day, price, testDay, predicted, "IBEX 35: LSTM forecast over the test days", "price (index points)",
                baseline: persistence, baselineName: "persistence", xLabel: "trading day", width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "The series with the LSTM's one-day-ahead forecast over the last 1000 days (shaded) and the persistence forecast, in index points.");
        context.AddPlot("ibex-predicted-vs-actual.png",
            Charts.PredictedVsActual(actual, predicted, "IBEX 35: predicted against actual price, test days", "index points",
                width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "plot(x = y.test, y = pred_out): each test day's forecast against the real price; the dashed line is a perfect forecast.");

        string verdict = Verdict(modelMae, persistenceMae);
        context.Show($"Test MAE, LSTM:        {Text.Num(modelMae, "0.0")} index points ({Text.Num(forecast.StandardisedMae, "0.0000")} standardised)\n" +
                     $"Test MAE, persistence: {Text.Num(persistenceMae, "0.0")} index points ({Text.Num(persistenceMae / scaler.StandardDeviation[0], "0.0000")} standardised)");
        context.Say(verdict);
        return new IbexResult(modelMae, persistenceMae, forecast.Epochs, forecast.TrainingTime, verdict);
    }

    /// <summary>A plain sentence saying which forecast is better and by how much.</summary>
    public static string Verdict(double modelMae, double persistenceMae)
    {
        if (modelMae < persistenceMae)
            return $"The LSTM is better than persistence: its test MAE ({Text.Num(modelMae, "0.0")}) is {Text.Num(100 * (1 - modelMae / persistenceMae), "0.0")}% below persistence's ({Text.Num(persistenceMae, "0.0")}).";
        if (modelMae > persistenceMae)
            return $"Persistence (tomorrow's price = today's) is better than the LSTM: the LSTM's test MAE ({Text.Num(modelMae, "0.0")}) is {Text.Num(100 * (modelMae / persistenceMae - 1), "0.0")}% above persistence's ({Text.Num(persistenceMae, "0.0")}).";
        return $"The LSTM and persistence tie: both have a test MAE of {Text.Num(modelMae, "0.0")}.";
    }
}

/// <summary>What the IBEX part ends with, for the closing summary.</summary>
internal sealed record IbexResult(double ModelMae, double PersistenceMae, int Epochs, TimeSpan TrainingTime, string Verdict);

/// <summary>The IBEX window with the lead-in days its first lags need, and the stateful sample layout.</summary>
internal sealed class IbexSeries
{
    public const string LayoutExplanation =
        "Sample layout: the tutorial's own, made honest. Each sample is ten consecutive days of (price, vol) and its target is the next day's price; " +
        "samples are in time order, 2000 for training (40 batches of 50) and 1000 for testing (20 batches), trained without shuffling, " +
        "with the LSTM states carried from batch to batch and reset after every epoch, as the tutorial's loop does. The first training " +
        "targets need ten earlier days, so the ten trading days before the window serve as inputs only (never as targets). " +
        "The tutorial's R code meant this layout, but its lag()/array() calls repeated one day ten times and its test set swapped the " +
        "columns and ran past the data (see the datasets README); here every lag is a real earlier day. " +
        "TimeSeriesWindows.BuildStatefulSplit was not used: its contiguous streams keep each state on one stretch of time, but 2000 days " +
        "in 50 streams leave only 3 windows per stream (150 training samples) and 1 test window per stream (50 forecasts instead of 1000).";

    private IbexSeries(Table withLeadIn, int leadIn)
    {
        WithLeadIn = withLeadIn;
        LeadIn = leadIn;
        Window = withLeadIn.Tail(withLeadIn.RowCount - leadIn);
    }

    /// <summary>The tutorial's 3000-day window (Date, price, vol), original units.</summary>
    public Table Window { get; }

    /// <summary>The window preceded by <see cref="LeadIn"/> earlier complete days.</summary>
    public Table WithLeadIn { get; }

    public int LeadIn { get; }

    /// <summary>The tutorial's window plus the ten complete trading days before it.</summary>
    public static IbexSeries Load()
    {
        var table = Ibex35.Load();
        var dates = table.Date("Date");
        var upToEnd = Enumerable.Range(0, table.RowCount).Where(i => dates[i] is DateTime d && d <= Ibex35.TutorialEndDate).ToArray();
        var complete = new Table([table["Date"], table["Close"].Rename("price"), table["Volume"].Rename("vol")]).Rows(upToEnd).DropIncomplete();
        var series = new IbexSeries(complete.Tail(Ibex35.TutorialLength + IbexPart.Lags), IbexPart.Lags);
        var tutorial = Ibex35.TutorialWindow();
        // The lead-in must not shift the window: it has to be exactly the tutorial's 3000 days.
        if (series.Window.RowCount != tutorial.RowCount || series.Window.Date("Date")[0] != tutorial.Date("Date")[0])
            throw new InvalidOperationException($"The IBEX window with lead-in starts on {series.Window.Date("Date")[0]:yyyy-MM-dd}, but Ibex35.TutorialWindow() starts on {tutorial.Date("Date")[0]:yyyy-MM-dd}; the two must agree.");
        return series;
    }

    /// <summary>
    /// Training samples whose targets are the window's first 2000 days and test samples whose targets are its
    /// last 1000, each reading the ten days before its target (standardised price and vol).
    /// </summary>
    public static (WindowSet Train, WindowSet Test) Windows(Table standardisedWithLeadIn, int leadIn)
    {
        var windows = new TimeSeriesWindows(lookback: IbexPart.Lags);
        var train = windows.Build(standardisedWithLeadIn, ["price", "vol"], "price", 0, leadIn + IbexPart.TrainingDays);
        var test = windows.Build(standardisedWithLeadIn, ["price", "vol"], "price", leadIn + IbexPart.TrainingDays - IbexPart.Lags, standardisedWithLeadIn.RowCount);
        return (train, test);
    }
}
