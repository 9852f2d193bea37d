using System.Numerics.Tensors;

namespace AwqRuntime.Evaluation;

/// <summary>
/// Compares a model's next-token distributions with a reference model's on the same tokens — the
/// metrics llama.cpp's perplexity tool reports with --kl-divergence: mean and 99th-percentile KL
/// divergence KL(P_ref ‖ P_test), top-1 agreement ("same top p"), and RMS of Δp, the change in the
/// probability given to the token that actually came next. All arithmetic in double.
/// </summary>
public sealed class DistributionComparison
{
    private readonly List<double> _kld = [];
    private double _dpSq;
    private long _sameTop;
    private double[] _lpTest = [];
    private double[] _diff = [];
    private ReferenceRows? _single;

    public PerplexityAccumulator Reference { get; } = new();
    public PerplexityAccumulator Test { get; } = new();

    public long Count => _kld.Count;

    /// <summary>Adds one scored position: both logits rows and the observed next token.</summary>
    public void Add(ReadOnlySpan<float> refLogits, ReadOnlySpan<float> testLogits, int target)
    {
        if (refLogits.Length != testLogits.Length)
            throw new ArgumentException($"vocabulary sizes differ: reference {refLogits.Length}, test {testLogits.Length}");
        _single ??= new ReferenceRows();
        _single.Set(refLogits, 1, refLogits.Length);
        Add(_single, 0, testLogits, target);
    }

    /// <summary>
    /// Adds one scored position whose reference distribution was computed beforehand (once per window
    /// for every model compared): row <paramref name="row"/> of <paramref name="reference"/>, the test
    /// model's logits and the observed next token.
    /// </summary>
    public void Add(ReferenceRows reference, int row, ReadOnlySpan<float> testLogits, int target)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var n = reference.VocabSize;
        if (testLogits.Length != n)
            throw new ArgumentException($"vocabulary sizes differ: reference {n}, test {testLogits.Length}");
        if ((uint)target >= (uint)n) throw new ArgumentOutOfRangeException(nameof(target), $"token {target} outside a vocabulary of {n}");
        if (_lpTest.Length < n) { _lpTest = new double[n]; _diff = new double[n]; }
        var lpTest = _lpTest.AsSpan(0, n);
        var diff = _diff.AsSpan(0, n);
        var lpRef = reference.LogProbs(row);
        var pRef = reference.Probs(row);
        LogSoftmax.Compute(testLogits, lpTest);

        // KL(P_ref || P_test) = sum_i p_i (log p_i - log q_i)
        TensorPrimitives.Subtract(lpRef, lpTest, diff);
        var kld = TensorPrimitives.Dot(pRef, diff);
        if (!double.IsFinite(kld))
        {
            // a -inf log-probability in both rows makes 0 * NaN above; the definition skips p = 0 terms
            kld = 0;
            for (var i = 0; i < n; i++)
                if (pRef[i] > 0) kld += pRef[i] * (lpRef[i] - lpTest[i]);
        }
        _kld.Add(Math.Max(kld, 0)); // tiny negative values are rounding noise
        if (reference.Top(row) == ReferenceRows.ArgMax(testLogits)) _sameTop++;
        var dp = Math.Exp(lpTest[target]) - pRef[target];
        _dpSq += dp * dp;
        Reference.AddNll(-lpRef[target]);
        Test.AddNll(-lpTest[target]);
    }

    /// <summary>
    /// Adds every scored position of <paramref name="window"/>: <paramref name="reference"/> holds the
    /// reference's rows of that window (<see cref="ReferenceRows.Set"/> from its scored positions),
    /// <paramref name="testLogits"/> the test model's logits [window length, vocab].
    /// </summary>
    public void AddWindow(ReferenceRows reference, EvalWindow window, ReadOnlySpan<float> testLogits)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(window);
        var v = reference.VocabSize;
        for (var p = window.FirstScored; p < window.Tokens.Length - 1; p++)
            Add(reference, p - window.FirstScored, testLogits.Slice(p * v, v), window.Tokens[p + 1]);
    }

    public double MeanKld => Count == 0 ? double.NaN : _kld.Average();

    /// <summary>KLD percentile by linear interpolation between closest ranks (q in [0,1]).</summary>
    public double KldPercentile(double q)
    {
        if (Count == 0) return double.NaN;
        var sorted = _kld.ToArray();
        Array.Sort(sorted);
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    public double MaxKld => Count == 0 ? double.NaN : _kld.Max();

    /// <summary>Fraction of positions where both models' most likely token is the same.</summary>
    public double Top1Agreement => Count == 0 ? double.NaN : (double)_sameTop / Count;

    /// <summary>sqrt(mean Δp²), Δp = p_test(next) − p_ref(next).</summary>
    public double RmsDeltaP => Count == 0 ? double.NaN : Math.Sqrt(_dpSq / Count);

    public DistributionMetrics Summary() => new(Count, Test.MeanNll, Test.Perplexity, Reference.Perplexity,
        MeanKld, KldPercentile(0.99), MaxKld, Top1Agreement, RmsDeltaP);
}

/// <summary>A snapshot of <see cref="DistributionComparison"/> for reports.</summary>
public sealed record DistributionMetrics(long Tokens, double MeanNll, double Perplexity, double ReferencePerplexity,
    double MeanKld, double KldP99, double MaxKld, double Top1Agreement, double RmsDeltaP);
