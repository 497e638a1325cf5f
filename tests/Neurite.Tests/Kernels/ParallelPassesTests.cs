using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// A layer's passes (bias, activation forward and backward, column sums) split over threads give the bits of one pass, on
/// every kernel path (each part runs the caller's forced path) and at shapes that divide neither into the parts nor the
/// vector width.
/// </summary>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class ParallelPassesTests
{
    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    private static readonly (int Rows, int Cols)[] Shapes = [(37, 1001), (300, 130), (7, 5000), (1000, 3), (2, 64)];
    private static readonly int[] PartCounts = [2, 3, 5];

    private static void OnTwoThreads(Action body)
    {
        using var keptThreads = KernelPaths.KeepMaxThreads();
        Threading.MaxThreads = 2;
        body();
    }

    [Fact]
    public void Ranges_cover_every_item_once_in_order_on_the_unit()
    {
        foreach (int count in new[] { 0, 1, 63, 64, 1001, 37037 })
            foreach (int unit in new[] { 1, ParallelPasses.Alignment })
                foreach (int parts in PartCounts)
                {
                    int next = 0;
                    for (int part = 0; part < parts; part++)
                    {
                        var (start, length) = ParallelPasses.Range(count, part, parts, unit);
                        Assert.Equal(next, start);
                        Assert.True(length >= 0);
                        Assert.Equal(0, start % unit);
                        next = start + length;
                    }
                    Assert.Equal(count, next);
                }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_activation_split_forward_and_backward_matches_one_pass(KernelPath path) => OnTwoThreads(() =>
    {
        using var _ = KernelPaths.Force(path);
        foreach (var kind in Enum.GetValues<ActivationKind>())
            foreach (var (rows, cols) in Shapes)
                foreach (int parts in PartCounts)
                {
                    int size = rows * cols;
                    var z = KernelPaths.RandomValues(size, size + parts, scale: 4f);
                    var da = KernelPaths.RandomValues(size, size + 2 * parts);
                    var oneA = new float[size];
                    var splitA = new float[size];
                    ActivationKernels.Forward(kind, z, oneA, cols);
                    ParallelPasses.ActivationForward(parts, kind, z, splitA, cols);
                    Assert.True(oneA.AsSpan().SequenceEqual(splitA), $"{path} {kind} forward ({rows}, {cols}) in {parts} parts");
                    var oneDz = new float[size];
                    var splitDz = new float[size];
                    ActivationKernels.Backward(kind, z, oneA, da, oneDz, cols);
                    ParallelPasses.ActivationBackward(parts, kind, z, oneA, da, splitDz, cols);
                    Assert.True(oneDz.AsSpan().SequenceEqual(splitDz), $"{path} {kind} backward ({rows}, {cols}) in {parts} parts");
                }
    });

    [Theory]
    [MemberData(nameof(Paths))]
    public void Bias_and_column_sums_split_match_one_pass(KernelPath path) => OnTwoThreads(() =>
    {
        using var _ = KernelPaths.Force(path);
        foreach (var (rows, cols) in Shapes)
            foreach (int parts in PartCounts)
            {
                int size = rows * cols;
                var matrix = KernelPaths.RandomValues(size, size + parts);
                var bias = KernelPaths.RandomValues(cols, cols + parts);
                var one = (float[])matrix.Clone();
                var split = (float[])matrix.Clone();
                FastMath.AddBias(one, bias, rows, cols);
                ParallelPasses.AddBias(parts, split, bias, rows, cols);
                Assert.True(one.AsSpan().SequenceEqual(split), $"{path} AddBias ({rows}, {cols}) in {parts} parts");
                foreach (bool accumulate in new[] { false, true })
                {
                    var oneSums = KernelPaths.RandomValues(cols, cols);
                    var splitSums = (float[])oneSums.Clone();
                    FastMath.SumRows(matrix, oneSums, rows, cols, accumulate);
                    ParallelPasses.SumRows(parts, matrix, splitSums, rows, cols, accumulate);
                    Assert.True(oneSums.AsSpan().SequenceEqual(splitSums), $"{path} SumRows ({rows}, {cols}) accumulate={accumulate} in {parts} parts");
                }
            }
    });

    [Fact]
    public void Column_sums_of_a_strided_column_range_are_the_sums_of_those_columns()
    {
        // Hand-checked: rows (1, 2, 3, 4), (10, 20, 30, 40), (100, 200, 300, 400); columns 1 and 2 sum to 222 and 333.
        float[] matrix = [1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400];
        var sums = new float[] { -1, -1 };
        unsafe
        {
            fixed (float* m = matrix, s = sums)
                FastMath.SumRows(KernelPath.Scalar, m + 1, 4, s, 3, 2, accumulate: false);
        }
        Assert.Equal([222f, 333f], sums);
    }

    [Fact]
    public void A_short_span_is_refused_before_any_part_runs()
    {
        var a = new float[40_000];
        var error = Assert.Throws<ArgumentException>(() => ParallelPasses.ActivationForward(2, ActivationKind.Relu, new float[40_000], a.AsSpan(0, 39_999), 100));
        Assert.Contains("39999", error.Message);
        Assert.Throws<ArgumentException>(() => ParallelPasses.AddBias(2, new float[40_000], new float[99], 400, 100));
        Assert.All(a, x => Assert.Equal(0f, x));
    }
}
