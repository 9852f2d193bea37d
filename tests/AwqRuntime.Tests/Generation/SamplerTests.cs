using AwqRuntime.Generation;

namespace AwqRuntime.Tests.Generation;

public class SamplerTests
{
    private static float[] Logits(params double[] probs) => probs.Select(p => (float)Math.Log(p)).ToArray();

    [Fact]
    public void Greedy_is_argmax_with_lowest_id_on_ties()
    {
        var s = new Sampler(SamplingOptions.Greedy);
        Assert.Equal(2, s.Sample(new float[] { 1, 2, 3, 3 }, []));
        Assert.Equal(0, Sampler.ArgMax(new float[] { 5, 5 }));
    }

    [Fact]
    public void Same_seed_same_tokens_different_seed_differs()
    {
        var logits = Logits(0.3, 0.3, 0.2, 0.2);
        int[] Run(ulong seed)
        {
            var s = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = seed });
            return Enumerable.Range(0, 64).Select(_ => s.Sample(logits, [])).ToArray();
        }
        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void Temperature_one_sampling_follows_the_distribution()
    {
        var s = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 1 });
        var counts = new int[3];
        const int n = 20000;
        for (var i = 0; i < n; i++) counts[s.Sample(Logits(0.7, 0.2, 0.1), [])]++;
        Assert.InRange(counts[0] / (double)n, 0.68, 0.72);
        Assert.InRange(counts[1] / (double)n, 0.18, 0.22);
        Assert.InRange(counts[2] / (double)n, 0.08, 0.12);
    }

    [Fact]
    public void Filters_remove_the_tail()
    {
        var logits = Logits(0.6, 0.35, 0.05);
        var topP = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 0.5f, MinP = 0 });
        var minP = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0.5f, Seed = 3 });
        var topK = new Sampler(new SamplingOptions { Temperature = 5, TopK = 1, TopP = 1, MinP = 0 });
        var seenMinP = new HashSet<int>();
        for (var i = 0; i < 2000; i++)
        {
            Assert.Equal(0, topP.Sample(logits, []));
            Assert.Equal(0, topK.Sample(logits, []));
            seenMinP.Add(minP.Sample(logits, []));
        }
        Assert.Equal(new HashSet<int> { 0, 1 }, seenMinP); // 0.05 < 0.5 * 0.6 is cut, 0.35 survives
    }

    [Fact]
    public void Repetition_penalty_demotes_seen_tokens()
    {
        var s = new Sampler(new SamplingOptions { Temperature = 0, RepetitionPenalty = 2f });
        Assert.Equal(1, s.Sample(new float[] { 3f, 2f, 0f }, [0])); // 3/2 = 1.5 < 2
        Assert.Equal(0, s.Sample(new float[] { 3f, 2f, 0f }, [2]));
    }

    [Fact]
    public void Stop_strings_are_held_back_and_cut()
    {
        var m = new StopStringMatcher(["User:"]);
        Assert.Equal("Hello ", m.Push("Hello Us"));
        Assert.False(m.Stopped);
        Assert.Equal("", m.Push("er"));
        Assert.Equal("", m.Push(": there"));
        Assert.True(m.Stopped);
        Assert.Equal("", m.Push("more"));

        var m2 = new StopStringMatcher(["###"]);
        Assert.Equal("a", m2.Push("a#"));
        Assert.Equal("#b", m2.Push("b"));
        Assert.Equal("c", m2.Push("c##"));
        Assert.Equal("##", m2.Flush());
    }
}
