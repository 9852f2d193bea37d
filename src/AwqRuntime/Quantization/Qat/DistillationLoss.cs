namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Knowledge distillation on the logits (Hinton et al. 2015, temperature 1): the mean over rows of
/// KL(p_teacher ‖ p_student) — the quantity `awq compare` reports as KLD — and its gradient with
/// respect to the student's logits, (softmax(student) − p_teacher) / rows. Log-softmax in double.
/// </summary>
internal static class DistillationLoss
{
    /// <summary>Teacher log-probabilities [rows, vocab] of teacher logits.</summary>
    public static float[] LogProbabilities(ReadOnlySpan<float> logits, int rows, int vocab)
    {
        var lp = new float[logits.Length];
        for (var r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            var lse = LogSumExp(row);
            for (var i = 0; i < vocab; i++) lp[r * vocab + i] = (float)(row[i] - lse);
        }
        return lp;
    }

    /// <summary>Mean KL(teacher ‖ student); <paramref name="grad"/> [rows, vocab] receives d loss / d student logits.</summary>
    public static double Compute(ReadOnlySpan<float> studentLogits, ReadOnlySpan<float> teacherLogProbs, int rows, int vocab, Span<float> grad)
    {
        double total = 0;
        for (var r = 0; r < rows; r++)
        {
            var s = studentLogits.Slice(r * vocab, vocab);
            var t = teacherLogProbs.Slice(r * vocab, vocab);
            var g = grad.Slice(r * vocab, vocab);
            var lse = LogSumExp(s);
            double kl = 0;
            for (var i = 0; i < vocab; i++)
            {
                var logPs = s[i] - lse;
                var pt = Math.Exp(t[i]);
                kl += pt * (t[i] - logPs);
                g[i] = (float)((Math.Exp(logPs) - pt) / rows);
            }
            total += kl;
        }
        return total / rows;
    }

    private static double LogSumExp(ReadOnlySpan<float> x)
    {
        double max = double.NegativeInfinity;
        foreach (var v in x) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in x) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
