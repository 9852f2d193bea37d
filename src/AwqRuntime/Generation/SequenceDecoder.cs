using System.Runtime.InteropServices;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation;

/// <summary>
/// One sequence's generation state between forward passes: the sampler, the streaming text decoder
/// (the prompt fed through it so the first piece is spaced as a continuation), the stop strings and
/// the token history. <see cref="TextGenerator"/> drives one of these; the continuous-batching
/// scheduler drives one per slot, so a sequence decodes the same way alone or in a batch.
/// </summary>
public sealed class SequenceDecoder
{
    private readonly ITokenizer _tokenizer;
    private readonly GenerationOptions _options;
    private readonly Sampler _sampler;
    private readonly StreamingDecoder _decoder;
    private readonly StopStringMatcher _stops;
    private readonly List<int> _history;

    public SequenceDecoder(ITokenizer tokenizer, IReadOnlyList<int> prompt, GenerationOptions options)
    {
        _tokenizer = tokenizer;
        _options = options;
        _sampler = new Sampler(options.Sampling);
        _decoder = new StreamingDecoder(tokenizer, atSequenceStart: true);
        foreach (var id in prompt) _decoder.Append(id);
        _stops = new StopStringMatcher(options.StopStrings);
        _history = new List<int>(prompt);
        PromptTokens = prompt.Count;
        if (options.MaxTokens == 0) Finished = true;
    }

    public int PromptTokens { get; }
    public int Generated { get; private set; }
    public bool Finished { get; private set; }
    public StopReason StopReason { get; private set; } = StopReason.MaxTokens;

    /// <summary>The last token sampled: what the next forward pass feeds.</summary>
    public int LastToken => _history[^1];

    /// <summary>
    /// Samples the next token from <paramref name="logits"/> and returns its text (null when the token
    /// ends the sequence without text: end-of-sequence). Afterwards <see cref="Finished"/> tells whether
    /// to stop (end-of-sequence, a stop string, max tokens).
    /// </summary>
    public GenerationChunk? Accept(ReadOnlySpan<float> logits)
    {
        if (Finished) throw new InvalidOperationException("the sequence has finished");
        var next = _sampler.Sample(logits, CollectionsMarshal.AsSpan(_history));
        Generated++;
        _history.Add(next);
        if ((_options.StopAtEos && next == _tokenizer.Spec.EosId) || _options.StopTokens.Contains(next))
        {
            Finish(StopReason.EndOfSequence);
            return null;
        }
        var chunk = new GenerationChunk(_stops.Push(_decoder.Append(next)), next, _options.Logprobs ? Logprob(logits, next, _options.TopLogprobs) : null);
        if (_stops.Stopped) Finish(StopReason.StopString);
        else if (Generated == _options.MaxTokens) Finish(StopReason.MaxTokens);
        return chunk;
    }

    /// <summary>log-softmax of <paramref name="logits"/> at <paramref name="token"/> (in double) and the top alternatives.</summary>
    internal static TokenLogprob Logprob(ReadOnlySpan<float> logits, int token, int top)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        var logZ = max + Math.Log(sum);
        var best = new List<(int, double)>(top);
        if (top > 0)
        {
            var order = new PriorityQueue<int, float>(top + 1);
            for (var i = 0; i < logits.Length; i++)
            {
                order.Enqueue(i, logits[i]);
                if (order.Count > top) order.Dequeue();
            }
            while (order.TryDequeue(out var id, out var l)) best.Add((id, l - logZ));
            best.Reverse();
        }
        return new TokenLogprob(token, logits[token] - logZ, best);
    }

    /// <summary>Ends the sequence early (context full, cancelled) with <paramref name="reason"/>.</summary>
    public void Finish(StopReason reason)
    {
        if (Finished) return;
        Finished = true;
        StopReason = reason;
    }

    /// <summary>Text held back (an incomplete character or a possible stop string) once finished; empty after a stop string.</summary>
    public string Flush() => _stops.Stopped ? "" : _stops.Push(_decoder.Flush()) + _stops.Flush();
}
