namespace AwqRuntime.Generation;

/// <summary>
/// How the next token is chosen. Temperature ≤ 0 means greedy (argmax, lowest id on ties). The
/// filters run in llama.cpp's common order: repetition penalty, top-k, top-p, min-p, temperature.
/// A value that disables a filter: TopK ≤ 0, TopP ≥ 1, MinP ≤ 0, RepetitionPenalty = 1.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;
    public int TopK { get; init; } = 40;
    public float TopP { get; init; } = 0.95f;
    public float MinP { get; init; } = 0.05f;
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>OpenAI's presence_penalty (−2..2): subtracted once from the logit of every token already seen.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI's frequency_penalty (−2..2): subtracted from a token's logit once per time it was seen.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>True when any penalty changes the logits.</summary>
    public bool HasPenalties => RepetitionPenalty != 1f || PresencePenalty != 0f || FrequencyPenalty != 0f;

    /// <summary>How many of the most recent tokens the penalties look at.</summary>
    public int RepetitionWindow { get; init; } = 64;

    /// <summary>Random seed; the same seed, prompt and model give the same output.</summary>
    public ulong Seed { get; init; } = 0x5EED;

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    public bool IsGreedy => Temperature <= 0;

    public SamplingOptions Validate()
    {
        if (float.IsNaN(Temperature)) throw new ArgumentException("temperature is NaN");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1] (got {TopP})");
        if (MinP is < 0 or > 1 || float.IsNaN(MinP)) throw new ArgumentException($"min-p must be in [0, 1] (got {MinP})");
        if (!(RepetitionPenalty > 0)) throw new ArgumentException($"repetition penalty must be positive (got {RepetitionPenalty})");
        if (PresencePenalty is < -2 or > 2 || float.IsNaN(PresencePenalty)) throw new ArgumentException($"presence penalty must be in [-2, 2] (got {PresencePenalty})");
        if (FrequencyPenalty is < -2 or > 2 || float.IsNaN(FrequencyPenalty)) throw new ArgumentException($"frequency penalty must be in [-2, 2] (got {FrequencyPenalty})");
        if (RepetitionWindow < 0) throw new ArgumentException($"repetition window must be ≥ 0 (got {RepetitionWindow})");
        return this;
    }
}
