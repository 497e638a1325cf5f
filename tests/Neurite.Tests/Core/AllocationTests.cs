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
