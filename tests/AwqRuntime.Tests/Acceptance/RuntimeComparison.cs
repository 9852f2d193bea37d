using AwqRuntime.Generation;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>Our runtime and llama.cpp fed the same ids: the measurements the acceptance tests bound.</summary>
internal static class RuntimeComparison
{
    /// <summary>
    /// max |ours − llama.cpp| over every logit of every position, the tokens cut into windows of
    /// <paramref name="window"/> each evaluated from an empty cache.
    /// </summary>
    public static double MaxAbsLogitDifference(LlamaModel ours, LlamaCppModel theirs, int[] tokens, int window)
    {
        Assert.Equal(0, tokens.Length % window);
        var v = ours.Config.VocabSize;
        Assert.Equal(v, theirs.VocabSize);
        var mine = new float[window * v];
        double worst = 0;
        for (var start = 0; start < tokens.Length; start += window)
        {
            var ids = tokens.AsSpan(start, window);
            var reference = theirs.EvaluateLogits(ids);
            ours.Forward(ids, ours.CreateCache(window), ours.CreateBuffers(window), mine, LogitsMode.All);
            for (var i = 0; i < mine.Length; i++) worst = Math.Max(worst, Math.Abs(mine[i] - reference[i]));
        }
        return worst;
    }

    /// <summary>Per position ‖ours − llama.cpp‖₂ / ‖llama.cpp‖₂ over one sequence evaluated from an empty cache.</summary>
    public static double[] RelativeL2PerPosition(LlamaModel ours, LlamaCppModel theirs, int[] tokens)
    {
        var v = ours.Config.VocabSize;
        Assert.Equal(v, theirs.VocabSize);
        var reference = theirs.EvaluateLogits(tokens);
        var mine = new float[tokens.Length * v];
        ours.Forward(tokens, ours.CreateCache(tokens.Length), ours.CreateBuffers(tokens.Length), mine, LogitsMode.All);
        var errors = new double[tokens.Length];
        for (var p = 0; p < tokens.Length; p++)
        {
            double diff = 0, norm = 0;
            for (var i = p * v; i < (p + 1) * v; i++)
            {
                double d = mine[i] - reference[i];
                diff += d * d;
                norm += (double)reference[i] * reference[i];
            }
            errors[p] = Math.Sqrt(diff / norm);
        }
        return errors;
    }

    /// <summary>Ten prompts cut from the token stream: BOS, then 8, 11, … 35 ids from spread-out places.</summary>
    public static IEnumerable<int[]> TenPrompts(int[] tokens) =>
        Enumerable.Range(0, 10).Select(p => (int[])[1, .. tokens.AsSpan(1 + p * 300, 8 + p * 3)]);

    /// <summary>Our greedy continuation: batched prefill of the prompt, then one-token decode steps.</summary>
    public static int[] OurGreedy(LlamaModel ours, int[] prompt, int count)
    {
        var cache = ours.CreateCache(prompt.Length + count);
        var buffers = ours.CreateBuffers(prompt.Length);
        var logits = new float[ours.Config.VocabSize];
        ours.Forward(prompt, cache, buffers, logits, LogitsMode.Last);
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = Sampler.ArgMax(logits);
            if (i < count - 1) ours.Forward([result[i]], cache, buffers, logits, LogitsMode.Last);
        }
        return result;
    }

    /// <summary>llama.cpp's greedy continuation (not stopping at EOS, as ours does not).</summary>
    public static int[] TheirGreedy(LlamaCppModel theirs, int[] prompt, int count) =>
        theirs.Generate(prompt, count, LlamaCppSamplingOptions.Greedy, stopAtEndOfGeneration: false).Tokens.ToArray();
}
