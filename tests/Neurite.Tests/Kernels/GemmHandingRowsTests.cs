using System.Collections.Concurrent;
using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyHandingRows"/> (a weight gradient xᵀ·dz whose rows an optimizer update takes as they are done):
/// the product's bits, every row handed once and only after its values are final, on the caller's kernel path.
/// </summary>
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmHandingRowsTests
{
    public static TheoryData<KernelPath> Paths => KernelPaths.Supported();

    // (m, k, n) of C = Aᵀ·B with A stored (k, m): one K block and several (k > 256), N ragged, rows too few to split on
    // two threads (m = 20, which then split the columns and hand nothing), a thin and a small product (never handed).
    private static readonly (int M, int K, int N)[] Shapes = [(96, 64, 96), (100, 300, 100), (20, 64, 128), (1024, 1, 1), (8, 8, 8)];

    private sealed class Recorder(float[] expected, float[] actual, int n, KernelPath path) : IFinishedRows
    {
        public readonly int[] Handed = new int[expected.Length / Math.Max(n, 1)];
        public readonly ConcurrentQueue<string> Failures = new();

        public void RowsFinished(int first, int end)
        {
            if (KernelSelector.Current != path) Failures.Enqueue($"rows {first}..{end} handed on path {KernelSelector.Current}");
            for (int i = first; i < end; i++)
            {
                Interlocked.Increment(ref Handed[i]);
                for (int j = 0; j < n; j++)
                    if (BitConverter.SingleToInt32Bits(actual[i * n + j]) != BitConverter.SingleToInt32Bits(expected[i * n + j]))
                    {
                        Failures.Enqueue($"row {i} handed before its value at column {j} was final: {actual[i * n + j]} vs {expected[i * n + j]}");
                        break;
                    }
            }
        }
    }

    [Fact]
    public void Blocks_shrink_where_B_and_the_updates_streams_would_pass_half_the_L2()
    {
        int savedBlock = Gemm.FinishedBlockFloats;
        try
        {
            Gemm.FinishedBlockFloats = 32 * 1024;
            const int mib = 1024 * 1024;
            int tile = GemmMicroKernels.MaxRowsV512, narrowTile = GemmMicroKernels.MaxRowsV256;
            // dW of a Dense(1024) at B = 64: B's 256 KiB leave 256 KiB of half a 1 MiB L2, 16 K floats: one tile of rows.
            Assert.Equal(tile, Gemm.HandedBlockRows(KernelPath.Vector512, 64, 1024, mib));
            Assert.Equal(16 * 1024 / 1024 / narrowTile * narrowTile, Gemm.HandedBlockRows(KernelPath.Vector256, 64, 1024, mib));
            // A 2 MiB L2, or an unknown one, keeps about FinishedBlockFloats values (two tiles of 1024 values).
            Assert.Equal(2 * tile, Gemm.HandedBlockRows(KernelPath.Vector512, 64, 1024, 2 * mib));
            Assert.Equal(2 * tile, Gemm.HandedBlockRows(KernelPath.Vector512, 64, 1024, 0));
            // A K block of B that takes half the L2 alone (256 × 512, 512 KiB) keeps the full blocks: 5 tiles of 512 values.
            Assert.Equal(5 * tile, Gemm.HandedBlockRows(KernelPath.Vector512, 256, 512, mib));
            Assert.Equal(2 * tile, Gemm.HandedBlockRows(KernelPath.Vector512, 256, 1024, mib));
            // Never under one tile, and never over FinishedBlockFloats (the tests' small blocks).
            Assert.Equal(tile, Gemm.HandedBlockRows(KernelPath.Vector512, 120, 1024, mib));
            Gemm.FinishedBlockFloats = 300;
            Assert.Equal(tile, Gemm.HandedBlockRows(KernelPath.Vector512, 8, 16, mib));
        }
        finally
        {
            Gemm.FinishedBlockFloats = savedBlock;
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Rows_are_handed_once_each_when_final_and_the_product_has_the_bits_of_Multiply(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        int savedThreads = Threading.MaxThreads, savedBlock = Gemm.FinishedBlockFloats;
        try
        {
            int handedProducts = 0;
            foreach (int threads in new[] { 1, 2 })
                foreach (int block in new[] { savedBlock, 300 })
                    foreach (var (m, k, n) in Shapes)
                    {
                        Threading.MaxThreads = threads;
                        Gemm.FinishedBlockFloats = block;
                        string what = $"{path}, {threads} threads, block {block}, m={m} k={k} n={n}";
                        var a = KernelPaths.RandomValues(k * m, m + k);
                        var b = KernelPaths.RandomValues(k * n, n + 7 * k);
                        var expected = new float[m * n];
                        Gemm.Multiply(a, b, expected, m, k, n, transA: true);
                        var actual = new float[m * n];
                        Array.Fill(actual, float.NaN);
                        var recorder = new Recorder(expected, actual, n, path);
                        bool handed = Gemm.MultiplyHandingRows(a, b, actual, m, k, n, transA: true, recorder);
                        Assert.True(recorder.Failures.IsEmpty, $"{what}: {string.Join("; ", recorder.Failures.Take(3))}");
                        for (int i = 0; i < m; i++) Assert.True(recorder.Handed[i] == (handed ? 1 : 0), $"{what}: row {i} handed {recorder.Handed[i]} times (returned {handed})");
                        for (int i = 0; i < expected.Length; i++)
                            Assert.True(BitConverter.SingleToInt32Bits(actual[i]) == BitConverter.SingleToInt32Bits(expected[i]), $"{what}: element {i} is {actual[i]}, Multiply gives {expected[i]}");
                        // Thin and small products run their own kernels and hand nothing; every blocked product on one thread hands.
                        bool blocked = 2.0 * m * n * k >= Gemm.SmallMaxFlops && !Gemm.IsThin(path, m, k, n);
                        if (!blocked) Assert.False(handed, what);
                        else if (threads == 1) Assert.True(handed, what);
                        if (handed) handedProducts++;
                    }
            // Two threads split the rows of (96, 64, 96) and (100, 300, 100) and hand them from both threads.
            Assert.True(handedProducts >= 2 * 2 + 2 * 2, $"{path}: only {handedProducts} products handed their rows");
        }
        finally
        {
            Threading.MaxThreads = savedThreads;
            Gemm.FinishedBlockFloats = savedBlock;
        }
    }
}
