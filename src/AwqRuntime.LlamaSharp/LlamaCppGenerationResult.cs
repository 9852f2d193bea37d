namespace AwqRuntime.LlamaSharp;

/// <summary>Why generation stopped.</summary>
public enum GenerationStopReason
{
    /// <summary>The requested number of tokens was generated.</summary>
    MaxTokens,

    /// <summary>The model produced an end-of-generation token (EOS/EOT); it is not part of <see cref="LlamaCppGenerationResult.Tokens"/>.</summary>
    EndOfGeneration,
}

/// <summary>
/// Output and timing of <see cref="LlamaCppModel.Generate"/>. Prefill is the llama_decode of the whole
/// prompt; the decode phase covers each later step (one single-token llama_decode plus token selection).
/// The first generated token comes from the prefill logits, so n generated tokens take n-1 decode steps.
/// <see cref="Text"/> is what the tokens add to the printed prompt (prompt text + Text = full text).
/// </summary>
public sealed record LlamaCppGenerationResult(
    int[] Tokens,
    string Text,
    GenerationStopReason StopReason,
    int PromptTokens,
    TimeSpan PrefillTime,
    int DecodeSteps,
    TimeSpan DecodeTime)
{
    public double PrefillTokensPerSecond => Rate(PromptTokens, PrefillTime);

    public double DecodeTokensPerSecond => Rate(DecodeSteps, DecodeTime);

    private static double Rate(int tokens, TimeSpan time) => time > TimeSpan.Zero ? tokens / time.TotalSeconds : 0.0;
}
