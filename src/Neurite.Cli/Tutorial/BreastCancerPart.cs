using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>The tutorial's second part: a three-layer MLP telling benign from malignant biopsies.</summary>
internal static class BreastCancerPart
{
    public static PartResult Run(TutorialContext context)
    {
        var options = context.Options;
        context.Heading("Breast cancer: a three-layer MLP");
        context.Say($"Data: {BreastCancer.Provenance}");

        // data(BreastCancer); dim(BreastCancer); head(BreastCancer)
        var all = BreastCancer.Load();
        context.Say($"dim(BreastCancer): {all.RowCount} {all.ColumnCount}; levels(Class): {string.Join(", ", all.Categorical("Class").Levels)}.");
        context.Show(Text.Head(all));

        // tt = BreastCancer[complete.cases(BreastCancer), 2:11]; one to_categorical per factor, side by side
        var complete = BreastCancer.LoadComplete();
        var x = CategoricalEncoding.OneHot(complete, [.. BreastCancer.AttributeNames]);
        var y = CategoricalEncoding.OneHot(complete.Categorical("Class"));
        var widths = BreastCancer.AttributeNames.Select(n => complete.Categorical(n).Levels.Count);
        context.Say($"Complete cases: {complete.RowCount} rows. The nine factors one-hot encoded by level give {string.Join(" + ", widths)} = {x.Dim(1)} inputs; the class gives {y.Dim(1)} outputs.");

        // set.seed(17); ind <- sample(2, nrow(x), replace = TRUE, prob = c(0.7, 0.3))
        var split = BreastCancer.TutorialSplit();
        var (xTrain, xTest) = split.Apply(x);
        var (yTrain, yTest) = split.Apply(y);
        context.Say($"The tutorial's split: {split.TrainCount} training rows, {split.TestCount} test rows.");

        // layer_dense(8, 'relu', input_shape = ncol(x.train)) %>% layer_dense(5, 'relu') %>% layer_dense(ncol(y.train), 'softmax')
        var model = new Sequential(
            new Dense(8, activation: "relu", inputShape: [xTrain.Dim(1)]),
            new Dense(5, activation: "relu"),
            new Dense(yTrain.Dim(1), activation: "softmax")) { Output = context.Console };
        context.Show(model.SummaryText());
        context.AddPlot("breast-cancer-network.png",
            ModelDiagram.Draw(model, "Breast-cancer model: 89 one-hot inputs → 8 → 5 → 2",
                CategoricalEncoding.OneHotNames(complete, [.. BreastCancer.AttributeNames])),
            "The network: 89 one-hot inputs (green), two ReLU layers of 8 and 5 (blue), softmax over benign and malignant (orange).");

        // compile(loss = 'categorical_crossentropy', optimizer = 'adam', metrics = 'accuracy'); fit(..., verbose = 2)
        model.Compile(loss: "categorical_crossentropy", optimizer: "adam", metrics: ["accuracy"]);
        int epochs = options.BreastCancerEpochs;
        context.Say($"Training: Adam, categorical cross-entropy, {epochs} epochs, batch 50, validation split 0.2 (one line per epoch, as verbose = 2).");
        var history = model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 50, validationSplit: 0.2, verbose: 2, cancellationToken: options.Interrupt);
        context.AddPlot("breast-cancer-history.png",
            Charts.History(history.Values, "Breast cancer: training history", width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "plot(history): loss and accuracy by epoch on the training rows and the validation fifth.");

        // classes <- predict_classes(x.test); table(y.test %*% 0:1, classes)
        int[] classes = model.PredictClasses(xTest);
        var confusion = ConfusionTable.From(ConfusionTable.ClassesOfOneHot(yTest), classes, [.. complete.Categorical("Class").Levels]);
        context.Console.WriteLine("Test rows, actual class (rows) against predicted (columns):");
        context.Show(confusion.Format());
        var (header, rows) = confusion.ToReportTable();
        context.Report.AddTable(header, rows, "Breast-cancer test rows: actual class (rows) against predicted (columns)");
        context.AddPlot("breast-cancer-confusion.png",
            Charts.ConfusionMatrix(confusion.Counts, confusion.Labels, "Breast cancer: confusion on the test rows",
                width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "The confusion table of the test rows as a heat map.");

        var score = model.Evaluate(xTest, yTest, verbose: 0);
        context.Console.WriteLine("Test score:");
        context.Show(Text.Score(score));
        return new PartResult("breast cancer", score, confusion);
    }
}
