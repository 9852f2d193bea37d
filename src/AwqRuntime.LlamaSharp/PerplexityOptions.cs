namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Windowing for <see cref="LlamaCppPerplexity"/>. The defaults are llama.cpp's llama-perplexity:
/// non-overlapping windows of n_ctx tokens, first token of each window replaced by BOS, only the second
/// half of each window scored.
/// </summary>
public sealed record PerplexityOptions
{
    /// <summary>Tokens per window (llama-perplexity's n_ctx); null means the model's <see cref="LlamaCppModel.ContextSize"/>.</summary>
    public int? WindowSize { get; init; }

    /// <summary>
    /// First position whose prediction is scored: the logits at positions first..window-2 score the
    /// tokens at first+1..window-1. Null means window/2 (llama.cpp); 0 scores every token after the first.
    /// </summary>
    public int? FirstScoredPosition { get; init; }

    /// <summary>Put BOS at position 0 of every window; null means "if the vocabulary adds BOS" (llama.cpp).</summary>
    public bool? ReplaceFirstWithBos { get; init; }

    /// <summary>Evaluate at most this many windows (llama-perplexity's --chunks); null means all full windows.</summary>
    public int? MaxWindows { get; init; }
}
