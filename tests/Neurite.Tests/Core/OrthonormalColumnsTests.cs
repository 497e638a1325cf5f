using Neurite.Initializers;

namespace Neurite.Tests.Core;

/// <summary>
/// The Gram–Schmidt behind <see cref="Orthogonal"/>, checked against the definition of the QR factorisation: Q has
/// orthonormal columns and QᵀA is upper triangular with a positive diagonal (which makes Q unique), for shapes that
/// reach every loop's tail (rows not a multiple of 4, a last block narrower than a full one, a last group narrower than 4).
/// </summary>
public class OrthonormalColumnsTests
{
    [Theory]
    [InlineData(7, 1)]
    [InlineData(9, 9)]
    [InlineData(50, 16)]
    [InlineData(203, 70)]
    [InlineData(64, 37)]
    public void The_columns_are_the_q_factor_of_the_input(int m, int n)
    {
        var a = Draw(m, n, seed: m * 31 + n);
        var q = (double[])a.Clone();
        OrthonormalColumns.Orthonormalize(q, m, n);

        double worstGram = 0, worstBelow = 0, smallestDiagonal = double.MaxValue;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double gram = 0, r = 0;
                for (int k = 0; k < m; k++)
                {
                    gram += q[i * m + k] * q[j * m + k];
                    r += q[i * m + k] * a[j * m + k];   // (QᵀA)[i, j]
                }
                worstGram = Math.Max(worstGram, Math.Abs(gram - (i == j ? 1 : 0)));
                if (i > j) worstBelow = Math.Max(worstBelow, Math.Abs(r));
                if (i == j) smallestDiagonal = Math.Min(smallestDiagonal, r);
            }
        Assert.True(worstGram < 1e-13, $"largest |QᵀQ − I| entry {worstGram}");
        // A's entries are of order 1, so a column of A not projected out would leave entries of order 0.1–1 below the diagonal.
        Assert.True(worstBelow < 1e-12, $"largest |(QᵀA)[i, j]|, i > j: {worstBelow}");
        Assert.True(smallestDiagonal > 0, $"smallest diagonal of QᵀA {smallestDiagonal}");
    }

    [Fact]
    public void Nearly_dependent_columns_still_come_out_orthonormal()
    {
        // Every column is the first plus 1e-7 of noise (condition number ~1e7): one pass of Gram–Schmidt would leave
        // QᵀQ off the identity by ~1e-9; projecting each column out twice keeps it at rounding level.
        const int m = 120, n = 40;
        var a = Draw(m, n, seed: 11);
        for (int j = 1; j < n; j++)
            for (int k = 0; k < m; k++) a[j * m + k] = a[k] + 1e-7 * a[j * m + k];
        OrthonormalColumns.Orthonormalize(a, m, n);
        double worst = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double gram = 0;
                for (int k = 0; k < m; k++) gram += a[i * m + k] * a[j * m + k];
                worst = Math.Max(worst, Math.Abs(gram - (i == j ? 1 : 0)));
            }
        Assert.True(worst < 1e-13, $"largest |QᵀQ − I| entry {worst}");
    }

    [VectorTheory]
    [InlineData(203, 70)]
    [InlineData(64, 37)]
    [InlineData(13, 5)]
    public void The_vector_and_scalar_loops_give_the_same_bits(int m, int n)
    {
        var vector = Draw(m, n, seed: 3);
        var scalar = (double[])vector.Clone();
        OrthonormalColumns.Orthonormalize(vector, m, n, useVectors: true);
        OrthonormalColumns.Orthonormalize(scalar, m, n, useVectors: false);
        Assert.Equal(scalar, vector);
    }

    [Fact]
    public void Fewer_rows_than_columns_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => OrthonormalColumns.Orthonormalize(new double[6], 2, 3));
        Assert.Contains("2×3", e.Message);
    }

    private static double[] Draw(int m, int n, int seed)
    {
        var rng = new System.Random(seed);
        var a = new double[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() * 2 - 1;
        return a;
    }
}

/// <summary>A theory that needs the vector loops, skipped by name where Vector256 is not accelerated.</summary>
public sealed class VectorTheoryAttribute : TheoryAttribute
{
    public VectorTheoryAttribute()
    {
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            Skip = "Vector256 is not hardware-accelerated on this machine, so only the scalar loops exist to run.";
    }
}
