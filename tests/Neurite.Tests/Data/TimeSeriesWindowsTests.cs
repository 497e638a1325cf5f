using CsCheck;
using Neurite.Data;

namespace Neurite.Tests.Data;

public class TimeSeriesWindowsTests
{
    private static double[] Ramp(int n, double scale = 10) => Enumerable.Range(0, n).Select(i => i * scale).ToArray();

    [Fact]
    public void Univariate_windows_take_real_lags_and_predict_the_following_steps()
    {
        // Series value = 10 · index, so every number below names its own index.
        var w = new TimeSeriesWindows(lookback: 3, horizon: 2).Build(Ramp(10));

        Assert.Equal(6, w.Count); // ⌊(10 − 3 − 2)/1⌋ + 1
        Assert.Equal([6, 3, 1], w.X.Shape);
        Assert.Equal([6, 2], w.Y.Shape);
        Assert.Equal([0f, 10, 20], w.X.ToArray()[..3]);
        Assert.Equal([30f, 40], w.Y.ToArray()[..2]);
        Assert.Equal([50f, 60, 70], w.X.ToArray()[^3..]);
        Assert.Equal([80f, 90], w.Y.ToArray()[^2..]);
        Assert.Equal([3, 4, 5, 6, 7, 8], w.TargetStarts);
    }

    [Fact]
    public void Multivariate_windows_keep_the_feature_order_at_every_step()
    {
        int n = 6;
        var features = new double[n, 2];
        for (int t = 0; t < n; t++) { features[t, 0] = t; features[t, 1] = 100 + t; }
        var target = Enumerable.Range(0, n).Select(t => 1000.0 + t).ToArray();

        var w = new TimeSeriesWindows(lookback: 2, horizon: 1, stride: 2).Build(features, target);

        Assert.Equal([2, 2, 2], w.X.Shape); // origins 1 and 3 (origin 5 has no next step)
        Assert.Equal([0f, 100, 1, 101, 2, 102, 3, 103], w.X.ToArray());
        Assert.Equal([1002f, 1004], w.Y.ToArray());
    }

    [Fact]
    public void Split_windows_stay_on_their_side_of_the_split()
    {
        var (train, test) = new TimeSeriesWindows(lookback: 2).BuildSplit(AsColumn(Ramp(8, 1)), Ramp(8, 1), splitIndex: 5);

        Assert.Equal([0, 1, 2], train.InputStarts); // targets 2, 3, 4
        Assert.Equal([5], test.InputStarts);        // inputs 5, 6 → target 7
        Assert.Equal([7f], test.Y.ToArray());
    }

    [Fact]
    public void Too_short_a_segment_says_how_many_steps_a_window_needs()
    {
        var e = Assert.Throws<NeuriteException>(() => new TimeSeriesWindows(lookback: 10, horizon: 1).Build(Ramp(10)));
        Assert.Contains("hold 10 steps, too few for one window of lookback 10 + horizon 1 = 11 steps", e.Message);
    }

    [Fact]
    public void A_missing_value_inside_a_window_is_reported_with_its_row()
    {
        var series = Ramp(6);
        series[4] = double.NaN;
        var e = Assert.Throws<NeuriteException>(() => new TimeSeriesWindows(lookback: 2).Build(series));
        Assert.Contains("row 4", e.Message);
    }

    [Fact]
    public void Stateful_layout_puts_stream_b_at_batch_row_b_hand_example()
    {
        // 23 rows, 2 streams of 11 (row 0 dropped): stream 0 = rows 1..11, stream 1 = rows 12..22;
        // windows of 3 with a 1-step target: 3 per stream, starting at 1, 4, 7 and 12, 15, 18.
        var series = Ramp(23, 1);
        var w = new TimeSeriesWindows(lookback: 3).BuildStateful(AsColumn(series), series, batchSize: 2);

        Assert.Equal([1, 12, 4, 15, 7, 18], w.InputStarts);
        Assert.Equal(2, w.BatchSize);
        Assert.Equal([4f, 15, 7, 18, 10, 21], w.Y.ToArray());
    }

    [Fact]
    public void Tutorial_ibex_layout_ten_lags_of_price_and_volume_in_batches_of_50()
    {
        // The tutorial's intent: 2000 training days, ten real lags of (price, vol) predicting the next price, batch 50.
        var window = Neurite.Datasets.Ibex35.TutorialWindow();
        var (train, test) = new TimeSeriesWindows(lookback: 10).BuildStatefulSplit(window, ["price", "vol"], "price", batchSize: 50, splitIndex: 2000);

        // 2000 rows → 50 streams of 40 days → ⌊(40 − 1)/10⌋ = 3 windows each; 1000 test rows → 20 days → 1 window each.
        Assert.Equal([150, 10, 2], train.X.Shape);
        Assert.Equal([50, 10, 2], test.X.Shape);
        var price = window.Numeric("price");
        var vol = window.Numeric("vol");
        // Sample 51 is stream 1, window 1: rows 40 + 10 .. 40 + 19, target row 60.
        Assert.Equal(50, train.InputStarts[51]);
        Assert.Equal((float)price[50], train.X[51, 0, 0]);
        Assert.Equal((float)vol[59], train.X[51, 9, 1]);
        Assert.Equal((float)price[60], train.Y[51, 0]);
        Assert.All(test.InputStarts, s => Assert.True(s >= 2000));
    }

    [Fact]
    public void Property_no_window_sees_its_own_target_or_anything_past_the_split()
    {
        var cases = from length in Gen.Int[2, 300]
                    from lookback in Gen.Int[1, 30]
                    from horizon in Gen.Int[1, 12]
                    from stride in Gen.Int[1, 5]
                    from split in Gen.Int[0, length]
                    select (length, lookback, horizon, stride, split);

        cases.Sample(c =>
        {
            var series = Ramp(c.length, 1);
            var windows = new TimeSeriesWindows(c.lookback, c.horizon, c.stride);
            var segments = new[] { (Start: 0, End: c.split), (Start: c.split, End: c.length) };
            foreach (var (start, end) in segments)
            {
                if (end - start < c.lookback + c.horizon)
                {
                    Assert.Throws<NeuriteException>(() => windows.Build(series, start, end));
                    continue;
                }
                var w = windows.Build(series, start, end);
                Assert.Equal((end - start - c.lookback - c.horizon) / c.stride + 1, w.Count);
                var x = w.X.ToArray();
                for (int i = 0; i < w.Count; i++)
                {
                    var inputs = w.InputIndices(i).ToArray();
                    var targets = w.TargetIndices(i).ToArray();
                    Assert.All(inputs, t => Assert.InRange(t, start, end - 1));
                    Assert.All(targets, t => Assert.InRange(t, start, end - 1));
                    Assert.True(inputs.Max() < targets.Min(), "every target comes after every input of its sample");
                    Assert.Equal(targets.Min(), inputs.Max() + 1);
                    // The tensor really holds those indices (value = index), not a repeated day.
                    for (int s = 0; s < c.lookback; s++) Assert.Equal(inputs[s], x[i * c.lookback + s]);
                    for (int h = 0; h < c.horizon; h++) Assert.Equal(targets[h], w.Y[i, h]);
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Property_stateful_layout_continues_each_stream_at_the_same_batch_row()
    {
        var cases = from length in Gen.Int[2, 400]
                    from lookback in Gen.Int[1, 12]
                    from horizon in Gen.Int[1, 5]
                    from batchSize in Gen.Int[1, 16]
                    from split in Gen.Int[0, length]
                    select (length, lookback, horizon, batchSize, split);

        cases.Sample(c =>
        {
            var series = Ramp(c.length, 1);
            var windows = new TimeSeriesWindows(c.lookback, c.horizon);
            foreach (var (start, end) in new[] { (0, c.split), (c.split, c.length) })
            {
                int streamLength = (end - start) / c.batchSize;
                if (streamLength < c.horizon + c.lookback)
                {
                    Assert.Throws<NeuriteException>(() => windows.BuildStateful(AsColumn(series), series, c.batchSize, start, end));
                    continue;
                }
                var w = windows.BuildStateful(AsColumn(series), series, c.batchSize, start, end);
                Assert.Equal(0, w.Count % c.batchSize); // whole batches only
                int batches = w.Count / c.batchSize;
                for (int k = 0; k < batches; k++)
                    for (int b = 0; b < c.batchSize; b++)
                    {
                        int sample = k * c.batchSize + b;
                        int streamStart = end - c.batchSize * streamLength + b * streamLength;
                        Assert.All(w.InputIndices(sample).Concat(w.TargetIndices(sample)),
                            t => Assert.InRange(t, streamStart, streamStart + streamLength - 1));
                        if (k + 1 < batches)
                            Assert.Equal(w.InputIndices(sample).Max() + 1, w.InputStarts[sample + c.batchSize]);
                    }
            }
        }, iter: 300);
    }

    private static double[,] AsColumn(double[] series)
    {
        var m = new double[series.Length, 1];
        for (int i = 0; i < series.Length; i++) m[i, 0] = series[i];
        return m;
    }
}
