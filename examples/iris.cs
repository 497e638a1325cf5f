#:project ../src/Neurite/Neurite.csproj
// The iris part of the tutorial "LSTM with Keras & TensorFlow", step by step beside its R code.
using Neurite;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;
using Neurite.Optimizers;

NeuriteRandom.SetSeed(17);

// onehot.species = to_categorical(as.numeric(iris$Species) - 1)
var iris = Iris.Load();
var x = iris.ToTensor([.. Iris.FeatureNames]);
var y = CategoricalEncoding.OneHot(iris.Categorical("Species"));

// set.seed(17); ind <- sample(2, nrow(iris), replace = TRUE, prob = c(0.7, 0.3))
var split = Iris.TutorialSplit();
var (xTrain, xTest) = split.Apply(x);
var (yTrain, yTest) = split.Apply(y);

// model %>% layer_dense(units = 3, activation = 'softmax', input_shape = 4)
var model = new Sequential(new Dense(3, activation: "softmax", inputShape: [4]));
model.Summary();
Console.WriteLine(model.Inputs[0]);
Console.WriteLine(model.Outputs[0]);

// compile(loss = 'categorical_crossentropy', optimizer = optimizer_sgd(lr = 0.01), metrics = 'accuracy')
model.Compile(loss: "categorical_crossentropy", optimizer: new Sgd(learningRate: 0.01), metrics: ["accuracy"]);

// fit(x, y, epochs = 100, batch_size = 5, validation_split = 0.2, verbose = 0)
History history = model.Fit(xTrain, yTrain, epochs: 100, batchSize: 5, validationSplit: 0.2, verbose: 0);
Console.WriteLine($"final loss {history["loss"][^1]:0.0000}, val_loss {history["val_loss"][^1]:0.0000}");

// table(iris.testtarget %*% 0:2, classes)
int[] classes = model.PredictClasses(xTest);
int[] actual = Enumerable.Range(0, yTest.Shape[0]).Select(r => yTest[r, 0] == 1 ? 0 : yTest[r, 1] == 1 ? 1 : 2).ToArray();
Console.WriteLine("        predicted");
Console.WriteLine("actual    0   1   2");
for (int a = 0; a < 3; a++)
    Console.WriteLine($"{a,6} " + string.Concat(Enumerable.Range(0, 3).Select(p => $"{Enumerable.Range(0, classes.Length).Count(i => actual[i] == a && classes[i] == p),4}")));

// evaluate(iris.test, iris.testtarget)
var score = model.Evaluate(xTest, yTest, verbose: 0);
Console.WriteLine($"loss {score["loss"]:0.0000}, accuracy {score["accuracy"]:0.0000}");
