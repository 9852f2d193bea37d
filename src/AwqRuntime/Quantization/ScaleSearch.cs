using AwqRuntime.Model;
using AwqRuntime.Model.Families;

namespace AwqRuntime.Quantization;

/// <summary>The outcome of one group's grid search.</summary>
public sealed record ScaleSearchResult(string Group, PrevOp PrevOp, LinearKind[] Linears, float[] Scales, double BestAlpha,
    double BestLoss, double UnscaledLoss, double[] GridLosses);

/// <summary>
/// AWQ's search for per-input-channel scales s (AWQ paper §3.2; AutoAWQ awq/quantize/quantizer.py _search_best_scale): for α = 0, 1/n, …, (n−1)/n,
/// s = x̄^α / (w̄^(1−α) + 1e−4) (duo) or x̄^α, clamped at 1e−4 and normalised by √(max·min);
/// every linear of the group becomes Q(W·s)/s and the inspected module's output on the cached
/// input is compared with the full-precision output (mean squared error). The α with the lowest
/// loss wins. Where the inspected module is the one linear itself and the tokens outnumber its
/// inputs, the same loss is taken through the inputs' Gram matrix (<see cref="InputGram"/>) instead
/// of running each candidate over the tokens. Weights are never modified here; folding is
/// <see cref="ScaleFolding"/>'s job.
/// </summary>
internal static class ScaleSearch
{
    public static ScaleSearchResult Run(ScalingGroup group, FloatLinear[] linears, AwqConfig config, SearchWorkspace work)
    {
        var k = linears[0].InFeatures;
        foreach (var l in linears)
            if (l.InFeatures != k) throw new InvalidOperationException($"{group.Name}: linears disagree on input width");
        var tokens = group.Input.Length / k;

        var xStats = new ChannelStats(k);
        xStats.Add(group.Input, tokens);
        var xMean = xStats.MeanAbs();
        var wMean = WeightMean(linears, config.GroupSize);

        var candidates = linears.Select((l, i) => work.Candidate(group.Linears[i], l)).ToArray();
        var n = linears[0].OutFeatures;
        var gram = config.GramLoss && !group.OnDevice && group.Spec.Inspect == InspectedModule.Linear && linears.Length == 1
                   && InputGram.Pays(tokens, k, n, config.NGrid + 1)
            ? InputGram.FromInputs(group.Input, tokens, k)
            : null;
        var reference = work.Reference;
        var output = work.Output;
        if (gram == null) group.Inspect(linears, reference);
        // with the Gram matrix the module's output buffers are free: they hold Δ and Δ·G
        var (delta, product) = gram == null || reference.Length >= (long)n * k ? (reference, output) : (new float[n * k], new float[n * k]);
        double Loss(float[] s)
        {
            for (var i = 0; i < linears.Length; i++)
                ScaledPseudoQuantize(linears[i], s, candidates[i], config, config.BitsFor(group.Linears[i]), work.Quantizer);
            if (gram != null) // the mean over tokens and outputs, as below
                return gram.SumSquaredError(linears[0].Weight, candidates[0].Weight, n, delta, product) / ((double)tokens * n);
            group.Inspect(candidates, output);
            return MeanSquaredError(reference, output);
        }

        var ones = new float[k];
        Array.Fill(ones, 1f);
        var unscaled = Loss(ones);

        var losses = new double[config.NGrid];
        var best = double.PositiveInfinity;
        var bestAlpha = -1.0;
        float[]? bestScales = null;
        for (var g = 0; g < config.NGrid; g++)
        {
            var alpha = (double)g / config.NGrid;
            var s = CandidateScales(xMean, wMean, alpha, config.DuoScaling);
            losses[g] = Loss(s);
            if (losses[g] < best)
            {
                best = losses[g];
                bestAlpha = alpha;
                bestScales = s;
            }
        }
        if (bestScales is null)
            throw new InvalidOperationException($"{group.Name}: no α gave a finite loss (NaN or Inf in the weights or activations?)");
        return new ScaleSearchResult(group.Name, group.PrevOp, group.Linears, bestScales, bestAlpha, best, unscaled, losses);
    }

    /// <summary>s(α) as AutoAWQ computes it, including its clamp, inf/nan→1 and √(max·min) normalisation.</summary>
    internal static float[] CandidateScales(float[] xMean, float[] wMean, double alpha, bool duo)
    {
        var s = new float[xMean.Length];
        for (var c = 0; c < s.Length; c++)
        {
            var v = duo
                ? Math.Pow(xMean[c], alpha) / (Math.Pow(wMean[c], 1 - alpha) + 1e-4)
                : Math.Pow(xMean[c], alpha);
            v = Math.Max(v, 1e-4);
            s[c] = double.IsFinite(v) ? (float)v : 1f;
        }
        float max = s.Max(), min = s.Min();
        var norm = (float)Math.Sqrt((double)max * min);
        for (var c = 0; c < s.Length; c++) s[c] /= norm;
        return s;
    }

    /// <summary>
    /// AutoAWQ's w_mean: the group's weights stacked [ΣOut, In], each quantization group normalised by
    /// its own max |w| (+1e−6), averaged over rows, one value per input channel.
    /// </summary>
    internal static float[] WeightMean(FloatLinear[] linears, int groupSize)
    {
        var k = linears[0].InFeatures;
        var sum = new double[k];
        long rows = 0;
        foreach (var l in linears)
        {
            for (var n = 0; n < l.OutFeatures; n++)
            {
                var row = l.Weight.AsSpan(n * k, k);
                for (var g0 = 0; g0 < k; g0 += groupSize)
                {
                    var len = Math.Min(groupSize, k - g0);
                    var grp = row.Slice(g0, len);
                    float max = 0;
                    foreach (var w in grp) max = Math.Max(max, Math.Abs(w));
                    var denom = max + 1e-6f;
                    for (var j = 0; j < len; j++) sum[g0 + j] += Math.Abs(grp[j]) / denom;
                }
            }
            rows += l.OutFeatures;
        }
        return sum.Select(v => (float)(v / rows)).ToArray();
    }

    /// <summary>dst = Q(src · s) / s, column-wise scales.</summary>
    private static void ScaledPseudoQuantize(FloatLinear src, float[] s, FloatLinear dst, AwqConfig config, int bits, GroupQuantizer.Scratch scratch)
    {
        var k = src.InFeatures;
        var w = dst.Weight;
        for (var n = 0; n < src.OutFeatures; n++)
        {
            var off = n * k;
            for (var c = 0; c < k; c++) w[off + c] = src.Weight[off + c] * s[c];
        }
        GroupQuantizer.PseudoQuantize(w, src.OutFeatures, k, config.GroupSize, bits, scratch);
        for (var n = 0; n < src.OutFeatures; n++)
        {
            var off = n * k;
            for (var c = 0; c < k; c++) w[off + c] /= s[c];
        }
    }

    internal static double MeanSquaredError(float[] a, float[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            sum += d * d;
        }
        return sum / a.Length;
    }
}
