using PureHDF;
using PureHDF.VOL.Native;

namespace Neurite.IO;

/// <summary>
/// Guarded HDF5 reading over PureHDF: the file is in memory, every read is counted against a
/// budget (a corrupted file whose structure loops ends in an error, not a hang), dimensions and
/// types are checked before any data is read, and whatever PureHDF throws on a damaged file is
/// turned into a <see cref="ModelFileException"/>.
/// </summary>
internal sealed class Hdf5Reading : IDisposable
{
    private readonly NativeFile _file;

    private Hdf5Reading(string file, byte[] bytes)
    {
        File = file;
        Length = bytes.Length;
        if (!HasHdf5Signature(bytes))
            throw new ModelFileException(file, "is not an HDF5 file (its first bytes are not the HDF5 signature). Check that the path names a Keras .h5 / .weights.h5 file.");
        Hdf5HeapCheck.Run(file, bytes);
        // Structures are small; reading every byte a few dozen times over means a loop in the file's links.
        var stream = new ReadBudgetStream(new MemoryStream(bytes, writable: false), 64L * bytes.Length + (1 << 20), file);
        _file = Guard(() => H5File.Open(stream, leaveOpen: false), "opening it");
    }

    public string File { get; }
    public long Length { get; }
    public IH5Group Root => _file;

    public static Hdf5Reading Open(string file, byte[] bytes) => new(file, bytes);

    public static bool HasHdf5Signature(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 8 && bytes[..8].SequenceEqual(Signature);

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    public T Guard<T>(Func<T> read, string what) => Guard(File, Length, read, what);

    public static T Guard<T>(string file, long fileLength, Func<T> read, string what)
    {
        try
        {
            return read();
        }
        catch (NeuriteException) { throw; }
        catch (OutOfMemoryException e) when (CannotNeedThatMemory(fileLength))
        {
            throw new ModelFileException(file, $"reading its HDF5 structure while {what} asked for more memory than the process can have ({e.Message}), which a {fileLength}-byte file never needs: a size inside it is damaged. Re-save the file.", e);
        }
        // Other out-of-memory errors are the machine's, not the file's, so they are not reported as damage.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFileException(file, $"the HDF5 structure is damaged or unsupported while {what} ({e.GetType().Name}: {e.Message}). The file is truncated or corrupted; re-save it.", e);
        }
    }

    /// <summary>
    /// Reading a file in memory needs a few times its size at most, so when memory is not scarce and the
    /// file is small against it, an out-of-memory error can only come from a damaged size field.
    /// </summary>
    internal static bool CannotNeedThatMemory(long fileLength)
    {
        var memory = GC.GetGCMemoryInfo();
        return memory.MemoryLoadBytes < memory.HighMemoryLoadThresholdBytes && fileLength < memory.TotalAvailableMemoryBytes / 16;
    }

    public IH5Group? Group(IH5Group parent, string path) => Guard(() =>
        parent.LinkExists(path) && parent.Get(path) is IH5Group g ? g : null, $"looking up group '{path}'");

    public IH5Dataset? Dataset(IH5Group parent, string path) => Guard(() =>
        parent.LinkExists(path) && parent.Get(path) is IH5Dataset d ? d : null, $"looking up dataset '{path}'");

    public int CountChildren(IH5Group group, string where) => Guard(() => group.Children().Count(), $"listing {where}");

    public bool HasAttribute(IH5Object obj, string name) => Guard(() => obj.AttributeExists(name), $"looking up attribute '{name}'");

    /// <summary>A string attribute (scalar, fixed-length or variable-length), or null if absent.</summary>
    public string? StringAttribute(IH5Object obj, string name, string where, int maxBytes)
    {
        if (!HasAttribute(obj, name)) return null;
        return Guard(() =>
        {
            var a = obj.Attribute(name);
            CheckStringType(a, where, name);
            ulong count = Count(a.Space.Dimensions);
            if (count != 1)
                throw new ModelFileException(File, $"attribute '{name}' of {where} must hold one string, but it holds {count}.");
            if (a.Type.Class == H5DataTypeClass.String && a.Type.Size > maxBytes)
                throw TooLong(name, where, maxBytes);
            string value = a.Space.Rank == 0 ? a.Read<string>() : a.Read<string[]>()[0];
            if (System.Text.Encoding.UTF8.GetByteCount(value) > maxBytes) throw TooLong(name, where, maxBytes);
            return value;
        }, $"reading attribute '{name}' of {where}");
    }

    /// <summary>A string-array attribute (Keras 2's <c>layer_names</c>, <c>weight_names</c>); an empty numeric array reads as empty.</summary>
    public string[]? StringArrayAttribute(IH5Object obj, string name, string where, int maxCount)
    {
        if (!HasAttribute(obj, name)) return null;
        return Guard(() =>
        {
            var a = obj.Attribute(name);
            ulong count = Count(a.Space.Dimensions);
            if (count == 0) return [];
            CheckStringType(a, where, name);
            if (count > (ulong)maxCount)
                throw new ModelFileException(File, $"attribute '{name}' of {where} lists {count} names, more than the {maxCount} the model has room for.");
            if (a.Type.Class == H5DataTypeClass.String && a.Type.Size > 4096)
                throw TooLong(name, where, 4096);
            return a.Space.Rank == 0 ? [a.Read<string>()] : a.Read<string[]>();
        }, $"reading attribute '{name}' of {where}");
    }

    private void CheckStringType(IH5Attribute a, string where, string name)
    {
        if (a.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new ModelFileException(File, $"attribute '{name}' of {where} must be a string, but it has HDF5 type {a.Type.Class}.");
    }

    private ModelFileException TooLong(string name, string where, int maxBytes) =>
        new(File, $"attribute '{name}' of {where} is longer than {maxBytes} bytes (ModelFileLimits.MaxConfigBytes for configs). Raise the limit if the file is trusted.");

    /// <summary>Reads a float weight after checking its type and that its shape is exactly <paramref name="expected"/>.</summary>
    public float[] ReadWeight(IH5Dataset d, IReadOnlyList<int> expected, string where)
    {
        var (cls, size, dims) = Guard(() => (d.Type.Class, d.Type.Size, d.Space.Dimensions), $"reading the header of {where}");
        if (cls != H5DataTypeClass.FloatingPoint || size is not (4 or 8))
            throw new ModelFileException(File, $"{where} must hold float32 or float64 values, but it has HDF5 type {cls} of {size} bytes.");
        if (dims.Length != expected.Count || !dims.Zip(expected).All(p => p.First == (ulong)p.Second))
            throw new ModelFileException(File, $"{where} has shape ({string.Join(", ", dims)}) in the file, but the model's config implies ({string.Join(", ", expected)}). The weights do not belong to this architecture.");
        long count = expected.Aggregate(1L, (a, b) => a * b);
        if (count * (long)size > Length)
            throw new ModelFileException(File, $"{where} needs {count * (long)size} bytes, more than the whole file ({Length} bytes). The file is truncated.");
        float[] values = size == 4
            ? Guard(() => d.Read<float[]>(), $"reading {where}")
            : Array.ConvertAll(Guard(() => d.Read<double[]>(), $"reading {where}"), v => (float)v);
        if (values.Length != count)
            throw new ModelFileException(File, $"{where} yielded {values.Length} values instead of {count}. The file is corrupted.");
        return values;
    }

    /// <summary>Reads a scalar number (optimizer iterations and learning rate).</summary>
    public double ReadScalar(IH5Dataset d, string where)
    {
        var (cls, size, dims) = Guard(() => (d.Type.Class, d.Type.Size, d.Space.Dimensions), $"reading the header of {where}");
        if (Count(dims) != 1)
            throw new ModelFileException(File, $"{where} must be a single number, but it has shape ({string.Join(", ", dims)}).");
        return (cls, size) switch
        {
            (H5DataTypeClass.FixedPoint, 8) => Guard(() => d.Read<long[]>()[0], $"reading {where}"),
            (H5DataTypeClass.FixedPoint, 4) => Guard(() => d.Read<int[]>()[0], $"reading {where}"),
            (H5DataTypeClass.FloatingPoint, 4) => Guard(() => d.Read<float[]>()[0], $"reading {where}"),
            (H5DataTypeClass.FloatingPoint, 8) => Guard(() => d.Read<double[]>()[0], $"reading {where}"),
            _ => throw new ModelFileException(File, $"{where} must be an integer or float number, but it has HDF5 type {cls} of {size} bytes."),
        };
    }

    private static ulong Count(ulong[] dims)
    {
        ulong n = 1;
        foreach (var d in dims) n = d == 0 ? 0 : (n > ulong.MaxValue / d ? ulong.MaxValue : n * d);
        return n;
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>A read-only stream that fails once more than a budget of bytes has been read.</summary>
internal sealed class ReadBudgetStream(Stream inner, long budget, string file) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => inner.Position = value; }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    private int Count(int n)
    {
        _read += n;
        if (_read > budget)
            throw new ModelFileException(file, $"reading it took more than {budget} bytes of reads for a {inner.Length}-byte file, so its internal links loop. The file is corrupted.");
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
