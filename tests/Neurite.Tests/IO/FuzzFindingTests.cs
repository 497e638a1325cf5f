using System.Buffers.Binary;
using Neurite.IO;
using Neurite.Layers;

namespace Neurite.Tests.IO;

/// <summary>Inputs the fuzz workload (bench/Neurite.Benchmarks, <c>fuzz</c>) found to escape as undocumented exceptions or large allocations.</summary>
public class FuzzFindingTests
{
    private static ModelFileException LoadFails(byte[] bytes, string extension, out long allocated)
    {
        using var dir = new TempDir();
        string path = dir.File("found" + extension);
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("found" + extension, e.Message);
        return e;
    }

    private static byte[] SavedH5()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Dense(3, inputShape: [4]), new Dense(2)]);
        model.Save(dir.File("m.h5"));
        return File.ReadAllBytes(dir.File("m.h5"));
    }

    [Fact]
    public void A_damaged_global_heap_object_size_is_refused_before_it_is_allocated()
    {
        // model_config is a variable-length string, kept as an object in a global heap collection ("GCOL").
        var bytes = SavedH5();
        int collection = bytes.AsSpan().IndexOf("GCOL"u8);
        Assert.True(collection > 0);
        int firstObject = collection + 16;
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(firstObject)));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(firstObject + 8), 0x7FFF_0000);

        var e = LoadFails(bytes, ".h5", out long allocated);

        Assert.Contains("global heap", e.Message);
        Assert.True(allocated < 8 * bytes.Length + (1 << 20), $"loading allocated {allocated} bytes for a {bytes.Length}-byte file");
    }

    [Fact]
    public void A_global_heap_collection_larger_than_the_file_is_refused()
    {
        var bytes = SavedH5();
        int collection = bytes.AsSpan().IndexOf("GCOL"u8);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(collection + 8), 1UL << 40);

        Assert.Contains("global heap", LoadFails(bytes, ".h5", out _).Message);
    }

    [Fact]
    public void A_config_with_a_repeated_key_is_invalid_json_not_an_argument_exception()
    {
        var bytes = CorruptFileTests.WithConfig(c => c.Replace("\"units\": 64,", "\"units\": 64, \"units\": 64,", StringComparison.Ordinal));

        var e = LoadFails(bytes, ".keras", out _);

        Assert.Contains("JSON", e.Message);
        Assert.Contains("units", e.Message);
    }

    [Fact]
    public void A_stateful_config_without_a_batch_size_is_refused_at_load()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Lstm(2, stateful: true, inputShape: [3, 2], batchSize: 4), new Dense(1)]);
        model.Save(dir.File("m.keras"));
        var bytes = CorruptFileTests.WithConfigOf(File.ReadAllBytes(dir.File("m.keras")), c =>
        {
            Assert.Contains("[4,3,2]", c);
            return c.Replace("[4,3,2]", "[null,3,2]", StringComparison.Ordinal);
        });

        var e = LoadFails(bytes, ".keras", out _);

        Assert.Contains("stateful", e.Message);
        Assert.Contains("batch size", e.Message);
    }

    [Fact]
    public void A_huge_declared_batch_size_is_refused_before_the_layers_reserve_buffers_for_it()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Lstm(2, stateful: true, inputShape: [3, 2], batchSize: 4), new Dense(1)]);
        model.Save(dir.File("m.keras"));
        var bytes = CorruptFileTests.WithConfigOf(File.ReadAllBytes(dir.File("m.keras")), c => c.Replace("[4,3,2]", "[50000000,3,2]", StringComparison.Ordinal));

        var e = LoadFails(bytes, ".keras", out long allocated);

        Assert.Contains("MaxBatchBufferFloats", e.Message);
        Assert.Contains("50000000", e.Message);
        Assert.True(allocated < 4L << 20, $"loading allocated {allocated} bytes before refusing");
    }
}
