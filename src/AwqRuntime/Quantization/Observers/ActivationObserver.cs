using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Observers;

/// <summary>
/// Static activation parameters of one linear's input from its calibration values (all tokens and channels:
/// per-tensor, as compressed-tensors' "strategy": "tensor").
/// <list type="bullet">
/// <item>minmax: the range seen (torch.ao MinMaxObserver);</item>
/// <item>percentile: the 0.01 % and 99.99 % order statistics (nearest rank), clipping the rarest outliers;</item>
/// <item>mse: the min/max range shrunk by p = 1 − i/100, i = 0..80, keeping the p with the least Σ(x − x̂)²
/// (the grid of compressed-tensors' MovingAverageMSEObserver, observers/mse.py, with norm 2 and the
/// shrink allowed down to 0.2 instead of 0.8 — activation outliers can be far out).</item>
/// </list>
/// </summary>
public static class ActivationObserver
{
    public const double Percentile = 99.99;
    public const int MseGrid = 100;
    public const int MseMaxShrinkSteps = 80;

    public static ActivationQuantParams Observe(ReadOnlySpan<float> x, ObserverKind kind)
    {
        if (x.IsEmpty) throw new ArgumentException("an observer needs at least one calibration value");
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in x)
        {
            if (!float.IsFinite(v)) throw new ArgumentException($"calibration activation {v} is not finite");
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        switch (kind)
        {
            case ObserverKind.MinMax:
                return ActivationRange.Params(lo, hi);
            case ObserverKind.Percentile:
            {
                var sorted = x.ToArray();
                Array.Sort(sorted);
                var n = sorted.Length;
                // Nearest rank: the ceil(q·n)-th smallest value (1-based).
                int Rank(double q) => Math.Clamp((int)Math.Ceiling(q / 100 * n) - 1, 0, n - 1);
                return ActivationRange.Params(sorted[Rank(100 - Percentile)], sorted[Rank(Percentile)]);
            }
            case ObserverKind.Mse:
            {
                // Candidates in parallel, each error summed sequentially: the same choice on any number of cores.
                var values = x.ToArray();
                var cands = new ActivationQuantParams[MseMaxShrinkSteps + 1];
                var errs = new double[cands.Length];
                Parallel.For(0, cands.Length, i =>
                {
                    var p = 1 - (float)i / MseGrid;
                    cands[i] = ActivationRange.Params(p * lo, p * hi);
                    errs[i] = ActivationRange.SquaredError(values, cands[i]);
                });
                var best = cands[0];
                var bestErr = errs[0];
                for (var i = 1; i < cands.Length; i++)
                    if (errs[i] < bestErr) { bestErr = errs[i]; best = cands[i]; }
                return best;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown observer");
        }
    }
}
