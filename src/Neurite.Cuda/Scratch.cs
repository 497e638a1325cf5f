using ILGPU;
using ILGPU.Runtime;

namespace Neurite.Cuda;

/// <summary>Device buffers that grow to the largest length asked of each slot and are then reused.</summary>
internal sealed class Scratch(Accelerator accelerator) : IDisposable
{
    private readonly List<MemoryBuffer1D<float, Stride1D.Dense>?> _floats = [];
    private MemoryBuffer1D<byte, Stride1D.Dense>? _bytes;
    private MemoryBuffer1D<double, Stride1D.Dense>? _doubles;

    public ArrayView<float> Floats(int slot, long length)
    {
        while (_floats.Count <= slot) _floats.Add(null);
        var buffer = _floats[slot];
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = accelerator.Allocate1D<float>(Math.Max(1, length));
            _floats[slot] = buffer;
        }
        return buffer.View.SubView(0, Math.Max(1, length));
    }

    public ArrayView<byte> Bytes(long length)
    {
        if (_bytes is null || _bytes.Length < length)
        {
            _bytes?.Dispose();
            _bytes = accelerator.Allocate1D<byte>(Math.Max(1, length));
        }
        return _bytes.View.SubView(0, Math.Max(1, length));
    }

    public ArrayView<double> Doubles(long length)
    {
        if (_doubles is null || _doubles.Length < length)
        {
            _doubles?.Dispose();
            _doubles = accelerator.Allocate1D<double>(Math.Max(1, length));
        }
        return _doubles.View.SubView(0, Math.Max(1, length));
    }

    public void Dispose()
    {
        foreach (var b in _floats) b?.Dispose();
        _bytes?.Dispose();
        _doubles?.Dispose();
    }
}
