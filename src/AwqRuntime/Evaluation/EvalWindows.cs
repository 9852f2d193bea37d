namespace AwqRuntime.Evaluation;

/// <summary>One window of the token stream: the ids to feed and which positions are scored.</summary>
/// <param name="Tokens">ctx ids; the first is replaced by BOS as llama.cpp's perplexity tool does.</param>
/// <param name="FirstScored">Logits at positions FirstScored .. Tokens.Length-2 are scored, each against the next id.</param>
public sealed record EvalWindow(int[] Tokens, int FirstScored)
{
    public int ScoredCount => Tokens.Length - 1 - FirstScored;
}

/// <summary>
/// llama.cpp's perplexity convention (tools/perplexity/perplexity.cpp): the tokenized text is cut
/// into non-overlapping chunks of ctx tokens (the remainder is dropped), the first id of each chunk
/// becomes BOS, and only the second half is scored (first = ctx/2), so every scored token has at
/// least ctx/2 tokens of context. Using the same windows everywhere is what makes our numbers and
/// LLamaSharp's comparable.
/// </summary>
public static class EvalWindows
{
    public static IReadOnlyList<EvalWindow> Build(ReadOnlySpan<int> tokens, int ctx, int bosId, int maxChunks = int.MaxValue, bool scoreSecondHalf = true)
    {
        if (ctx < 4) throw new ArgumentException($"context must be at least 4 tokens (got {ctx})");
        var chunks = Math.Min(tokens.Length / ctx, maxChunks);
        if (chunks == 0)
            throw new ArgumentException($"the evaluation text has {tokens.Length} tokens, fewer than one window of {ctx}; use a smaller --ctx or a longer text");
        var list = new List<EvalWindow>(chunks);
        for (var c = 0; c < chunks; c++)
        {
            var w = tokens.Slice(c * ctx, ctx).ToArray();
            if (bosId >= 0) w[0] = bosId;
            list.Add(new EvalWindow(w, scoreSecondHalf ? ctx / 2 : 0));
        }
        return list;
    }
}
