namespace AwqRuntime.Generation;

/// <summary>
/// Picks the next token from a row of logits. Stateful only through its random generator, so one
/// sampler per generation keeps a seeded run reproducible.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private ulong _state;

    // Scratch reused across calls: candidate ids and their (penalised, scaled) logits / probabilities.
    private int[] _ids = [];
    private float[] _vals = [];

    public Sampler(SamplingOptions options)
    {
        _options = options.Validate();
        _state = options.Seed == 0 ? 0x9E3779B97F4A7C15UL : options.Seed;
    }

    /// <summary>Index of the largest logit; the lowest index wins ties (what llama.cpp's greedy sampler does).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("no logits to sample from");
        var best = 0;
        var bestVal = logits[0];
        for (var i = 1; i < logits.Length; i++)
            if (logits[i] > bestVal || (float.IsNaN(bestVal) && !float.IsNaN(logits[i]))) { best = i; bestVal = logits[i]; }
        return best;
    }

    /// <param name="history">Tokens seen so far (prompt + generated), for the repetition penalty.</param>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        var o = _options;
        if (o.IsGreedy && !o.HasPenalties) return ArgMax(logits);
        var n = logits.Length;
        if (n == 0) throw new ArgumentException("no logits to sample from");
        if (_ids.Length < n) { _ids = new int[n]; _vals = new float[n]; }
        var ids = _ids.AsSpan(0, n);
        var vals = _vals.AsSpan(0, n);
        logits.CopyTo(vals);
        for (var i = 0; i < n; i++) ids[i] = i;

        ApplyRepetitionPenalty(vals, history, o);
        ApplyPresenceAndFrequencyPenalties(vals, history, o);
        if (o.IsGreedy) return ArgMax(vals);

        // Sort candidates by logit, descending (stable on id for reproducibility).
        var count = n;
        SortDescending(vals, ids, count);
        if (o.TopK > 0 && o.TopK < count) count = o.TopK;

        // Softmax over the survivors at temperature 1 for the p-filters (llama.cpp applies top-p and
        // min-p before temperature in its default chain).
        var probs = Softmax(vals[..count], 1f);
        if (o.TopP < 1f)
        {
            double cum = 0;
            var keep = count;
            for (var i = 0; i < count; i++)
            {
                cum += probs[i];
                if (cum >= o.TopP) { keep = i + 1; break; }
            }
            count = keep;
        }
        if (o.MinP > 0f)
        {
            var threshold = probs[0] * o.MinP;
            var keep = 1;
            while (keep < count && probs[keep] >= threshold) keep++;
            count = keep;
        }

        var final = Softmax(vals[..count], o.Temperature);
        var r = NextDouble();
        double acc = 0;
        for (var i = 0; i < count; i++)
        {
            acc += final[i];
            if (r < acc) return ids[i];
        }
        return ids[count - 1];
    }

    /// <summary>
    /// OpenAI's additive penalties over the last <see cref="SamplingOptions.RepetitionWindow"/> tokens
    /// (as llama.cpp's server applies them): logit −= count·frequency_penalty + [count &gt; 0]·presence_penalty.
    /// </summary>
    private static void ApplyPresenceAndFrequencyPenalties(Span<float> vals, ReadOnlySpan<int> history, SamplingOptions o)
    {
        if ((o.PresencePenalty == 0f && o.FrequencyPenalty == 0f) || history.IsEmpty) return;
        var counts = new Dictionary<int, int>();
        for (var i = Math.Max(0, history.Length - o.RepetitionWindow); i < history.Length; i++)
            if ((uint)history[i] < (uint)vals.Length) counts[history[i]] = counts.GetValueOrDefault(history[i]) + 1;
        foreach (var (t, c) in counts) vals[t] -= c * o.FrequencyPenalty + o.PresencePenalty;
    }

    private static void ApplyRepetitionPenalty(Span<float> vals, ReadOnlySpan<int> history, SamplingOptions o)
    {
        if (o.RepetitionPenalty == 1f || history.IsEmpty) return;
        var start = Math.Max(0, history.Length - o.RepetitionWindow);
        var seen = new HashSet<int>();
        for (var i = start; i < history.Length; i++)
        {
            var t = history[i];
            if ((uint)t >= (uint)vals.Length || !seen.Add(t)) continue;
            // CTRL-style penalty as llama.cpp applies it: shrink positive logits, grow negative ones.
            vals[t] = vals[t] > 0 ? vals[t] / o.RepetitionPenalty : vals[t] * o.RepetitionPenalty;
        }
    }

    private static void SortDescending(Span<float> vals, Span<int> ids, int count)
    {
        var keys = vals[..count].ToArray();
        var items = ids[..count].ToArray();
        var order = Enumerable.Range(0, count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var c = keys[b].CompareTo(keys[a]);
            return c != 0 ? c : items[a].CompareTo(items[b]);
        });
        for (var i = 0; i < count; i++) { vals[i] = keys[order[i]]; ids[i] = items[order[i]]; }
    }

    private static double[] Softmax(ReadOnlySpan<float> logits, float temperature)
    {
        var p = new double[logits.Length];
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            p[i] = Math.Exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (var i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>Uniform in [0, 1) from xorshift64*; deterministic for a given seed on every platform.</summary>
    private double NextDouble()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        var x = _state * 2685821657736338717UL;
        return (x >> 11) * (1.0 / 9007199254740992.0);
    }
}
