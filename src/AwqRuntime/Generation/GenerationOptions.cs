namespace AwqRuntime.Generation;

/// <summary>What to generate: how many tokens, how to sample, when to stop.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 256;
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    /// <summary>Generation stops when the text contains one of these (it is not emitted).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Stop at the end-of-sequence token.</summary>
    public bool StopAtEos { get; init; } = true;

    /// <summary>More tokens that end generation like end-of-sequence (a chat template's end-of-turn token); not emitted.</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();

    /// <summary>Prepend BOS when the prompt is text (the vocabulary's add_bos default when null).</summary>
    public bool? AddBos { get; init; }

    /// <summary>
    /// Report each generated token's log-probability under the model (log-softmax of the raw logits)
    /// and the <see cref="TopLogprobs"/> most likely alternatives; off when false.
    /// </summary>
    public bool Logprobs { get; init; }

    /// <summary>How many alternatives <see cref="Logprobs"/> lists per token (0..20, OpenAI's limit).</summary>
    public int TopLogprobs { get; init; }
}

public enum StopReason
{
    MaxTokens,
    EndOfSequence,
    StopString,
    ContextFull,

    /// <summary>The caller cancelled (a client that went away).</summary>
    Cancelled,
}

/// <summary>Counts and speeds of one generation: prefill = the prompt in one batch, decode = one token per step.</summary>
public sealed record GenerationStats(int PromptTokens, int GeneratedTokens, double PrefillSeconds, double DecodeSeconds, StopReason StopReason)
{
    public double PrefillTokensPerSecond => PrefillSeconds > 0 ? PromptTokens / PrefillSeconds : double.NaN;

    /// <summary>Decode speed over the tokens produced by single-token steps (the first token comes from prefill).</summary>
    public double DecodeTokensPerSecond => DecodeSeconds > 0 ? Math.Max(GeneratedTokens - 1, 0) / DecodeSeconds : double.NaN;
}

/// <summary>
/// A piece of streamed output: new text (possibly empty while a character or stop string is incomplete)
/// and the token that produced it (−1 for held-back text flushed at the end); its log-probability when asked for.
/// </summary>
public sealed record GenerationChunk(string Text, int TokenId, TokenLogprob? Logprob = null);

/// <summary>A token's log-probability and the most likely alternatives at its position (token id, log-probability), best first.</summary>
public sealed record TokenLogprob(int TokenId, double Logprob, IReadOnlyList<(int TokenId, double Logprob)> Top);

/// <summary>The whole result of a non-streaming generation.</summary>
public sealed record GenerationResult(string Text, IReadOnlyList<int> Tokens, GenerationStats Stats);
