using AwqRuntime.Evaluation;

namespace AwqRuntime.Tests.Evaluation;

public class DistributionComparisonTests
{
    private static float[] Logits(params double[] probs) => probs.Select(p => (float)Math.Log(p)).ToArray();

    [Fact]
    public void Kld_topk_and_delta_p_on_hand_made_distributions()
    {
        var c = new DistributionComparison();
        // KL([.5,.25,.25] || [.25,.5,.25]) = .5 ln 2 + .25 ln .5 = .25 ln 2
        c.Add(Logits(0.5, 0.25, 0.25), Logits(0.25, 0.5, 0.25), target: 1);
        // identical distributions: KL 0, same top-1
        c.Add(Logits(0.1, 0.2, 0.7), Logits(0.1, 0.2, 0.7), target: 2);
        var expected = new[] { 0.25 * Math.Log(2), 0.0 };
        Assert.Equal(2, c.Count);
        Assert.Equal(expected.Average(), c.MeanKld, 6);
        Assert.Equal(0.25 * Math.Log(2), c.MaxKld, 6);
        Assert.Equal(0.5, c.Top1Agreement, 12);
        // Δp: (0.5-0.25) and 0 → rms = sqrt(0.0625/2)
        Assert.Equal(Math.Sqrt(0.0625 / 2), c.RmsDeltaP, 6);
        // NLL of targets under each model
        Assert.Equal((-Math.Log(0.25) - Math.Log(0.7)) / 2, c.Reference.MeanNll, 6);
        Assert.Equal((-Math.Log(0.5) - Math.Log(0.7)) / 2, c.Test.MeanNll, 6);
    }

    [Fact]
    public void Kld_matches_a_float64_reference_on_random_rows()
    {
        var rng = new Random(7);
        var c = new DistributionComparison();
        var kls = new List<double>();
        for (var row = 0; row < 50; row++)
        {
            var a = Enumerable.Range(0, 97).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
            var b = a.Select(x => x + (float)(rng.NextDouble() - 0.5)).ToArray();
            c.Add(a, b, rng.Next(97));
            // reference written directly from the definition
            double za = a.Sum(x => Math.Exp(x)), zb = b.Sum(x => Math.Exp(x));
            kls.Add(a.Select((x, i) => Math.Exp(x) / za * Math.Log(Math.Exp(x) / za / (Math.Exp(b[i]) / zb))).Sum());
        }
        Assert.Equal(kls.Average(), c.MeanKld, 10);
        var sorted = kls.OrderBy(x => x).ToArray();
        var pos = 0.99 * (sorted.Length - 1);
        var p99 = sorted[(int)pos] + (sorted[(int)pos + 1] - sorted[(int)pos]) * (pos - (int)pos);
        Assert.Equal(p99, c.KldPercentile(0.99), 10);
    }

    [Fact]
    public void Perplexity_of_uniform_distribution_is_vocab_size()
    {
        var acc = new PerplexityAccumulator();
        var row = new float[512];
        for (var i = 0; i < 10; i++) acc.Add(row, i);
        Assert.Equal(512, acc.Perplexity, 6);
    }

    [Fact]
    public void Windows_follow_llama_cpp_convention()
    {
        var tokens = Enumerable.Range(10, 1100).ToArray();
        var w = EvalWindows.Build(tokens, 512, bosId: 1);
        Assert.Equal(2, w.Count); // remainder dropped
        Assert.Equal(1, w[1].Tokens[0]);
        Assert.Equal(10 + 512 + 1, w[1].Tokens[1]);
        Assert.Equal(256, w[0].FirstScored);
        Assert.Equal(255, w[0].ScoredCount);
        Assert.Throws<ArgumentException>(() => EvalWindows.Build(tokens.AsSpan(0, 100), 512, 1));
    }
}
