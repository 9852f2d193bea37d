namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Perplexity over a token stream in llama.cpp's convention (tools/perplexity/perplexity.cpp,
/// perplexity()): the stream is cut into floor(n / window) non-overlapping windows (a partial tail is
/// dropped); each window is evaluated from an empty KV cache with BOS at position 0; the logits at
/// positions first..window-2 score the next token, first = window/2; NLL = -log_softmax in double
/// precision; the result is the mean over all scored tokens.
/// </summary>
public static class LlamaCppPerplexity
{
    public static PerplexityResult Compute(LlamaCppModel model, ReadOnlySpan<int> tokens, PerplexityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new PerplexityOptions();
        var window = options.WindowSize ?? model.ContextSize;
        if (window < 2 || window > model.ContextSize)
            throw new ArgumentOutOfRangeException(nameof(options), window, $"WindowSize must be in 2..{model.ContextSize} (the model's context)");
        var first = options.FirstScoredPosition ?? window / 2;
        if (first < 0 || first > window - 2)
            throw new ArgumentOutOfRangeException(nameof(options), first, $"FirstScoredPosition must be in 0..{window - 2}");
        var replaceBos = options.ReplaceFirstWithBos ?? model.AddsBos;
        if (replaceBos && model.BosToken is null)
            throw new ArgumentException("ReplaceFirstWithBos is set but the model has no BOS token", nameof(options));
        var windows = tokens.Length / window;
        if (options.MaxWindows is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max, nameof(options.MaxWindows));
            windows = Math.Min(windows, max);
        }
        if (windows == 0)
            throw new ArgumentException($"{tokens.Length} tokens do not fill one window of {window}", nameof(tokens));

        var buffer = new int[window];
        var totalNll = 0.0;
        var scored = 0;
        for (var w = 0; w < windows; w++)
        {
            tokens.Slice(w * window, window).CopyTo(buffer);
            if (replaceBos) buffer[0] = model.BosToken!.Value;
            model.EvaluateLogits(buffer, (position, logits) =>
            {
                if (position < first || position > window - 2) return;
                totalNll += NegativeLogLikelihood(logits, buffer[position + 1]);
                scored++;
            });
        }
        return new PerplexityResult(totalNll / scored, scored, windows, window, first);
    }

    /// <summary>-log softmax(logits)[target], computed in double with the max subtracted first.</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target)
    {
        if ((uint)target >= (uint)logits.Length)
            throw new ArgumentOutOfRangeException(nameof(target), target, $"outside 0..{logits.Length - 1}");
        double max = logits[0];
        for (var i = 1; i < logits.Length; i++) max = Math.Max(max, logits[i]);
        var sum = 0.0;
        for (var i = 0; i < logits.Length; i++) sum += Math.Exp(logits[i] - max);
        return max + Math.Log(sum) - logits[target];
    }
}
