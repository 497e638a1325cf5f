using System.Buffers.Binary;

namespace Neurite.IO;

/// <summary>
/// Checks the sizes in an HDF5 file's global heap collections (where variable-length strings such as
/// Keras's <c>model_config</c> live) before PureHDF reads them: PureHDF allocates each heap object at
/// its declared size before reading it, so a damaged size in a small file would allocate up to 2 GiB.
/// Each collection must fit in the file, and each object in what follows it.
/// </summary>
internal static class Hdf5HeapCheck
{
    public static void Run(string file, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16) return;
        int lengthSize = bytes[8] <= 1 ? bytes[14] : bytes[10];
        // Other sizes make PureHDF refuse the superblock itself.
        if (lengthSize is not (2 or 4 or 8)) return;
        int at = 0;
        while (at < bytes.Length)
        {
            int found = bytes[at..].IndexOf("GCOL"u8);
            if (found < 0) break;
            CheckCollection(file, bytes, at + found, lengthSize);
            at += found + 4;
        }
    }

    /// <summary>Follows the collection as PureHDF decodes it: objects until the size is used up or an object of index 0.</summary>
    private static void CheckCollection(string file, ReadOnlySpan<byte> bytes, int start, int lengthSize)
    {
        long header = 8 + lengthSize;
        if (start + header > bytes.Length) throw Damaged(file, start, "its header runs past the end of the file");
        ulong size = ReadLength(bytes, start + 8, lengthSize);
        if (size > (ulong)(bytes.Length - start))
            throw Damaged(file, start, $"it declares {size} bytes, but only {bytes.Length - start} remain in the file");
        long position = start + header;
        ulong remaining = size;
        while (remaining > (ulong)header)
        {
            if (position + header > bytes.Length) return; // PureHDF stops at the end of the file with an error of its own
            ushort index = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(int)position..]);
            if (index == 0) return;
            ulong objectSize = ReadLength(bytes, (int)position + 8, lengthSize);
            if (objectSize > (ulong)(bytes.Length - position - header))
                throw Damaged(file, start, $"object {index} at byte {position} declares {objectSize} bytes, but only {bytes.Length - position - header} remain in the file");
            long consumed = header + (long)((objectSize + 7) / 8 * 8);
            // PureHDF's unsigned count wraps around when an object overruns the collection; it then reads on to the end of the file.
            remaining = (ulong)consumed > remaining ? ulong.MaxValue : remaining - (ulong)consumed;
            position += consumed;
        }
    }

    private static ulong ReadLength(ReadOnlySpan<byte> bytes, int at, int size) => size switch
    {
        2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes[at..]),
    };

    private static ModelFileException Damaged(string file, int at, string problem) =>
        new(file, $"the HDF5 global heap at byte {at} is damaged: {problem}. The file is truncated or corrupted; re-save it.");
}
