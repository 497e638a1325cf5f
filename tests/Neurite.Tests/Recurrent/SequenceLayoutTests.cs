using Neurite.Backends.Cpu.Kernels.Recurrent;
using Neurite.Tests.Kernels;

namespace Neurite.Tests.Recurrent;

/// <summary>The sequence driver's layout helpers against plain loops, bit for bit.</summary>
public class SequenceLayoutTests
{
    /// <summary>Rows copied inline (up to 64 features, vector tails included) or by the runtime's copy, forwards and backwards in time.</summary>
    [Theory]
    [InlineData(2, false)]
    [InlineData(16, false)]
    [InlineData(13, true)]
    [InlineData(64, false)]
    [InlineData(70, true)]
    public void PackInputsPutsEachStepsRowsTogether(int features, bool goBackwards)
    {
        const int batch = 5, steps = 3;
        var x = KernelPaths.RandomValues(batch * steps * features, 41);
        var packed = new float[x.Length];
        SequenceLayout.PackInputs(x, packed, batch, steps, features, goBackwards, default);
        for (int s = 0; s < steps; s++)
            for (int b = 0; b < batch; b++)
                for (int f = 0; f < features; f++)
                {
                    int t = goBackwards ? steps - 1 - s : s;
                    Assert.Equal(x[(b * steps + t) * features + f], packed[(s * batch + b) * features + f]);
                }
    }

    /// <summary>Each column's sum is added in row order onto what the sums held, as the bias gradient's chain is defined.</summary>
    [Theory]
    [InlineData(80, 128)]
    [InlineData(7, 37)]
    [InlineData(1, 5)]
    public void AddColumnSumsAddsEachColumnInRowOrder(int rows, int columns)
    {
        var matrix = KernelPaths.RandomValues(rows * columns, 42);
        var sums = KernelPaths.RandomValues(columns, 43);
        var expected = (float[])sums.Clone();
        for (int j = 0; j < columns; j++)
            for (int r = 0; r < rows; r++) expected[j] += matrix[r * columns + j];
        SequenceLayout.AddColumnSums(matrix, rows, columns, sums);
        Assert.Equal(expected, sums);
    }
}
