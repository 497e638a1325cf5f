#:project ../src/Neurite/Neurite.csproj
// The breast-cancer part of the tutorial "LSTM with Keras & TensorFlow", step by step beside its R code.
using Neurite;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;

NeuriteRandom.SetSeed(17);

// library(mlbench); data(BreastCancer); dim(BreastCancer); levels(BreastCancer$Class)
var breastCancer = BreastCancer.Load();
Console.WriteLine($"dim: {breastCancer.RowCount} {breastCancer.ColumnCount}; levels(Class): {string.Join(", ", breastCancer.Categorical("Class").Levels)}");

// tt = BreastCancer[complete.cases(BreastCancer), 2:11]
var tt = BreastCancer.LoadComplete();

// for (i in seq(9)) x = cbind(x, to_categorical(as.numeric(tt[, i]) - 1)); y = to_categorical(as.numeric(tt[, 10]) - 1)
var x = CategoricalEncoding.OneHot(tt, [.. BreastCancer.AttributeNames]);
var y = CategoricalEncoding.OneHot(tt.Categorical("Class"));
Console.WriteLine($"x: {x.Dim(0)} x {x.Dim(1)}, y: {y.Dim(0)} x {y.Dim(1)}");

// set.seed(17); ind <- sample(2, nrow(x), replace = TRUE, prob = c(0.7, 0.3))
var split = BreastCancer.TutorialSplit();
var (xTrain, xTest) = split.Apply(x);
var (yTrain, yTest) = split.Apply(y);

// layer_dense(8, 'relu', input_shape = ncol(x.train)) %>% layer_dense(5, 'relu') %>% layer_dense(ncol(y.train), 'softmax')
var model = new Sequential(
    new Dense(8, activation: "relu", inputShape: [xTrain.Dim(1)]),
    new Dense(5, activation: "relu"),
    new Dense(yTrain.Dim(1), activation: "softmax"));
model.Summary();                                            // Total params: 777

// compile(loss = 'categorical_crossentropy', optimizer = "adam", metrics = 'accuracy')
model.Compile(loss: "categorical_crossentropy", optimizer: "adam", metrics: ["accuracy"]);

// fit(x.train, y.train, epochs = 50, batch_size = 50, validation_split = 0.2, verbose = 2)
History history = model.Fit(xTrain, yTrain, epochs: 50, batchSize: 50, validationSplit: 0.2, verbose: 2);

// classes <- predict_classes(x.test); table(y.test %*% 0:1, classes)
int[] classes = model.PredictClasses(xTest);
int[] actual = Enumerable.Range(0, yTest.Shape[0]).Select(r => yTest[r, 0] == 1 ? 0 : 1).ToArray();
Console.WriteLine("        predicted");
Console.WriteLine("actual     0    1");
for (int a = 0; a < 2; a++)
    Console.WriteLine($"{a,6} " + string.Concat(Enumerable.Range(0, 2).Select(p => $"{Enumerable.Range(0, classes.Length).Count(i => actual[i] == a && classes[i] == p),5}")));

// (score <- evaluate(x.test, y.test))
var score = model.Evaluate(xTest, yTest, verbose: 0);
Console.WriteLine($"loss {score["loss"]:0.0000}, accuracy {score["accuracy"]:0.0000}");
