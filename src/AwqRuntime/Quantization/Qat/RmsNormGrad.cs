namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// The reverse of y = x · r · w with r = 1/√(mean(x²) + ε) per row:
///   dx = r · (dy ⊙ w) − x · r³/D · Σ(dy ⊙ w ⊙ x),    dw = Σ_rows dy ⊙ x · r
/// </summary>
internal static class RmsNormGrad
{
    /// <summary>dx [M,D] += the gradient of the input x [M,D] for output gradient dy; dWeight [D] += the weight's, when given.</summary>
    public static void Accumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy, int m, int d, float eps, Span<float> dx,
        Span<float> dWeight = default)
    {
        for (var r = 0; r < m; r++)
        {
            var xr = x.Slice(r * d, d);
            var gr = dy.Slice(r * d, d);
            var dr = dx.Slice(r * d, d);
            double ss = 0, dot = 0;
            for (var i = 0; i < d; i++)
            {
                ss += (double)xr[i] * xr[i];
                dot += (double)gr[i] * weight[i] * xr[i];
            }
            var rs = 1.0 / Math.Sqrt(ss / d + eps);
            var c = rs * rs * rs / d * dot;
            for (var i = 0; i < d; i++) dr[i] += (float)(rs * gr[i] * weight[i] - xr[i] * c);
            if (!dWeight.IsEmpty)
                for (var i = 0; i < d; i++) dWeight[i] += (float)(gr[i] * xr[i] * rs);
        }
    }
}
