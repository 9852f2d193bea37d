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
    private double[] _lpRef = [];
    private double[] _lpTest = [];

    public PerplexityAccumulator Reference { get; } = new();
    public PerplexityAccumulator Test { get; } = new();

    public long Count => _kld.Count;

    /// <summary>Adds one scored position: both logits rows and the observed next token.</summary>
    public void Add(ReadOnlySpan<float> refLogits, ReadOnlySpan<float> testLogits, int target)
    {
        if (refLogits.Length != testLogits.Length)
            throw new ArgumentException($"vocabulary sizes differ: reference {refLogits.Length}, test {testLogits.Length}");
        var n = refLogits.Length;
        if (_lpRef.Length < n) { _lpRef = new double[n]; _lpTest = new double[n]; }
        var lpRef = _lpRef.AsSpan(0, n);
        var lpTest = _lpTest.AsSpan(0, n);
        LogSoftmax.Compute(refLogits, lpRef);
        LogSoftmax.Compute(testLogits, lpTest);

        double kld = 0;
        int argRef = 0, argTest = 0;
        for (var i = 0; i < n; i++)
        {
            var p = Math.Exp(lpRef[i]);
            if (p > 0) kld += p * (lpRef[i] - lpTest[i]);
            if (lpRef[i] > lpRef[argRef]) argRef = i;
            if (lpTest[i] > lpTest[argTest]) argTest = i;
        }
        _kld.Add(Math.Max(kld, 0)); // tiny negative values are rounding noise
        if (argRef == argTest) _sameTop++;
        var dp = Math.Exp(lpTest[target]) - Math.Exp(lpRef[target]);
        _dpSq += dp * dp;
        Reference.AddNll(-lpRef[target]);
        Test.AddNll(-lpTest[target]);
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
