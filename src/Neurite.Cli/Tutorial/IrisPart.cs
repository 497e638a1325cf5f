using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Optimizers;
using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>The tutorial's first part: a softmax classifier of iris species from the four measurements.</summary>
internal static class IrisPart
{
    public static PartResult Run(TutorialContext context)
    {
        var options = context.Options;
        context.Heading("Iris: a softmax classifier");
        context.Say($"Data: {Iris.Provenance}");

        // data(iris); head(iris); plot(iris$Petal.Length, iris$Petal.Width, col = iris$Species)
        var iris = Iris.Load();
        context.Show(Text.Head(iris));
        var species = iris.Categorical("Species");
        var speciesNames = Enumerable.Range(0, iris.RowCount).Select(r => species[r]!).ToArray();
        context.AddPlot("iris-species.png",
            Charts.Scatter(iris.Numeric("Petal.Length").ToArray(), iris.Numeric("Petal.Width").ToArray(), speciesNames,
                "Iris: petal length against width, by species", "Petal.Length (cm)", "Petal.Width (cm)",
                width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "The species scatter: petal length against petal width, coloured by species.");

        // onehot.species = to_categorical(as.numeric(iris$Species) - 1)
        var x = iris.ToTensor([.. Iris.FeatureNames]);
        var y = CategoricalEncoding.OneHot(species);
        context.Say($"Inputs: {x.Dim(0)} × {x.Dim(1)} measurements; labels one-hot encoded: {y.Dim(0)} × {y.Dim(1)} ({string.Join(", ", species.Levels)}).");

        // set.seed(17); ind <- sample(2, nrow(iris), replace = TRUE, prob = c(0.7, 0.3))
        var split = Iris.TutorialSplit();
        var (xTrain, xTest) = split.Apply(x);
        var (yTrain, yTest) = split.Apply(y);
        context.Say($"The tutorial's split (R's set.seed(17); sample(2, 150, TRUE, prob = c(.7, .3))): {split.TrainCount} training rows, {split.TestCount} test rows.");

        // layer_dense(units = 3, activation = 'softmax', input_shape = 4); summary(model)
        var model = new Sequential(new Dense(yTrain.Dim(1), activation: "softmax", inputShape: [xTrain.Dim(1)])) { Output = context.Console };
        context.Show(model.SummaryText());
        context.Show($"model$inputs:  {model.Inputs[0]}\nmodel$outputs: {model.Outputs[0]}");
        context.AddPlot("iris-network.png",
            ModelDiagram.Draw(model, "Iris model: 4 measurements → softmax over 3 species", Iris.FeatureNames),
            "The network: the four measurements (inputs, green) joined to the three species (softmax outputs, orange).");

        // compile(loss = 'categorical_crossentropy', optimizer = optimizer_sgd(lr = 0.01), metrics = 'accuracy')
        model.Compile(loss: "categorical_crossentropy", optimizer: new Sgd(learningRate: 0.01), metrics: ["accuracy"]);
        int epochs = options.IrisEpochs;
        context.Say($"Training: SGD(learning rate 0.01), categorical cross-entropy, {epochs} epochs, batch 5, validation split 0.2.");
        var progress = new EpochProgress(context.Console, epochs, options.LiveProgress, "iris");
        var history = model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 5, validationSplit: 0.2, verbose: 0,
            callbacks: [new EpochProgressCallback(progress)], cancellationToken: options.Interrupt);
        context.AddPlot("iris-history.png",
            Charts.History(history.Values, "Iris: training history", width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "plot(history): loss and accuracy by epoch on the training rows and the validation fifth.");

        // classes <- predict_classes(iris.test); table(iris.testtarget %*% 0:2, classes)
        int[] classes = model.PredictClasses(xTest);
        var confusion = ConfusionTable.From(ConfusionTable.ClassesOfOneHot(yTest), classes, [.. species.Levels]);
        context.Console.WriteLine("Test rows, actual species (rows) against predicted (columns):");
        context.Show(confusion.Format());
        var (header, rows) = confusion.ToReportTable();
        context.Report.AddTable(header, rows, "Iris test rows: actual species (rows) against predicted (columns)");
        context.AddPlot("iris-confusion.png",
            Charts.ConfusionMatrix(confusion.Counts, confusion.Labels, "Iris: confusion on the test rows",
                width: TutorialContext.PlotWidth, height: TutorialContext.PlotHeight),
            "The confusion table of the test rows as a heat map.");

        // (score <- evaluate(iris.test, iris.testtarget))
        var score = model.Evaluate(xTest, yTest, verbose: 0);
        context.Console.WriteLine("Test score:");
        context.Show(Text.Score(score));
        return new PartResult("iris", score, confusion);
    }
}

/// <summary>What a classification part ends with, for the closing summary.</summary>
internal sealed record PartResult(string Name, IReadOnlyDictionary<string, double> Score, ConfusionTable? Confusion);
