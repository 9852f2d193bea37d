namespace AwqRuntime.LlamaSharp;

/// <summary>Mean negative log-likelihood (nats per scored token) and its exponential, the perplexity.</summary>
public sealed record PerplexityResult(double MeanNll, int ScoredTokens, int Windows, int WindowSize, int FirstScoredPosition)
{
    public double Perplexity => Math.Exp(MeanNll);
}
