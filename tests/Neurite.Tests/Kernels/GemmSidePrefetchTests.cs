using Neurite.Backends;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Tests.Kernels;

/// <summary>
/// Products on a packed B whose tiles also fetch a caller's lines into L2 (<see cref="SidePrefetch"/>, a recurrent step's next
/// arrays): every element is still the plain fused multiply-add chain, whichever tiles take the lines inside their kernels
/// (full tiles of an A read in place), all at once before the call (ragged and one-vector tiles, A copied into tile runs) or
/// after the last tile (lines left over); the fetched memory is left as it was.
/// </summary>
// It sets the process-wide Threading.MaxThreads, which other classes' path and allocation checks read.
[Collection(Neurite.Tests.Core.AloneCollection.Name)]
public class GemmSidePrefetchTests
{
    [Theory]
    [MemberData(nameof(GemmLeadTests.VectorPaths), MemberType = typeof(GemmLeadTests))]
    public unsafe void ProductsThatFetchLinesGiveTheBitsOfTheChain(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        using var keptThreads = KernelPaths.KeepMaxThreads();
        var side = KernelPaths.RandomValues(2900 * 16 + 32, 1); // the most lines asked for below, from a start off a line
        var sideBefore = (float[])side.Clone();
        int seed = 70;
        // A step's h·R and dz·Rᵀ (one and two K blocks), ragged N (partial and one-vector tiles), rows that split unevenly,
        // a long wide A copied into tile runs; fewer lines than tiles, and more than the kernels take in their k loops.
        int wideN = Gemm.PackRowMajorAMinPanels * PackedMatrix.PanelWidth;
        foreach (var (m, k, n, lines) in new[] { (128, 128, 512, 2800), (128, 512, 128, 700), (37, 300, 100, 5), (7, 64, 40, 2900), (16, 300, wideN, 600) })
            foreach (int threads in new[] { 1, 2 })
            {
                Threading.MaxThreads = threads;
                var a = KernelPaths.RandomValues(m * k, ++seed);
                var b = KernelPaths.RandomValues(k * n, ++seed);
                var packed = Gemm.PackB(b, k, n);
                var expected = new float[m * n];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        float v = 0f;
                        for (int p = 0; p < k; p++) v = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], v);
                        expected[i * n + j] = v;
                    }
                var c = KernelPaths.RandomValues(m * n, 99); // overwritten, never read
                fixed (float* s = side)
                {
                    var runs = new SidePrefetch();
                    // Three runs of the one buffer, none starting on a line.
                    runs.Add(s + 3, lines * 16 / 2);
                    runs.Add(s + 5, lines * 16 / 4);
                    runs.Add(s + 1, lines * 16 / 4);
                    Gemm.Multiply(a, packed, c, m, side: runs);
                }
                Assert.Equal(expected, c);
            }
        Assert.Equal(sideBefore, side);
    }

    [Theory]
    [MemberData(nameof(GemmLeadTests.VectorPaths), MemberType = typeof(GemmLeadTests))]
    public unsafe void ALeadProductThatFetchesLinesGivesTheBitsOfTheChain(KernelPath path)
    {
        using var _ = KernelPaths.Force(path);
        var side = KernelPaths.RandomValues(4096, 2);
        var sideBefore = (float[])side.Clone();
        int seed = 170;
        foreach (var (m, leadK, k, n, init) in new[] { (128, 16, 128, 512, true), (37, 3, 70, 100, false), (12, 16, 128, 64, true) })
        {
            var lead = KernelPaths.RandomValues(m * leadK, ++seed);
            var leadB = KernelPaths.RandomValues(leadK * n, ++seed);
            var a = KernelPaths.RandomValues(m * k, ++seed);
            var b = KernelPaths.RandomValues(k * n, ++seed);
            var rowInit = init ? KernelPaths.RandomValues(n, ++seed) : [];
            var expected = new float[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    float v = init ? rowInit[j] : 0f;
                    for (int p = 0; p < leadK; p++) v = MathF.FusedMultiplyAdd(lead[i * leadK + p], leadB[p * n + j], v);
                    for (int p = 0; p < k; p++) v = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], v);
                    expected[i * n + j] = v;
                }
            var c = KernelPaths.RandomValues(m * n, 98);
            fixed (float* s = side)
            {
                var runs = new SidePrefetch();
                runs.Add(s, side.Length);
                Gemm.MultiplyWithLead(lead, Gemm.PackB(leadB, leadK, n), a, Gemm.PackB(b, k, n), rowInit, c, m, runs);
            }
            Assert.Equal(expected, c);
        }
        Assert.Equal(sideBefore, side);
    }

    /// <summary>Runs cover whole lines from the one holding their first value to the one holding their last, in the order added.</summary>
    [Fact]
    public unsafe void RunsCoverTheLinesOfTheirValuesInOrder()
    {
        var buffer = GC.AllocateArray<float>(256, pinned: true);
        fixed (float* start = buffer)
        {
            float* line0 = (float*)(((long)start + 63) / 64 * 64); // the first line boundary in the buffer
            var runs = new SidePrefetch();
            runs.Add(line0 + 15, 2);   // the last value of line 0 and the first of line 1: 2 lines
            runs.Add(line0 + 32, 16);  // exactly line 2: 1 line
            runs.Add(line0 + 50, 0);   // nothing: no run
            runs.Add(line0 + 49, 40);  // values 49..88: lines 3, 4 and 5
            Assert.Equal(6, runs.Lines);
            Assert.True(runs.Line(0, out int left) == line0 && left == 2);
            Assert.True(runs.Line(1, out left) == line0 + 16 && left == 1);
            Assert.True(runs.Line(2, out left) == line0 + 32 && left == 1);
            Assert.True(runs.Line(3, out left) == line0 + 48 && left == 3);
            Assert.True(runs.Line(5, out left) == line0 + 80 && left == 1);
            runs.Add(line0, 1);
            Assert.Throws<InvalidOperationException>(() => { var full = runs; full.Add(line0, 1); });
        }
    }

    /// <summary>A step fetches its next arrays only while they fit an L2 of at least 1 MiB, and all steps' take more than half of it.</summary>
    [Fact]
    public void TheNextStepIsFetchedOnlyIntoALargeL2ThatCannotHoldTheSequence()
    {
        const int mib = 1024 * 1024;
        // LSTM U = 128, a half of 128 rows: the forward's gates and three states, 128 · (512 + 384) floats = 448 KiB a step;
        // 200 steps of them, 87.5 MiB.
        const long step = 128 * (512 + 384), sequence = 200 * step;
        Assert.True(RecurrentSequence.PrefetchesNextStep(step, sequence, 2 * mib));
        Assert.True(RecurrentSequence.PrefetchesNextStep(step, sequence, mib));              // under all of 1 MiB
        // LSTM U = 256, a half of 128 rows: 128 · (1024 + 768) floats = 896 KiB, within 1 MiB.
        Assert.True(RecurrentSequence.PrefetchesNextStep(128 * (1024 + 768), sequence, mib));
        // LSTM U = 512, a half of 128 rows: 1.75 MiB, over 1 MiB but within 2.
        Assert.False(RecurrentSequence.PrefetchesNextStep(128 * (2048 + 1536), sequence, mib));
        Assert.True(RecurrentSequence.PrefetchesNextStep(128 * (2048 + 1536), sequence, 2 * mib));
        Assert.True(RecurrentSequence.PrefetchesNextStep(mib / 4, sequence, mib));           // exactly the L2
        Assert.False(RecurrentSequence.PrefetchesNextStep(mib / 4 + 1, sequence, mib));      // one float more
        Assert.False(RecurrentSequence.PrefetchesNextStep(1024, sequence, 512 * 1024));      // a 512 KiB L2: never
        Assert.False(RecurrentSequence.PrefetchesNextStep(1024, sequence, 0));               // unknown: never
        // LSTM U = 32, halves of 8 rows over 10 steps: 8 · 224 floats a step, 70 KiB in all, which stay in L2.
        Assert.False(RecurrentSequence.PrefetchesNextStep(8 * 224, 10 * 8 * 224, 2 * mib));
        Assert.False(RecurrentSequence.PrefetchesNextStep(1024, mib / 4, 2 * mib));          // exactly half: stays
        Assert.True(RecurrentSequence.PrefetchesNextStep(1024, mib / 4 + 1, 2 * mib));
    }

    /// <summary>The weight-gradient pass fetches its next K block only while it takes at most half of an L2 of at least 1 MiB,
    /// and at most 7/8 of it with the current block's packed B, A copies and C.</summary>
    [Fact]
    public void TheNextWeightGradientBlockIsFetchedOnlyWhereItFitsBesideTheCurrentOne()
    {
        const int mib = 1024 * 1024;
        // LSTM(128) with 16 features: 256 rows of 512 gate gradients and of 128 + 16 + 1 A rows, 657 KiB; beside it the
        // current block's 657 KiB and C (145 × 512 floats, 290 KiB): 1.6 MiB in all.
        long lstm = 256L * (512 + 145) * sizeof(float), lstmResident = lstm + 145L * 512 * sizeof(float);
        Assert.True(Gemm.TransposedPartsPrefetchNextBlock(lstm, lstmResident, 2 * mib));
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(lstm, lstmResident, mib));
        // A GRU(256)'s gate pass: 256 rows of 512 and 273, 785 KiB, beside 1.3 MiB: over 7/8 of 2 MiB.
        long gru = 256L * (512 + 273) * sizeof(float), gruResident = gru + 273L * 512 * sizeof(float);
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(gru, gruResident, 2 * mib));
        // LSTM(256): 256 rows of 1024 + 273, 1.3 MiB, over half of 2 MiB even alone.
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(256L * (1024 + 273) * sizeof(float), 0, 2 * mib));
        Assert.True(Gemm.TransposedPartsPrefetchNextBlock(mib / 2, mib * 7 / 8 - mib / 2, mib)); // both bounds exactly
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(mib / 2, mib * 7 / 8 - mib / 2 + 1, mib));
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(1024, 0, 512 * 1024));            // a 512 KiB L2: never
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(1024, 0, 0));                     // unknown: never
    }

    /// <summary>The weight-gradient pass shortens its K block, down to 128 rows, where that lets the next block fit beside the
    /// current one; otherwise, and where one block holds all of K, it keeps 256.</summary>
    [Fact]
    public void TheWeightGradientBlockShortensOnlyToFetchTheNextOne()
    {
        const int mib = 1024 * 1024;
        // A GRU(256)'s gate pass (512 columns, 273 rows): k·785·4·2 + 273·512·4 ≤ 7/8 of 2 MiB from k = 203 down.
        Assert.Equal(203, Gemm.TransposedPartsKBlock(6400, 512, 273, 2 * mib));
        long next = 203L * (512 + 273) * sizeof(float);
        Assert.True(Gemm.TransposedPartsPrefetchNextBlock(next, next + 273L * 512 * sizeof(float), 2 * mib));
        next = 204L * (512 + 273) * sizeof(float);
        Assert.False(Gemm.TransposedPartsPrefetchNextBlock(next, next + 273L * 512 * sizeof(float), 2 * mib));
        // Fetching already at 256 rows (the LSTM(128)'s pass): unchanged.
        Assert.Equal(256, Gemm.TransposedPartsKBlock(6400, 512, 145, 2 * mib));
        // An LSTM(256)'s pass (1024 columns, 273 rows) would need 69 rows; a 1 MiB L2 the GRU's 57: under 128, so 256.
        Assert.Equal(256, Gemm.TransposedPartsKBlock(6400, 1024, 273, 2 * mib));
        Assert.Equal(256, Gemm.TransposedPartsKBlock(6400, 512, 273, mib));
        // One block (K ≤ 256) has no next one; a 512 KiB or unknown L2 fetches nothing.
        Assert.Equal(256, Gemm.TransposedPartsKBlock(256, 512, 273, 2 * mib));
        Assert.Equal(256, Gemm.TransposedPartsKBlock(6400, 512, 273, 512 * 1024));
        Assert.Equal(256, Gemm.TransposedPartsKBlock(6400, 512, 273, 0));
    }
}
