using ILGPU;

namespace Neurite.Cuda;

/// <summary>
/// The span interface's host-side reordering between a batch-major sequence (B, T, W), as layers hold it, and the
/// step-major one (T, B, W) in processing order that the device cores read and write.
/// </summary>
internal static class HostSequenceLayout
{
    /// <summary>(B, T, W) to (T, B, W); step s takes time T − 1 − s when <paramref name="reverse"/>; each row times row b of <paramref name="mask"/> (B, W) unless it is empty.</summary>
    public static void ToStepMajor(ReadOnlySpan<float> batchMajor, Span<float> stepMajor, int batch, int steps, int width, bool reverse, ReadOnlySpan<float> mask) =>
        Reorder(batchMajor, stepMajor, batch, steps, width, reverse, mask, toStepMajor: true);

    /// <summary>The inverse of <see cref="ToStepMajor"/>, the mask applied the same way.</summary>
    public static void ToBatchMajor(ReadOnlySpan<float> stepMajor, Span<float> batchMajor, int batch, int steps, int width, bool reverse, ReadOnlySpan<float> mask) =>
        Reorder(stepMajor, batchMajor, batch, steps, width, reverse, mask, toStepMajor: false);

    private static void Reorder(ReadOnlySpan<float> from, Span<float> to, int batch, int steps, int width, bool reverse, ReadOnlySpan<float> mask, bool toStepMajor)
    {
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            for (int b = 0; b < batch; b++)
            {
                int stepRow = (s * batch + b) * width, batchRow = (b * steps + t) * width;
                var source = from.Slice(toStepMajor ? batchRow : stepRow, width);
                var target = to.Slice(toStepMajor ? stepRow : batchRow, width);
                if (mask.IsEmpty) source.CopyTo(target);
                else for (int k = 0; k < width; k++) target[k] = source[k] * mask[b * width + k];
            }
        }
    }

    /// <summary>
    /// Uploads an output gradient step-major like the states it belongs to: (B, T, U) reordered through
    /// <paramref name="staging"/> with returnSequences, else (B, U) as it is; nothing when it is empty.
    /// </summary>
    public static void UploadOutputGradient(ReadOnlySpan<float> dOutput, ArrayView<float> target, ref float[] staging,
        int batch, int steps, int units, bool returnSequences)
    {
        if (dOutput.IsEmpty) return;
        if (!returnSequences)
        {
            DeviceOps.Upload(dOutput[..(batch * units)], target);
            return;
        }
        var packed = GrowAndSlice(ref staging, batch * steps * units);
        ToStepMajor(dOutput, packed, batch, steps, units, reverse: false, mask: default);
        DeviceOps.Upload(packed, target);
    }

    public static void Grow(ref float[] array, long length)
    {
        if (array.Length < length) array = new float[length];
    }

    public static Span<float> GrowAndSlice(ref float[] array, int length)
    {
        Grow(ref array, length);
        return array.AsSpan(0, length);
    }
}
