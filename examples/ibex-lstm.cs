#:project ../src/Neurite/Neurite.csproj
// The LSTM part of the tutorial "LSTM with Keras & TensorFlow", step by step beside its R code.
// Run: dotnet run -c Release examples/ibex-lstm.cs [epochs]   (the tutorial trains 2000 epochs; default here 50)
using Neurite;
using Neurite.Data;
using Neurite.Datasets;
using Neurite.Layers;

NeuriteRandom.SetSeed(17);
int epochs = args.Length > 0 ? int.Parse(args[0]) : 50;
const int datalags = 10, batchSize = 50, trainDays = 2000;

// myts = the last 3000 complete days up to the tutorial's download (2018-11-16): price = Close, vol = Volume
var myts = Ibex35.TutorialWindow();
var price = myts.Numeric("price").ToArray();
var acf = Statistics.Acf(price, lagMax: 3000);                   // acf(myts$price, lag.max = 3000)
Console.WriteLine($"{myts.RowCount} days; autocorrelation at lag 1: {acf[1]:0.000}");

// msd.price = c(mean(myts$price), sd(myts$price)); myts$price = (myts$price - msd.price[1]) / msd.price[2]
// Here the mean and sd come from the training days only, so the test days do not shape the inputs.
var scaler = new StandardScaler();
scaler.Fit(myts.Head(trainDays), "price", "vol");
var standard = scaler.Transform(myts);

// x.train / y.train: ten real lags of (price, vol) predicting the next day's price. The tutorial's lag()/array()
// repeated one day ten times instead (see the datasets README); TimeSeriesWindows takes real lags and keeps
// every training target before the split and every test target after it.
var windows = new TimeSeriesWindows(lookback: datalags);
var train = windows.Build(standard, ["price", "vol"], "price", 0, trainDays);
var test = windows.Build(standard, ["price", "vol"], "price", trainDays - datalags, myts.RowCount);
// A stateful model needs whole batches: keep the latest samples that fill them.
var xTrain = train.X.Slice(train.Count % batchSize, train.Count - train.Count % batchSize);
var yTrain = train.Y.Slice(train.Count % batchSize, train.Count - train.Count % batchSize);
Console.WriteLine($"x.train: {string.Join(" x ", xTrain.Shape)}, x.test: {string.Join(" x ", test.X.Shape)}");

// layer_lstm(100, input_shape = c(datalags, 2), batch_size = batch.size, return_sequences = TRUE, stateful = TRUE) %>%
// layer_dropout(0.5) %>% layer_lstm(50, return_sequences = FALSE, stateful = TRUE) %>% layer_dropout(0.5) %>% layer_dense(1)
var model = new Sequential(
    new Lstm(100, returnSequences: true, stateful: true, inputShape: [datalags, 2], batchSize: batchSize),
    new Dropout(0.5),
    new Lstm(50, returnSequences: false, stateful: true),
    new Dropout(0.5),
    new Dense(1));
model.Compile(loss: "mae", optimizer: "adam");
model.Summary();                                                  // Total params: 71,451

// for (i in 1:2000) { fit(x.train, y.train, batch_size = batch.size, epochs = 1, verbose = 0, shuffle = FALSE); reset_states() }
for (int epoch = 1; epoch <= epochs; epoch++)
{
    var history = model.Fit(xTrain, yTrain, epochs: 1, batchSize: batchSize, shuffle: false, verbose: 0);
    model.ResetStates();
    if (epoch % Math.Max(1, epochs / 10) == 0) Console.WriteLine($"epoch {epoch}/{epochs} - loss {history["loss"][0]:0.0000}");
}

// pred_out <- predict(x.test, batch_size = batch.size)[, 1], back in index points
var predicted = scaler.InverseTransform(ForecastScores.Flatten(model.Predict(test.X, batchSize: batchSize, verbose: 0)), "price");
var actual = scaler.InverseTransform(ForecastScores.Flatten(test.Actual), "price");
// Persistence (tomorrow = today) is the forecast to beat.
var persistence = scaler.InverseTransform(ForecastScores.Flatten(ForecastBaselines.Persistence(test)), "price");
double modelMae = ForecastScores.MeanAbsoluteError(actual, predicted);
double persistenceMae = ForecastScores.MeanAbsoluteError(actual, persistence);
Console.WriteLine($"test MAE: LSTM {modelMae:0.0}, persistence {persistenceMae:0.0} index points");
Console.WriteLine(modelMae < persistenceMae ? "The LSTM beats persistence." : "Persistence beats the LSTM.");
