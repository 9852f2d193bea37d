using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

[Collection(LlamaCppCollection.Name)]
public class LlamaCppPerplexityTests(LlamaCppFixture fixture)
{
    private readonly LlamaCppModel _model = fixture.Model;

    [Fact]
    public void Scoring_every_token_of_the_reference_window_reproduces_its_mean_nll()
    {
        // The reference fed ids[0..510] in one context and scored ids[1..511]: one 512-token window
        // whose scoring starts at position 0; its first id is BOS already.
        var reference = Stories260KReference.Load();
        var result = LlamaCppPerplexity.Compute(_model, reference.PerplexityTokenIds, new PerplexityOptions { FirstScoredPosition = 0 });
        Assert.Equal(reference.PerplexityScoredTokens, result.ScoredTokens);
        Assert.Equal(1, result.Windows);
        Assert.True(Math.Abs(result.MeanNll - reference.PerplexityMeanNll) < 1e-3,
            $"mean NLL {result.MeanNll:F6} vs reference {reference.PerplexityMeanNll:F6}");
        Assert.Equal(Math.Exp(result.MeanNll), result.Perplexity, 12);
    }

    [Fact]
    public void Default_convention_is_llama_perplexity_windows_with_bos_and_second_half_scored()
    {
        var tokens = _model.Tokenize(File.ReadAllText(SharedData.EvalText)[..20000], addBos: true);
        const int window = 128;
        Assert.True(tokens.Length > 3 * window + 10);
        var result = LlamaCppPerplexity.Compute(_model, tokens, new PerplexityOptions { WindowSize = window, MaxWindows = 3 });
        Assert.Equal(3, result.Windows);
        Assert.Equal(window / 2, result.FirstScoredPosition);
        Assert.Equal(3 * (window - 1 - window / 2), result.ScoredTokens);

        // The same procedure written out independently: windows cut from the stream, BOS written over
        // each window's first token, positions 64..126 predicting 65..127, log-softmax in double.
        double total = 0;
        var count = 0;
        for (var w = 0; w < 3; w++)
        {
            var chunk = tokens.AsSpan(w * window, window).ToArray();
            chunk[0] = 1;
            var logits = _model.EvaluateLogits(chunk);
            for (var p = window / 2; p < window - 1; p++)
            {
                var row = logits.AsSpan(p * 512, 512);
                double max = double.NegativeInfinity;
                foreach (var l in row) max = Math.Max(max, l);
                double sum = 0;
                foreach (var l in row) sum += Math.Exp(l - max);
                total += Math.Log(sum) + max - row[chunk[p + 1]];
                count++;
            }
        }
        Assert.Equal(count, result.ScoredTokens);
        Assert.Equal(total / count, result.MeanNll, 10);
        // A trained model on its own domain: far below the uniform log(512) = 6.24.
        Assert.InRange(result.Perplexity, 1.5, 10);
    }

    [Fact]
    public void Bos_replacement_matters_and_can_be_turned_off()
    {
        var tokens = _model.Tokenize(File.ReadAllText(SharedData.EvalText)[..4000], addBos: false);
        var options = new PerplexityOptions { WindowSize = 64, MaxWindows = 2, FirstScoredPosition = 0 };
        var withBos = LlamaCppPerplexity.Compute(_model, tokens, options);
        var without = LlamaCppPerplexity.Compute(_model, tokens, options with { ReplaceFirstWithBos = false });
        Assert.NotEqual(withBos.MeanNll, without.MeanNll);
    }

    [Fact]
    public void Nll_is_the_negative_log_softmax()
    {
        Assert.Equal(Math.Log(2), LlamaCppPerplexity.NegativeLogLikelihood([0f, 0f], 1), 15);
        // Large logits must not overflow: softmax([1000, 0]) = [1/(1+e^-1000), ...].
        Assert.Equal(1000.0, LlamaCppPerplexity.NegativeLogLikelihood([1000f, 0f], 1), 9);
        Assert.Equal(Math.Log(1 + Math.Exp(-2)), LlamaCppPerplexity.NegativeLogLikelihood([3f, 1f], 0), 14);
        Assert.Throws<ArgumentOutOfRangeException>(() => LlamaCppPerplexity.NegativeLogLikelihood([0f], 1));
    }

    [Fact]
    public void Too_few_tokens_or_bad_windows_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => LlamaCppPerplexity.Compute(_model, new int[100], new PerplexityOptions { WindowSize = 128 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LlamaCppPerplexity.Compute(_model, new int[2000], new PerplexityOptions { WindowSize = 1024 }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            LlamaCppPerplexity.Compute(_model, new int[200], new PerplexityOptions { WindowSize = 100, FirstScoredPosition = 99 }));
    }
}
