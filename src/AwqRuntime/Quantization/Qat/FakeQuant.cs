using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Group-wise fake quantization of a weight matrix W [N,K] with learnable scales and fixed integer
/// zero points (groups of G along K, the last one shorter when G does not divide K):
///   ŵ = (clamp(round(w/ŝ) + z, 0, 2^b−1) − z) · ŝ,    ŝ = fp16(s)
/// exactly the rounding of awq_quantize (w/scale, round half to even, + zero, clamp), so the fake-
/// quantized forward is the INT4 checkpoint's forward and the export rounds nothing new.
/// Reverse pass (the straight-through estimator of Bengio et al. 2013 for round, as PyTorch's
/// FakeQuantize and LSQ, Esser et al. ICLR 2020, use it): d round(t)/dt := 1, clamp passes the
/// gradient only inside its range, so
///   ∂ŵ/∂w = 1 inside the range, 0 where clamped;
///   ∂ŵ/∂s = round(w/ŝ) − w/ŝ inside the range, q_clamped − z where clamped (LSQ's scale gradient);
/// the gradient of ŝ is taken as that of s (fp16 rounding is another straight-through step).
/// </summary>
internal static class FakeQuant
{
    /// <summary>ŵ from w; <paramref name="clamped"/> records per weight whether clamp was active (for the reverse pass).</summary>
    public static void Forward(ReadOnlySpan<float> w, ReadOnlySpan<float> s, ReadOnlySpan<byte> z, int n, int k, int groupSize, int bits,
        Span<float> wq, Span<bool> clamped)
    {
        var groups = QuantGroups.Count(k, groupSize);
        float qmax = (1 << bits) - 1;
        for (var r = 0; r < n; r++)
            for (var g = 0; g < groups; g++)
            {
                var scale = RoundedScale(s[r * groups + g]);
                float zero = z[r * groups + g];
                var end = Math.Min(k, (g + 1) * groupSize);
                for (var c = g * groupSize; c < end; c++)
                {
                    var i = r * k + c;
                    var q = MathF.Round(w[i] / scale) + zero;
                    var inRange = q >= 0 && q <= qmax;
                    clamped[i] = !inRange;
                    wq[i] = (Math.Clamp(q, 0, qmax) - zero) * scale;
                }
            }
    }

    /// <summary>dW = dŴ where unclamped; dS[n,g] += Σ over the group of dŴ · ∂ŵ/∂s.</summary>
    public static void Backward(ReadOnlySpan<float> dwq, ReadOnlySpan<float> w, ReadOnlySpan<float> s, ReadOnlySpan<byte> z, ReadOnlySpan<bool> clamped,
        int n, int k, int groupSize, int bits, Span<float> dw, Span<float> ds)
    {
        var groups = QuantGroups.Count(k, groupSize);
        float qmax = (1 << bits) - 1;
        for (var r = 0; r < n; r++)
            for (var g = 0; g < groups; g++)
            {
                var scale = RoundedScale(s[r * groups + g]);
                float zero = z[r * groups + g];
                var end = Math.Min(k, (g + 1) * groupSize);
                double acc = 0;
                for (var c = g * groupSize; c < end; c++)
                {
                    var i = r * k + c;
                    var t = w[i] / scale;
                    if (clamped[i])
                        acc += dwq[i] * (Math.Clamp(MathF.Round(t) + zero, 0, qmax) - zero);
                    else
                    {
                        dw[i] += dwq[i];
                        acc += dwq[i] * (MathF.Round(t) - t);
                    }
                }
                ds[r * groups + g] += (float)acc;
            }
    }

    /// <summary>The scale as the checkpoint stores it (fp16), kept at or above fp16's smallest positive value.</summary>
    public static float RoundedScale(float s) => Fp16.ToSingle(Fp16.FromSingle(MathF.Max(s, SmallestScale)));

    /// <summary>fp16's smallest subnormal, 2^−24: a learned scale is never allowed to reach 0.</summary>
    public const float SmallestScale = 5.9604645e-8f;
}
