using System.IO.Compression;
using System.IO.Hashing;

namespace Neurite.IO;

/// <summary>
/// The zip container of a <c>.keras</c> file, read so that nothing is used unchecked: each member's
/// declared sizes are compared with the archive and the expansion cap before a byte is allocated,
/// and its bytes with the declared length and CRC-32 after reading. <see cref="ZipArchive"/>
/// checks neither, so a flipped weight byte would otherwise load silently and a small archive could
/// declare gigabytes.
/// </summary>
internal sealed class KerasArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly string _path;
    private readonly long _archiveLength;

    private KerasArchive(string path, byte[] bytes, string[] readLater)
    {
        _path = path;
        _archiveLength = bytes.Length;
        _zip = Damaged(() => new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read));
        try
        {
            // Members the caller does not read are verified too, so a damaged archive is refused as a whole.
            foreach (var entry in Damaged(() => _zip.Entries.ToList()))
                if (!IsFolder(entry) && !readLater.Contains(entry.FullName)) Verify(entry, ModelFileLimits.MaxFileBytes, keep: false);
        }
        catch
        {
            _zip.Dispose();
            throw;
        }
    }

    /// <summary>Members up to this size are never refused for their expansion: a small config may compress well, and cannot exhaust memory.</summary>
    private const long SmallMemberBytes = 1 << 20;

    /// <summary>Opens the archive and verifies every member except <paramref name="readLater"/>, which are verified as they are read.</summary>
    public static KerasArchive Open(string path, byte[] bytes, params string[] readLater) => new(path, bytes, readLater);

    public static bool HasZipSignature(ReadOnlySpan<byte> bytes) => bytes.Length >= 4 && bytes[..4].SequenceEqual("PK\x03\x04"u8);

    /// <summary>The uncompressed length the archive declares for <paramref name="name"/>, after checking it is plausible.</summary>
    public long DeclaredLength(string name, long limit)
    {
        var entry = Entry(name);
        CheckDeclaredSizes(entry, limit);
        return entry.Length;
    }

    /// <summary>Reads a member whole, after checking its declared sizes and before returning its checked bytes.</summary>
    public byte[] Read(string name, long limit) => Verify(Entry(name), limit, keep: true)!;

    private ZipArchiveEntry Entry(string name) => Damaged(() => _zip.GetEntry(name)) ?? throw new ModelFileException(_path,
        $"the .keras archive has no '{name}' (it has: {string.Join(", ", _zip.Entries.Take(10).Select(e => e.FullName))}). A Keras 3 archive holds metadata.json, config.json and model.weights.h5.");

    private static bool IsFolder(ZipArchiveEntry entry) => entry.FullName.EndsWith('/') && entry.Length == 0;

    private void CheckDeclaredSizes(ZipArchiveEntry entry, long limit)
    {
        string name = entry.FullName;
        if (entry.Length > limit)
            throw new ModelFileException(_path, $"the archive member '{name}' declares {entry.Length} bytes, more than the limit of {limit} (ModelFileLimits). Raise the limit if the file is trusted.");
        if (entry.CompressedLength > _archiveLength)
            throw new ModelFileException(_path, $"the archive member '{name}' declares {entry.CompressedLength} compressed bytes, more than the whole archive ({_archiveLength} bytes). The file is truncated or corrupted.");
        long allowed = Math.Max(SmallMemberBytes, checked(entry.CompressedLength * Math.Max(1, ModelFileLimits.MaxExpansionRatio)));
        if (entry.Length > allowed)
            throw new ModelFileException(_path, $"the archive member '{name}' declares {entry.Length} bytes from {entry.CompressedLength} compressed bytes, an expansion over ModelFileLimits.MaxExpansionRatio ({ModelFileLimits.MaxExpansionRatio}x); Keras stores members uncompressed, so this is a zip bomb or a corrupted size. Raise the limit if the file is trusted.");
    }

    /// <summary>Reads exactly the declared length, checks nothing follows and the CRC-32 matches; returns the bytes when <paramref name="keep"/>.</summary>
    private byte[]? Verify(ZipArchiveEntry entry, long limit, bool keep)
    {
        CheckDeclaredSizes(entry, limit);
        string name = entry.FullName;
        var crc = new Crc32();
        byte[] buffer = keep ? new byte[entry.Length] : new byte[(int)Math.Min(entry.Length, 1 << 16)];
        using var stream = Damaged(entry.Open);
        long total = 0;
        while (total < entry.Length)
        {
            int offset = keep ? (int)total : 0;
            int wanted = (int)Math.Min(buffer.Length - offset, entry.Length - total);
            int n = Damaged(() => stream.Read(buffer, offset, wanted));
            if (n == 0) throw new ModelFileException(_path, $"the archive member '{name}' ends after {total} of its declared {entry.Length} bytes. The file is truncated or corrupted.");
            crc.Append(buffer.AsSpan(offset, n));
            total += n;
        }
        if (Damaged(stream.ReadByte) != -1)
            throw new ModelFileException(_path, $"the archive member '{name}' holds more bytes than its declared {entry.Length}. The file is corrupted.");
        uint actual = crc.GetCurrentHashAsUInt32();
        if (actual != entry.Crc32)
            throw new ModelFileException(_path, $"the archive member '{name}' fails its CRC-32 check (the archive records {entry.Crc32:x8}, its bytes give {actual:x8}): it was changed or damaged after it was written. Re-save the model or copy the file again.");
        return keep ? buffer : null;
    }

    private T Damaged<T>(Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new ModelFileException(_path, $"the .keras archive is damaged ({e.Message}). The file is truncated or corrupted; re-save it.", e);
        }
    }

    public void Dispose() => _zip.Dispose();
}
