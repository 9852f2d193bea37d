using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Observers;

/// <summary>
/// Asymmetric UINT8 parameters of a range, as PyTorch's observers compute them
/// (torch/ao/quantization/observer.py _calculate_qparams, quint8): the range is widened to include 0,
/// scale = (hi − lo)/255, zero = clamp(round(−lo/scale), 0, 255); an empty range gets scale 1.
/// </summary>
public static class ActivationRange
{
    public static ActivationQuantParams Params(float lo, float hi)
    {
        lo = Math.Min(lo, 0);
        hi = Math.Max(hi, 0);
        var scale = (hi - lo) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale)) scale = float.IsFinite(scale) ? 1f : throw new ArgumentException($"activation range [{lo}, {hi}] overflows");
        var zero = (int)Math.Clamp(MathF.Round(-lo / scale, MidpointRounding.ToEven), 0, 255);
        return new ActivationQuantParams(scale, zero);
    }

    /// <summary>Σ (x − dequant(quant(x)))² over <paramref name="x"/> in float64.</summary>
    public static double SquaredError(ReadOnlySpan<float> x, ActivationQuantParams p)
    {
        double e = 0;
        float lo = -p.Zero, hi = 255 - p.Zero;
        foreach (var v in x)
        {
            var t = MathF.Round(v / p.Scale, MidpointRounding.ToEven);
            t = t < lo ? lo : t > hi ? hi : t;
            var d = v - (double)t * p.Scale;
            e += d * d;
        }
        return e;
    }
}
