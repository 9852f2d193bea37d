using System.Diagnostics;
using LLama.Native;
using LLama.Sampling;

namespace AwqRuntime.LlamaSharp;

// Autoregressive generation with prefill/decode timing.
public sealed partial class LlamaCppModel
{
    /// <summary>
    /// Generates up to <paramref name="maxTokens"/> tokens after <paramref name="prompt"/> (which should
    /// start with BOS if the model expects one) from an empty KV cache. Greedy by default.
    /// </summary>
    public LlamaCppGenerationResult Generate(ReadOnlySpan<int> prompt, int maxTokens, LlamaCppSamplingOptions? sampling = null, bool stopAtEndOfGeneration = true)
    {
        ThrowIfDisposed();
        sampling ??= LlamaCppSamplingOptions.Greedy;
        sampling.Validate();
        ValidateTokens(prompt, nameof(prompt));
        if (prompt.IsEmpty) throw new ArgumentException("the prompt needs at least one token (usually BOS)", nameof(prompt));
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        if (prompt.Length + maxTokens > ContextSize)
            throw new ArgumentException($"prompt ({prompt.Length}) + maxTokens ({maxTokens}) exceed the context ({ContextSize})", nameof(maxTokens));

        using var sampler = sampling.IsGreedy ? null : CreateSampler(sampling);
        var ctx = _context.NativeHandle;
        var generated = new List<int>(maxTokens);
        var stop = GenerationStopReason.MaxTokens;

        ctx.MemoryClear(true);
        var clock = Stopwatch.StartNew();
        var logitsIndex = 0;
        for (var start = 0; start < prompt.Length; start += BatchSize)
        {
            var count = Math.Min(BatchSize, prompt.Length - start);
            _batch.Clear();
            for (var i = 0; i < count; i++)
                logitsIndex = _batch.Add(prompt[start + i], start + i, LLamaSeqId.Zero, start + i == prompt.Length - 1);
            Decode(start, count);
        }
        var prefillTime = clock.Elapsed;

        clock.Restart();
        var decodeSteps = 0;
        var position = prompt.Length;
        while (generated.Count < maxTokens)
        {
            if (generated.Count > 0)
            {
                _batch.Clear();
                logitsIndex = _batch.Add(generated[^1], position, LLamaSeqId.Zero, true);
                Decode(position, 1);
                position++;
                decodeSteps++;
            }
            var next = sampler is null ? ArgMax(ctx.GetLogitsIth(logitsIndex)) : (int)sampler.Sample(ctx, logitsIndex);
            if (stopAtEndOfGeneration && ((LLamaToken)next).IsEndOfGeneration(_weights.Vocab))
            {
                stop = GenerationStopReason.EndOfGeneration;
                break;
            }
            generated.Add(next);
        }
        var decodeTime = clock.Elapsed;

        var tokens = generated.ToArray();
        return new LlamaCppGenerationResult(tokens, ContinuationText(prompt, tokens), stop, prompt.Length, prefillTime, decodeSteps, decodeTime);
    }

    /// <summary>
    /// What the generated tokens add to the printed prompt: the text of prompt + generated minus the
    /// text of the prompt, so " was" after "Zoo" keeps its space. After a prompt that prints nothing
    /// (just BOS) the leading space is dropped, as llama2.c and llama.cpp print the start of a text.
    /// </summary>
    private string ContinuationText(ReadOnlySpan<int> prompt, int[] generated)
    {
        var promptText = Detokenize(prompt);
        if (promptText.Length == 0) return Detokenize(generated);
        var full = Detokenize([.. prompt, .. generated]);
        // A UTF-8 character split between prompt and continuation decodes differently on its own.
        return full.StartsWith(promptText, StringComparison.Ordinal) ? full[promptText.Length..] : Detokenize(generated);
    }

    private static DefaultSamplingPipeline CreateSampler(LlamaCppSamplingOptions sampling) => new()
    {
        Temperature = sampling.Temperature,
        TopK = sampling.TopK,
        TopP = sampling.TopP,
        MinP = sampling.MinP,
        Seed = sampling.Seed,
        // No penalties or bias: the reference samples from the model's distribution only.
        RepeatPenalty = 1f,
        FrequencyPenalty = 0f,
        PresencePenalty = 0f,
        TypicalP = 1f,
    };

    /// <summary>Index of the largest logit, the lowest index on ties (as llama.cpp's greedy sampler and llama2.c).</summary>
    internal static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}
