using Neurite.Layers;

namespace Neurite.Tests.Core;

public class AllocationTests
{
    [Fact]
    public void A_warm_training_step_allocates_nothing()
    {
        NeuriteRandom.SetSeed(1);
        var model = new Sequential(
            new Dense(8, "relu", inputShape: [89]), new Dropout(0.2), new Dense(5, "relu"), new Dense(2, "softmax"))
        { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", "adam", ["accuracy", "auc"]);
        var x = Tensor.Zeros(50, 89);
        var y = Tensor.Zeros(50, 2);
        for (int i = 0; i < 50; i++) { x[i, i] = 1; y[i, i % 2] = 1; }
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) model.TrainOnBatch(x, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}

public class FitValidationSplitTests
{
    private static (Sequential Model, Tensor X, Tensor Y) Build(int rows)
    {
        NeuriteRandom.SetSeed(3);
        var model = new Sequential(new Dense(8, "relu", inputShape: [89]), new Dense(5, "relu"), new Dense(2, "softmax"))
        { Output = TextWriter.Null };
        model.Compile("categorical_crossentropy", "adam", ["accuracy"]);
        var rng = new System.Random(11);
        var x = Tensor.Zeros(rows, 89);
        var y = Tensor.Zeros(rows, 2);
        for (int i = 0; i < x.Size; i++) x.Span[i] = rng.NextDouble() < 0.1 ? 1 : 0;
        for (int i = 0; i < rows; i++) y[i, i % 3 == 0 ? 1 : 0] = 1;
        return (model, x, y);
    }

    [Fact]
    public void A_split_trains_and_validates_as_its_rows_passed_apart_as_validation_data()
    {
        // 0.2 of 546 rows: 436 train (the last batch short), 110 validate; class weights are read for the training rows only.
        var weights = new Dictionary<int, double> { [0] = 1.0, [1] = 2.5 };
        var (split, x, y) = Build(546);
        var splitHistory = split.Fit(x, y, epochs: 3, batchSize: 50, validationSplit: 0.2, verbose: 0, classWeight: weights);
        var (apart, _, _) = Build(546);
        var apartHistory = apart.Fit(x.Slice(0, 436), y.Slice(0, 436), epochs: 3, batchSize: 50, verbose: 0, classWeight: weights,
            validationData: (x.Slice(436, 110), y.Slice(436, 110)));
        foreach (var key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
            Assert.Equal(apartHistory[key], splitHistory[key]);
        for (int i = 0; i < split.TrainableParameters.Count; i++)
            Assert.Equal(apart.TrainableParameters[i].Value.Span.ToArray(), split.TrainableParameters[i].Value.Span.ToArray());
    }

    [Fact]
    public void A_split_copies_none_of_the_rows()
    {
        // 4000 rows of 89 features: 1.4 MB, copied out by a split before; a Fit's own arrays (the row order, the history) are
        // a small fraction of that.
        var (model, x, y) = Build(4000);
        model.Fit(x, y, epochs: 1, batchSize: 50, validationSplit: 0.2, verbose: 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        model.Fit(x, y, epochs: 1, batchSize: 50, validationSplit: 0.2, verbose: 0);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < x.Size * sizeof(float) / 8, $"a Fit with a validation split allocated {allocated} bytes");
    }
}
