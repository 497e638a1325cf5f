using System.IO.Compression;
using System.Text;
using CsCheck;
using Neurite.IO;

namespace Neurite.Tests.IO;

/// <summary>
/// Truncated, bit-flipped and absurd files end in <see cref="ModelFileException"/> with a message:
/// no other exception, no hang, no huge allocation.
/// </summary>
public class CorruptFileTests
{
    private static readonly byte[] Keras = File.ReadAllBytes(Path.Combine(Fixtures.KerasDir("keras3_mlp_dense4_flownet"), "model.keras"));
    private static readonly byte[] LegacyH5 = File.ReadAllBytes(Path.Combine(Fixtures.KerasDir("keras2_gru2_hardsigmoid_traffic"), "gru.h5"));

    private enum Mutation { Truncate, FlipByte, Overwrite8 }

    private static byte[] Mutate(byte[] original, Mutation kind, int position, byte value)
    {
        int at = position % original.Length;
        switch (kind)
        {
            case Mutation.Truncate: return original[..at];
            case Mutation.FlipByte:
            {
                var copy = (byte[])original.Clone();
                copy[at] ^= (byte)(value | 1);
                return copy;
            }
            default:
            {
                var copy = (byte[])original.Clone();
                for (int i = at; i < Math.Min(at + 8, copy.Length); i++) copy[i] = value;
                return copy;
            }
        }
    }

    /// <summary>Loads the bytes; returns normally or with a ModelFileException, anything else fails the test.</summary>
    private static void LoadMustSucceedOrFailCleanly(byte[] bytes, string extension)
    {
        using var dir = new TempDir();
        string path = dir.File("fuzz" + extension);
        File.WriteAllBytes(path, bytes);
        // A generous bound that only a hang would exceed; loading the intact file takes milliseconds.
        var load = Task.Run(() =>
        {
            try { Sequential.Load(path); }
            catch (ModelFileException e) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); }
        });
        Assert.True(load.Wait(TimeSpan.FromSeconds(60)), "loading a corrupted file did not finish");
        load.GetAwaiter().GetResult();
    }

    [Fact]
    public void Mutated_keras_archives_load_or_fail_with_ModelFileException() =>
        Gen.Select(Gen.Enum<Mutation>(), Gen.Int[0, Keras.Length - 1], Gen.Byte)
            .Sample((kind, position, value) => LoadMustSucceedOrFailCleanly(Mutate(Keras, kind, position, value), ".keras"), iter: 60, threads: 1);

    [Fact]
    public void Mutated_legacy_h5_files_load_or_fail_with_ModelFileException() =>
        Gen.Select(Gen.Enum<Mutation>(), Gen.Int[0, LegacyH5.Length - 1], Gen.Byte)
            .Sample((kind, position, value) => LoadMustSucceedOrFailCleanly(Mutate(LegacyH5, kind, position, value), ".h5"), iter: 60, threads: 1);

    [Fact]
    public void Mutations_in_the_hdf5_header_region_load_or_fail_with_ModelFileException()
    {
        // The structural metadata sits near the start of an HDF5 file; concentrate mutations there.
        Gen.Select(Gen.Enum<Mutation>(), Gen.Int[0, 4095], Gen.Byte)
            .Sample((kind, position, value) => LoadMustSucceedOrFailCleanly(Mutate(LegacyH5, kind, position, value), ".h5"), iter: 80, threads: 1);
    }

    internal static byte[] WithConfig(Func<string, string> edit) =>
        WithConfigBytes(bytes => Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(bytes))));

    internal static byte[] WithConfigOf(byte[] archive, Func<string, string> edit) =>
        WithConfigBytes(bytes => Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(bytes))), archive);

    private static byte[] WithConfigBytes(Func<byte[], byte[]> edit, byte[]? archive = null)
    {
        using var input = new ZipArchive(new MemoryStream(archive ?? Keras), ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in input.Entries)
            {
                using var src = entry.Open();
                using var buffer = new MemoryStream();
                src.CopyTo(buffer);
                byte[] bytes = entry.FullName == "config.json" ? edit(buffer.ToArray()) : buffer.ToArray();
                using var dst = zip.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                dst.Write(bytes);
            }
        return output.ToArray();
    }

    [Theory]
    [InlineData("\"units\": 64,", "\"units\": 16000000,", "holds only")]
    [InlineData("\"units\": 64,", "\"units\": 65,", "(4, 65)")]
    [InlineData("\"units\": 64,", "\"units\": -3,", "units")]
    [InlineData("\"batch_shape\": [null, 4]", "\"batch_shape\": [null, 2147483647]", "MaxTotalWeights")]
    [InlineData("\"batch_shape\": [null, 4]", "\"batch_shape\": [null, 0]", "batch_shape")]
    [InlineData("\"class_name\": \"Dense\"", "\"class_name\": \"Lambda\"", "Lambda")]
    [InlineData("\"activation\": \"relu\"", "\"activation\": \"relu6\"", "relu6")]
    [InlineData("{\"module\"", "[", "JSON")]
    public void Absurd_configs_are_rejected_before_allocating(string find, string replace, string expectedInMessage)
    {
        var bytes = WithConfig(c =>
        {
            Assert.Contains(find, c);
            int at = c.IndexOf(find, StringComparison.Ordinal);
            return c[..at] + replace + c[(at + find.Length)..];
        });
        using var dir = new TempDir();
        string path = dir.File("absurd.keras");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));

        Assert.Contains(expectedInMessage, e.Message);
        Assert.Contains("absurd.keras", e.Message);
    }

    [Fact]
    public void Invalid_utf8_inside_a_config_string_is_a_model_file_error()
    {
        // Found by the fuzz test: a flipped byte inside a JSON string parses, then fails later when read.
        var bytes = WithConfigBytes(config =>
        {
            var copy = (byte[])config.Clone();
            int at = Encoding.UTF8.GetString(copy).IndexOf("\"relu\"", StringComparison.Ordinal) + 1;
            Assert.True(at > 0);
            copy[at] = 0xFF;
            return copy;
        });
        using var dir = new TempDir();
        string path = dir.File("bad-utf8.keras");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));

        Assert.Contains("UTF-8", e.Message);
        Assert.Contains("bad-utf8.keras", e.Message);
    }

    [Fact]
    public void A_missing_file_and_a_foreign_file_are_reported_clearly()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<ModelFileException>(() => Sequential.Load(dir.File("nope.keras")));
        Assert.Contains("does not exist", missing.Message);
        File.WriteAllText(dir.File("notes.keras"), "hello");
        var foreign = Assert.Throws<ModelFileException>(() => Sequential.Load(dir.File("notes.keras")));
        Assert.Contains("neither", foreign.Message);
    }
}
