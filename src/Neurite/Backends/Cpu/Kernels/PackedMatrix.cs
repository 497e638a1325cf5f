namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The right-hand matrix B of a product, rearranged once into the panel layout the GEMM
/// micro-kernels read, for weights that are multiplied many times between updates (an LSTM's
/// recurrent kernel at every time step). Make one with <see cref="Gemm.PackB"/>, refresh it after a
/// weight update with <see cref="Gemm.Repack"/>, and multiply with
/// <see cref="Gemm.Multiply(ReadOnlySpan{float}, PackedMatrix, Span{float}, int, bool, bool, SidePrefetch)"/>.
/// </summary>
/// <remarks>
/// Layout: op(B) is (K,N); columns are cut into panels of <see cref="PanelWidth"/>, the last one
/// zero-padded; panel j holds rows p = 0..K-1 of its 32 columns one after another, so element
/// (p, j) lives at <c>(j / 32)·K·32 + p·32 + j % 32</c>. Every kernel path reads this one layout.
/// The storage is pinned and 64-byte aligned so kernels may hold raw pointers to it.
/// </remarks>
internal sealed class PackedMatrix
{
    /// <summary>Columns per panel.</summary>
    public const int PanelWidth = 32;

    internal readonly float[] Storage;
    internal readonly int Offset;

    /// <summary>Rows of op(B): the inner dimension of the product.</summary>
    public int K { get; }

    /// <summary>Columns of op(B): the columns of the product.</summary>
    public int N { get; }

    internal int Panels => (N + PanelWidth - 1) / PanelWidth;

    internal int Length => Panels * K * PanelWidth;

    internal PackedMatrix(int k, int n)
    {
        K = k;
        N = n;
        (Storage, Offset) = AlignedBuffer.Allocate(Length);
    }

    internal Span<float> Data => Storage.AsSpan(Offset, Length);
}

/// <summary>Pinned float arrays whose used part starts on a 64-byte boundary.</summary>
internal static class AlignedBuffer
{
    private const int AlignFloats = 16;

    public static unsafe (float[] Array, int Offset) Allocate(int length)
    {
        var array = GC.AllocateUninitializedArray<float>(length + AlignFloats, pinned: true);
        fixed (float* p = array)
        {
            int misalignedFloats = (int)(((nuint)p & 63) / sizeof(float));
            return (array, misalignedFloats == 0 ? 0 : AlignFloats - misalignedFloats);
        }
    }
}
