using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;

namespace Neurite.Tests.Core;

public class TutorialConvergenceTests
{
    [Fact]
    public void Iris_softmax_with_adam_reaches_95_percent_on_the_tutorial_test_rows()
    {
        NeuriteRandom.SetSeed(17);
        var iris = Iris.Load();
        var x = iris.ToTensor([.. Iris.FeatureNames]);
        var y = CategoricalEncoding.OneHot(iris.Categorical("Species"));
        var split = Iris.TutorialSplit();
        var (xTrain, xTest) = split.Apply(x);
        var (yTrain, yTest) = split.Apply(y);
        Assert.Equal((103, 47), (xTrain.Shape[0], xTest.Shape[0]));

        var model = new Sequential(new Dense(3, "softmax", inputShape: [4])) { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", new Neurite.Optimizers.Adam(0.01), ["accuracy"]);
        model.Fit(xTrain, yTrain, epochs: 200, batchSize: 5, validationSplit: 0.2, verbose: 0);
        var score = model.Evaluate(xTest, yTest);
        Assert.True(score["accuracy"] >= 0.95, $"test accuracy {score["accuracy"]:0.000}, loss {score["loss"]:0.000}");
    }
}
