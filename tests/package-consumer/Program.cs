// Trains iris through the Neurite package as any consumer would, and fails (exit code 1) unless the
// test accuracy is sensible.
using Neurite;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Optimizers;

const double RequiredAccuracy = 0.9;

Neurite.Random.SetSeed(17);
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
History history = model.Fit(xTrain, yTrain, epochs: 100, batchSize: 8, verbose: 0);
var score = model.Evaluate(xTest, yTest, verbose: 0);

Console.WriteLine($"Neurite {typeof(Sequential).Assembly.GetName().Version}: {history.Epoch.Count} epochs, test loss {score["loss"]:0.0000}, test accuracy {score["accuracy"]:0.0000}");
if (score["accuracy"] < RequiredAccuracy)
{
    Console.Error.WriteLine($"Test accuracy {score["accuracy"]:0.0000} is below {RequiredAccuracy}: the packaged library does not train iris as it should.");
    return 1;
}
return 0;
