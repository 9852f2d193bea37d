using AwqRuntime.Model;
using AwqRuntime.Native;

namespace AwqRuntime.Quantization;

/// <summary>
/// AWQ's weight clipping search (AutoAWQ awq/quantize/quantizer.py _compute_best_clip): for every output row and quantization group, try
/// max_val = max|w| · (1 − i/n_grid) for i = 0 … max_shrink·n_grid − 1, clamp the group to
/// [−max_val, max_val], quantize, and keep the max_val whose per-group partial outputs
/// Σ_{k∈group} x_k·w_k on a sample of calibration tokens (every (n/512)-th; see <see cref="SampleRows"/>) stay closest to the
/// original in mean squared error (computed natively: <see cref="Kernels.ClipError"/>, one GEMM-shaped pass per candidate). Applied as a clamp of the full-precision weights before the
/// final quantization, on the linears the family clips (<see cref="Model.Families.ModelFamily.IsClipped"/>).
/// </summary>
internal static class ClipSearch
{
    /// <summary>Searches and applies the clip in place; returns the mean best error per group.</summary>
    /// <param name="seqLen">Tokens per calibration sequence (rows of <paramref name="input"/> are sequences one after another), so that the sample can avoid aliasing with sequence starts; 0 when unknown.</param>
    /// <param name="leadingBos">Every sequence starts with BOS (<see cref="CalibrationSet.LeadingBos"/>): no sampled row is a sequence's first.</param>
    public static double Run(LinearKind kind, FloatLinear linear, float[] input, AwqConfig config, SearchWorkspace work, int seqLen = 0, bool leadingBos = false)
    {
        var k = linear.InFeatures;
        var n = linear.OutFeatures;
        var g = config.GroupSize;
        var groups = Numerics.QuantGroups.Count(k, g);
        var x = SampleTokens(input, k, config.ClipSampleTokens, seqLen, leadingBos, out var t);

        var w = linear.Weight;
        var orgMax = new float[(long)n * groups];
        for (var r = 0; r < n; r++)
            for (var gi = 0; gi < groups; gi++)
            {
                float m = 0;
                var off = r * k + gi * g;
                var len = Math.Min(g, k - gi * g);
                for (var j = 0; j < len; j++) m = Math.Max(m, Math.Abs(w[off + j]));
                orgMax[r * groups + gi] = m;
            }

        var bestErr = new double[orgMax.Length];
        Array.Fill(bestErr, double.PositiveInfinity);
        var bestMax = (float[])orgMax.Clone();
        var candidate = work.Candidate(kind, linear).Weight;
        var scratch = work.Quantizer;
        var steps = (int)(config.MaxShrink * config.NGrid);
        var err = new double[orgMax.Length];
        for (var i = 0; i < steps; i++)
        {
            var shrink = 1f - (float)i / config.NGrid;
            for (var r = 0; r < n; r++)
                for (var gi = 0; gi < groups; gi++)
                {
                    var mv = orgMax[r * groups + gi] * shrink;
                    var off = r * k + gi * g;
                    var len = Math.Min(g, k - gi * g);
                    for (var j = 0; j < len; j++) candidate[off + j] = Math.Clamp(w[off + j], -mv, mv);
                }
            GroupQuantizer.PseudoQuantize(candidate, n, k, g, config.BitsFor(kind), scratch);
            // candidate ← q(w_clamped) − w : the error of each partial output is Σ x·(wq − w).
            for (var j = 0; j < w.Length; j++) candidate[j] -= w[j];
            Kernels.ClipError(x, t, k, candidate, n, g, err);
            for (var idx = 0; idx < err.Length; idx++)
                if (err[idx] < bestErr[idx])
                {
                    bestErr[idx] = err[idx];
                    bestMax[idx] = orgMax[idx] * shrink;
                }
        }

        for (var r = 0; r < n; r++)
            for (var gi = 0; gi < groups; gi++)
            {
                var mv = bestMax[r * groups + gi];
                var off = r * k + gi * g;
                var len = Math.Min(g, k - gi * g);
                for (var j = 0; j < len; j++) w[off + j] = Math.Clamp(w[off + j], -mv, mv);
            }
        return bestErr.Average();
    }

    private static float[] SampleTokens(float[] x, int k, int n, int seqLen, bool leadingBos, out int taken)
    {
        var rows = SampleRows(x.Length / k, n, seqLen, leadingBos);
        taken = rows.Length;
        var result = new float[(long)taken * k];
        for (var i = 0; i < taken; i++) Array.Copy(x, (long)rows[i] * k, result, (long)i * k, k);
        return result;
    }

    /// <summary>
    /// The rows sampled from <paramref name="tokens"/>: every (tokens / n)-th, as AutoAWQ takes
    /// n_sample_token rows (input_feat[:, 0 :: step]). When that step is a multiple of
    /// <paramref name="seqLen"/> every such row would be a sequence's first position — the BOS token,
    /// whose activations are nothing like the rest (e.g. --calib self --calib-samples 512) — so then
    /// the i-th row moves i mod seqLen positions into its sequence: one row per sequence still, at
    /// positions 0, 1, 2, …. Other steps keep AutoAWQ's rows exactly — unless every sequence starts
    /// with BOS (<paramref name="leadingBos"/>, sequences sampled from the model): then a row at a
    /// sequence's first position moves to its second. Otherwise, with 256 × 512 self-generated tokens
    /// (step 256), half the sample would be BOS rows, and AWQ g32 on stories260K measured 0.094–0.095
    /// KLD instead of 0.085–0.090 with 128 sequences (a quarter BOS rows).
    /// </summary>
    internal static int[] SampleRows(int tokens, int n, int seqLen, bool leadingBos = false)
    {
        var step = Math.Max(1, tokens / n);
        var taken = (tokens + step - 1) / step;
        var aliases = seqLen > 1 && step % seqLen == 0;
        var rows = new int[taken];
        for (var i = 0; i < taken; i++)
        {
            var row = (long)i * step + (aliases ? i % seqLen : 0);
            if (leadingBos && seqLen > 1 && step > 1 && row % seqLen == 0) row++;
            rows[i] = (int)Math.Min(row, tokens - 1);
        }
        return rows;
    }
}
