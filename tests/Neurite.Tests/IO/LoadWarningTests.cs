using Neurite.IO;

namespace Neurite.Tests.IO;

/// <summary>
/// What a file holds that Neurite cannot keep is said, not dropped: an unknown loss or optimizer
/// loads the model uncompiled with a warning, an unknown metric is left out with a warning, and
/// running out of memory is not blamed on the file.
/// </summary>
public class LoadWarningTests
{
    // The flownet fixture is compiled with "loss": "mse", Adam and "metrics": null.
    private static Sequential LoadEdited(string find, string replace)
    {
        var bytes = CorruptFileTests.WithConfig(c =>
        {
            Assert.Contains(find, c);
            return c.Replace(find, replace, StringComparison.Ordinal);
        });
        using var dir = new TempDir();
        string path = dir.File("edited.keras");
        File.WriteAllBytes(path, bytes);
        return Sequential.Load(path);
    }

    [Fact]
    public void A_file_loaded_completely_has_no_warnings()
    {
        var model = LoadEdited("\"loss\": \"mse\"", "\"loss\": \"mse\"");
        Assert.NotNull(model.Optimizer);
        Assert.Empty(model.LoadWarnings);
    }

    [Fact]
    public void An_unknown_optimizer_loads_uncompiled_with_a_warning_naming_it()
    {
        var model = LoadEdited("\"class_name\": \"Adam\"", "\"class_name\": \"Nadam\"");

        Assert.Null(model.Optimizer);
        Assert.Null(model.Loss);
        var warning = Assert.Single(model.LoadWarnings);
        Assert.Contains("Nadam", warning);
        Assert.Contains("uncompiled", warning);
    }

    [Fact]
    public void Weight_decay_loads_uncompiled_with_a_warning()
    {
        var model = LoadEdited("\"weight_decay\": null", "\"weight_decay\": 0.004");

        Assert.Null(model.Optimizer);
        Assert.Contains("weight_decay", Assert.Single(model.LoadWarnings));
    }

    [Fact]
    public void An_unknown_loss_loads_uncompiled_with_a_warning_naming_it()
    {
        var model = LoadEdited("\"loss\": \"mse\"", "\"loss\": \"squared_hinge_custom\"");

        Assert.Null(model.Loss);
        Assert.Contains("squared_hinge_custom", Assert.Single(model.LoadWarnings));
        // Uncompiled, it still predicts.
        Assert.Equal([3, 2], model.Predict(Tensor.Zeros(3, 4)).Shape);
    }

    [Fact]
    public void An_unknown_metric_is_left_out_with_a_warning_and_the_rest_compiles()
    {
        var model = LoadEdited("\"metrics\": null", "\"metrics\": [\"mae\", \"mape\"]");

        Assert.IsType<Neurite.Optimizers.Adam>(model.Optimizer);
        Assert.Equal(["mae"], model.MetricNames);
        var warning = Assert.Single(model.LoadWarnings);
        Assert.Contains("'mape'", warning);
        Assert.Contains("without it", warning);
    }

    [Fact]
    public void Running_out_of_memory_on_a_file_that_could_need_it_is_not_reported_as_a_damaged_file()
    {
        long huge = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Assert.Throws<OutOfMemoryException>(() => Hdf5Reading.Guard<int>("m.h5", huge, () => throw new OutOfMemoryException(), "reading"));
        // Whatever else the HDF5 library throws is a damaged file.
        var e = Assert.Throws<ModelFileException>(() => Hdf5Reading.Guard<int>("m.h5", 1000, () => throw new InvalidOperationException("bad heap"), "reading"));
        Assert.Contains("bad heap", e.Message);
    }

    [Fact]
    public void An_impossible_allocation_for_a_small_file_is_reported_as_a_damaged_size()
    {
        Assert.True(Hdf5Reading.CannotNeedThatMemory(300_000), "a 300 KB file is small against this machine's memory");
        var e = Assert.Throws<ModelFileException>(() => Hdf5Reading.Guard<int>("m.h5", 300_000, () => throw new OutOfMemoryException("Array dimensions exceeded supported range."), "reading"));
        Assert.Contains("memory", e.Message);
        Assert.Contains("damaged", e.Message);
        Assert.IsType<OutOfMemoryException>(e.InnerException);
    }
}
