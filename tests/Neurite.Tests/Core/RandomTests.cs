namespace Neurite.Tests.Core;

public class RandomTests
{
    [Fact]
    public async Task Seeded_sequences_on_parallel_flows_do_not_interfere()
    {
        static int[] Draw(int seed)
        {
            NeuriteRandom.SetSeed(seed);
            var values = new int[2000];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = NeuriteRandom.NextInt(1000);
                if (i % 100 == 0) Thread.Yield();
            }
            return values;
        }
        var alone = Draw(42);
        var together = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => Draw(i == 0 ? 42 : i))));
        Assert.Equal(alone, together[0]);
    }
}
