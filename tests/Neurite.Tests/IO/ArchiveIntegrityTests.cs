using System.Buffers.Binary;
using System.IO.Compression;
using Neurite.IO;
using Neurite.Layers;

namespace Neurite.Tests.IO;

/// <summary>
/// A .keras archive is used only after its members pass their CRC-32 and size checks, and a small
/// archive cannot make the loader allocate much more than its own size.
/// </summary>
public class ArchiveIntegrityTests
{
    private static readonly byte[] Flownet = File.ReadAllBytes(Path.Combine(Fixtures.KerasDir("keras3_mlp_dense4_flownet"), "model.keras"));

    private static (Sequential Model, byte[] Bytes) SavedModel()
    {
        using var dir = new TempDir();
        var model = new Sequential([new Dense(3, "relu", inputShape: [4]), new Dense(2)]) { Output = TextWriter.Null };
        string path = dir.File("m.keras");
        model.Save(path);
        return (model, File.ReadAllBytes(path));
    }

    private static ModelFileException LoadFails(byte[] bytes, out long allocated)
    {
        using var dir = new TempDir();
        string path = dir.File("damaged.keras");
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("damaged.keras", e.Message);
        return e;
    }

    [Fact]
    public void A_flipped_weight_byte_is_a_crc_error_naming_the_member()
    {
        var (model, bytes) = SavedModel();
        // The stored (uncompressed) member holds the kernel's float32 values as they are; flip the low mantissa byte of one.
        var weight = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(weight, model.Layers[0].Parameters[0].Value.Span[5]);
        int at = bytes.AsSpan().IndexOf(weight);
        Assert.True(at > 0, "the kernel value is in the archive");
        bytes[at] ^= 0x01;

        var e = LoadFails(bytes, out _);

        Assert.Contains("CRC-32", e.Message);
        Assert.Contains("model.weights.h5", e.Message);
    }

    [Fact]
    public void A_flipped_byte_in_a_member_neurite_does_not_read_is_a_crc_error_too()
    {
        var bytes = (byte[])Flownet.Clone();
        int at = bytes.AsSpan().IndexOf("keras_version"u8);
        Assert.True(at > 0);
        bytes[at] ^= 0x20; // "Keras_version": still valid JSON, so only the CRC can tell

        var e = LoadFails(bytes, out _);

        Assert.Contains("CRC-32", e.Message);
        Assert.Contains("metadata.json", e.Message);
    }

    [Fact]
    public void Declared_sizes_that_disagree_with_the_member_are_refused()
    {
        var (_, bytes) = SavedModel();
        var longer = (byte[])bytes.Clone();
        ZipPatch.SetSizes(longer, "model.weights.h5", uncompressed: ZipPatch.Uncompressed(bytes, "model.weights.h5") + 10);
        Assert.Contains("ends after", LoadFails(longer, out _).Message);

        var shorter = (byte[])bytes.Clone();
        ZipPatch.SetSizes(shorter, "model.weights.h5", uncompressed: ZipPatch.Uncompressed(bytes, "model.weights.h5") - 10);
        Assert.Contains("more bytes than its declared", LoadFails(shorter, out _).Message);
    }

    /// <summary>Flownet's config and metadata with a deflated weights member of <paramref name="zeros"/> zero bytes.</summary>
    private static byte[] ZipBomb(int zeros)
    {
        using var input = new ZipArchive(new MemoryStream(Flownet), ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in new[] { "metadata.json", "config.json" })
            {
                using var src = input.GetEntry(name)!.Open();
                using var dst = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                src.CopyTo(dst);
            }
            using var weights = zip.CreateEntry("model.weights.h5", CompressionLevel.SmallestSize).Open();
            var block = new byte[1 << 20];
            for (int i = 0; i < zeros / block.Length; i++) weights.Write(block);
        }
        return output.ToArray();
    }

    [Fact]
    public void A_zip_bomb_is_refused_before_it_is_expanded()
    {
        var bomb = ZipBomb(16 << 20);
        Assert.True(bomb.Length < 200_000, $"the bomb is small ({bomb.Length} bytes)");

        var e = LoadFails(bomb, out long allocated);

        Assert.Contains("MaxExpansionRatio", e.Message);
        Assert.True(allocated < 4 * bomb.Length + (1 << 20), $"loading allocated {allocated} bytes for a {bomb.Length}-byte archive");
    }

    [Fact]
    public void A_small_archive_declaring_a_gibibyte_is_refused_without_allocating_it()
    {
        var bomb = ZipBomb(1 << 20);
        ZipPatch.SetSizes(bomb, "model.weights.h5", uncompressed: 1L << 30);

        var e = LoadFails(bomb, out long allocated);

        Assert.Contains("1073741824", e.Message);
        Assert.True(allocated < 4 * bomb.Length + (1 << 20), $"loading allocated {allocated} bytes for a {bomb.Length}-byte archive");
    }

    [Fact]
    public void A_config_declaring_more_weights_than_the_archive_holds_fails_before_building_the_layers()
    {
        // Flownet's Dense(128) in the middle becomes Dense(20000): 2.6 million weights (10 MB), in a 230 KB archive.
        var bytes = CorruptFileTests.WithConfig(c => c.Replace("\"units\": 128,", "\"units\": 20000,", StringComparison.Ordinal));

        var e = LoadFails(bytes, out long allocated);

        Assert.Contains("holds only", e.Message);
        Assert.True(allocated < 4L << 20, $"loading allocated {allocated} bytes before refusing");
    }
}

/// <summary>Edits the size fields of a zip member in both its local header and its central directory record.</summary>
internal static class ZipPatch
{
    private static IEnumerable<(int Local, int Central)> Records(byte[] zip, string name)
    {
        byte[] wanted = System.Text.Encoding.UTF8.GetBytes(name);
        for (int i = 0; i + 46 <= zip.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i)) != 0x02014b50) continue;
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(i + 28));
            if (!zip.AsSpan(i + 46, nameLength).SequenceEqual(wanted)) continue;
            yield return ((int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i + 42)), i);
        }
    }

    public static long Uncompressed(byte[] zip, string name) =>
        BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(Records(zip, name).Single().Central + 24));

    public static void SetSizes(byte[] zip, string name, long uncompressed)
    {
        var (local, central) = Records(zip, name).Single();
        Assert.Equal(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(local)));
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(local + 22), checked((uint)uncompressed));
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), checked((uint)uncompressed));
    }
}
