// Trains iris through the Neurite package as any consumer would (with a cancelled and resumed FitAsync),
// and fails (exit code 1) unless the test accuracy is sensible.
using Neurite;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Optimizers;

const double RequiredAccuracy = 0.9;

NeuriteRandom.SetSeed(17);
var iris = Iris.Load();
var x = iris.ToTensor([.. Iris.FeatureNames]);
var y = CategoricalEncoding.OneHot(iris.Categorical("Species"));
var split = Iris.TutorialSplit();
var (xTrain, xTest) = split.Apply(x);
var (yTrain, yTest) = split.Apply(y);

var model = new Sequential(
    new Dense(8, activation: "relu", inputShape: [4]),
    new Dense(3, activation: "softmax"));
model.Compile(loss: "categorical_crossentropy", optimizer: new Adam(learningRate: 0.01), metrics: ["accuracy"]);
// Asynchronous training, cancelled after 20 epochs and resumed from there: the packaged API end to end.
using var stop = new CancellationTokenSource();
int epochsBeforeStop = 0;
try
{
    await model.FitAsync(xTrain, yTrain, epochs: 100, batchSize: 8, verbose: 0,
        callbacks: [new LambdaEpochEnd(() => { if (++epochsBeforeStop == 20) stop.Cancel(); })], cancellationToken: stop.Token);
    Console.Error.WriteLine("FitAsync was not cancelled.");
    return 1;
}
catch (TrainingCanceledException e)
{
    if (e.History.Epoch.Count != 20 || model.History != e.History)
    {
        Console.Error.WriteLine($"The cancelled FitAsync kept {e.History.Epoch.Count} epochs in its History, expected 20 (also as model.History).");
        return 1;
    }
}
History history = model.Fit(xTrain, yTrain, epochs: 100, batchSize: 8, verbose: 0, initialEpoch: 20);
var score = model.Evaluate(xTest, yTest, verbose: 0);

Console.WriteLine($"Neurite {typeof(Sequential).Assembly.GetName().Version}: 20 + {history.Epoch.Count} epochs, test loss {score["loss"]:0.0000}, test accuracy {score["accuracy"]:0.0000}");
if (score["accuracy"] < RequiredAccuracy)
{
    Console.Error.WriteLine($"Test accuracy {score["accuracy"]:0.0000} is below {RequiredAccuracy}: the packaged library does not train iris as it should.");
    return 1;
}
return 0;

/// <summary>Runs an action at the end of each epoch.</summary>
internal sealed class LambdaEpochEnd(Action action) : Neurite.Callbacks.Callback
{
    public override void OnEpochEnd(int epoch, Neurite.Callbacks.Logs logs) => action();
}
