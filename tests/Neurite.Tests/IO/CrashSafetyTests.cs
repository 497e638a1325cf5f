using Neurite.Callbacks;
using Neurite.IO;
using Neurite.Layers;
using Neurite.Optimizers;

namespace Neurite.Tests.IO;

/// <summary>A save killed half-way leaves the previous file intact; an interrupted seeded run resumes to the same weights.</summary>
public class CrashSafetyTests
{
    /// <summary>Passes writes through until <c>limit</c> bytes, then fails as a crash would.</summary>
    private sealed class FailingStream(Stream inner, long limit) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > limit)
            {
                inner.Write(buffer[..(int)(limit - _written)]);
                throw new IOException($"simulated crash after {limit} bytes");
            }
            inner.Write(buffer);
            _written += buffer.Length;
        }
    }

    private static Sequential Mlp(int seed)
    {
        NeuriteRandom.SetSeed(seed);
        var model = new Sequential([new Dense(16, "relu", inputShape: [4]), new Dense(2)], "mlp") { Output = TextWriter.Null };
        model.Compile("mse", new Adam(0.01));
        return model;
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(100L)]
    [InlineData(2000L)]
    public void A_save_killed_half_way_leaves_the_old_file_intact(long bytesBeforeCrash)
    {
        using var dir = new TempDir();
        string path = dir.File("model.keras");
        var good = Mlp(1);
        good.Save(path);
        byte[] before = File.ReadAllBytes(path);
        var other = Mlp(2);

        AtomicFile.WrapOutputForTesting = s => new FailingStream(s, bytesBeforeCrash);
        try
        {
            var e = Assert.Throws<IOException>(() => other.Save(path));
            Assert.Contains("simulated crash", e.Message);
        }
        finally
        {
            AtomicFile.WrapOutputForTesting = null;
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.keras"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        var x = RoundTripTests.RandomTensor(3, 5, 4);
        Assert.Equal(good.Predict(x).ToArray(), Sequential.Load(path).Predict(x).ToArray());
    }

    [Fact]
    public void A_seeded_run_interrupted_and_resumed_from_a_checkpoint_ends_with_the_same_weights()
    {
        using var dir = new TempDir();
        var x = RoundTripTests.RandomTensor(10, 32, 4);
        var y = RoundTripTests.RandomTensor(11, 32, 2);

        // Same start for both runs without relying on the process-wide generator, which parallel tests share.
        var uninterrupted = Mlp(7);
        var interrupted = Mlp(7);
        interrupted.SetWeights(uninterrupted.GetWeights());
        uninterrupted.Fit(x, y, epochs: 6, batchSize: 8, shuffle: false, verbose: 0);

        var checkpoint = new ModelCheckpoint(dir.File("ckpt.keras"), monitor: "loss");
        interrupted.Fit(x, y, epochs: 3, batchSize: 8, shuffle: false, verbose: 0, callbacks: [checkpoint]);
        // The "crash": all process state is gone; only the checkpoint file survives.
        var resumed = Sequential.Load(dir.File("ckpt.keras"));
        resumed.Output = TextWriter.Null;
        resumed.Fit(x, y, epochs: 6, batchSize: 8, shuffle: false, verbose: 0, initialEpoch: 3);

        Assert.Equal(uninterrupted.Optimizer!.Iterations, resumed.Optimizer!.Iterations);
        var expected = uninterrupted.GetWeights();
        var actual = resumed.GetWeights();
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].ToArray(), actual[i].ToArray());
    }

    [Fact]
    public void ModelCheckpoint_saves_only_improvements_with_formatted_names()
    {
        using var dir = new TempDir();
        var model = Mlp(3);
        var x = RoundTripTests.RandomTensor(12, 16, 4);
        var y = RoundTripTests.RandomTensor(13, 16, 2);
        var checkpoint = new ModelCheckpoint(dir.File("w-{epoch:02d}.weights.h5"), monitor: "loss", saveBestOnly: true, saveWeightsOnly: true);

        var history = model.Fit(x, y, epochs: 3, batchSize: 4, shuffle: false, verbose: 0, callbacks: [checkpoint]);

        var losses = history.Values["loss"];
        var expectedFiles = new List<string>();
        double best = double.PositiveInfinity;
        for (int e = 0; e < losses.Count; e++)
            if (losses[e] < best) { best = losses[e]; expectedFiles.Add($"w-{e + 1:00}.weights.h5"); }
        Assert.Equal(expectedFiles, Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        Assert.Equal(best, checkpoint.Best);
    }

    [Fact]
    public void ModelCheckpoint_rejects_a_path_that_does_not_fit_what_it_saves()
    {
        Assert.Contains(".keras", Assert.Throws<NeuriteException>(() => new ModelCheckpoint("best.weights.h5")).Message);
        Assert.Contains(".keras", Assert.Throws<NeuriteException>(() => new ModelCheckpoint("best.hdf5")).Message);
        _ = new ModelCheckpoint("best.h5"); // a Keras 2 whole-model file
        Assert.Contains(".weights.h5", Assert.Throws<NeuriteException>(() => new ModelCheckpoint("best.keras", saveWeightsOnly: true)).Message);
    }
}
