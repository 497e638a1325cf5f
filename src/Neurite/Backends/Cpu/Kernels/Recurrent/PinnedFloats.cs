namespace Neurite.Backends.Cpu.Kernels.Recurrent;

/// <summary>
/// A caller's span, pinned by a <c>fixed</c> block for the duration of a parallel pass, kept in a
/// field so the pass's parts (which run on other threads and cannot capture spans) can reach it.
/// </summary>
internal readonly unsafe struct PinnedFloats(float* start, int length)
{
    public int Length { get; } = length;

    public Span<float> Span => new(start, Length);

    public ReadOnlySpan<float> ReadOnly => new(start, Length);
}
