namespace Neurite.Layers;

// Scalar row/bias helpers; swapped for the vectorised Kernels.FastMath versions once they land.
internal static class BiasOps
{
    public static void AddBias(Span<float> matrix, ReadOnlySpan<float> bias, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * cols, cols);
            for (int j = 0; j < cols; j++) row[j] += bias[j];
        }
    }

    public static void SumRows(ReadOnlySpan<float> matrix, Span<float> colSums, int rows, int cols, bool accumulate)
    {
        if (!accumulate) colSums[..cols].Clear();
        for (int r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * cols, cols);
            for (int j = 0; j < cols; j++) colSums[j] += row[j];
        }
    }
}
