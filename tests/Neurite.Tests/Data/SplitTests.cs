using Neurite.Data;

namespace Neurite.Tests.Data;

public class SplitTests
{
    [Fact]
    public void Random_fraction_split_has_exact_sizes_covers_every_row_once_and_repeats_with_its_seed()
    {
        var a = Splits.RandomFraction(10, 0.7, seed: 3);
        var b = Splits.RandomFraction(10, 0.7, seed: 3);

        Assert.Equal(7, a.TrainCount);
        Assert.Equal(3, a.TestCount);
        Assert.Equal(Enumerable.Range(0, 10), a.TrainRows.Concat(a.TestRows).Order());
        Assert.Equal(a.TrainRows, b.TrainRows);
        Assert.True(a.TrainRows.SequenceEqual(a.TrainRows.Order()));
    }

    [Fact]
    public void Different_seeds_give_different_random_splits()
    {
        var draws = Enumerable.Range(0, 5).Select(s => string.Join(",", Splits.RandomFraction(50, 0.5, s).TrainRows)).Distinct();
        Assert.True(draws.Count() > 1);
    }

    [Fact]
    public void Probability_split_assigns_every_row_and_is_seeded()
    {
        var a = Splits.ByProbability(1000, 0.7, seed: 17);
        var b = Splits.ByProbability(1000, 0.7, seed: 17);

        Assert.Equal(1000, a.TrainCount + a.TestCount);
        Assert.Equal(a.TestRows, b.TestRows);
        // 1000 Bernoulli(0.7) draws: the count is within 5 sd (√210 ≈ 14.5) of 700 unless the generator is broken.
        Assert.InRange(a.TrainCount, 700 - 73, 700 + 73);
    }

    [Fact]
    public void Flags_split_like_R_ind_equals_1_and_2()
    {
        var split = Splits.FromFlags([1, 2, 2, 1, 1]);
        Assert.Equal([0, 3, 4], split.TrainRows);
        Assert.Equal([1, 2], split.TestRows);

        var e = Assert.Throws<NeuriteException>(() => Splits.FromFlags([1, 3]));
        Assert.Contains("Flag 3 at row 1", e.Message);
    }

    [Fact]
    public void Time_ordered_split_is_never_shuffled()
    {
        var split = Splits.TimeOrdered(6, 0.5);
        Assert.Equal([0, 1, 2], split.TrainRows);
        Assert.Equal([3, 4, 5], split.TestRows);
    }

    [Fact]
    public void Applying_a_split_to_a_tensor_takes_the_rows_of_the_first_axis()
    {
        var x = new Tensor([0f, 1, 10, 11, 20, 21], 3, 2);
        var (train, test) = Splits.FromFlags([2, 1, 2]).Apply(x);
        Assert.Equal([10f, 11], train.ToArray());
        Assert.Equal([0f, 1, 20, 21], test.ToArray());
    }
}
