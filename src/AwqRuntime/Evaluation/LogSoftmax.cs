namespace AwqRuntime.Evaluation;

/// <summary>Log-probabilities from logits, in double so that metrics do not inherit fp32 rounding.</summary>
public static class LogSoftmax
{
    /// <summary>log Σ exp(logits), computed stably around the maximum.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("empty logits row");
        double max = double.NegativeInfinity;
        foreach (var l in logits) if (l > max) max = l;
        if (double.IsNaN(max) || double.IsInfinity(max)) return max;
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        return max + Math.Log(sum);
    }

    /// <summary>Writes log p for every entry of the row.</summary>
    public static void Compute(ReadOnlySpan<float> logits, Span<double> logProbs)
    {
        if (logProbs.Length < logits.Length) throw new ArgumentException("output shorter than the logits row");
        var lse = LogSumExp(logits);
        for (var i = 0; i < logits.Length; i++) logProbs[i] = logits[i] - lse;
    }
}
