using System.Numerics.Tensors;

namespace AwqRuntime.Evaluation;

/// <summary>
/// Log-probabilities from logits, in double so that metrics do not inherit fp32 rounding. A row is
/// widened to double once and its exp/sum run vectorised (TensorPrimitives); a row whose maximum is
/// not finite takes the element-by-element definition.
/// </summary>
public static class LogSoftmax
{
    [ThreadStatic] private static double[]? _scratch;

    /// <summary>log Σ exp(logits), computed stably around the maximum.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("empty logits row");
        var n = logits.Length;
        var s = Scratch(2 * n);
        return LogSumExp(logits, s.AsSpan(0, n), s.AsSpan(n, n));
    }

    /// <summary>Writes log p for every entry of the row.</summary>
    public static void Compute(ReadOnlySpan<float> logits, Span<double> logProbs) => Compute(logits, logProbs, out _);

    /// <summary>Writes log p for every entry of the row; <paramref name="logSumExp"/> is log Σ exp(logits).</summary>
    public static void Compute(ReadOnlySpan<float> logits, Span<double> logProbs, out double logSumExp)
    {
        if (logits.IsEmpty) throw new ArgumentException("empty logits row");
        if (logProbs.Length < logits.Length) throw new ArgumentException("output shorter than the logits row");
        var n = logits.Length;
        var lp = logProbs[..n];
        logSumExp = LogSumExp(logits, lp, Scratch(n).AsSpan(0, n));
        TensorPrimitives.Subtract(lp, logSumExp, lp);
    }

    /// <summary>log Σ exp(logits); leaves the row widened to double in <paramref name="widened"/>, <paramref name="work"/> is scratch.</summary>
    private static double LogSumExp(ReadOnlySpan<float> logits, Span<double> widened, Span<double> work)
    {
        TensorPrimitives.ConvertChecked(logits, widened);
        double max = TensorPrimitives.Max(logits);
        if (!double.IsFinite(max)) return SlowLogSumExp(logits);
        TensorPrimitives.Subtract(widened, max, work);
        TensorPrimitives.Exp(work, work);
        return max + Math.Log(TensorPrimitives.Sum<double>(work));
    }

    /// <summary>The element-by-element definition, for rows with a non-finite maximum (±inf or NaN).</summary>
    private static double SlowLogSumExp(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) if (l > max) max = l;
        if (double.IsNaN(max) || double.IsInfinity(max)) return max;
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        return max + Math.Log(sum);
    }

    private static double[] Scratch(int n)
    {
        var s = _scratch;
        if (s == null || s.Length < n) _scratch = s = new double[Math.Max(n, 1024)];
        return s;
    }
}
