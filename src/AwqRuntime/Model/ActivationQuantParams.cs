namespace AwqRuntime.Model;

/// <summary>
/// Fixed asymmetric UINT8 quantization of activations (static W8A8): x ≈ (q − Zero)·Scale,
/// q = clamp(round(x/Scale) + Zero, 0, 255), rounded as awq_quantize rounds (fp32 quotient, half to even,
/// clamped before the zero is added).
/// </summary>
public sealed record ActivationQuantParams(float Scale, int Zero)
{
    public ActivationQuantParams Validate(string what)
    {
        if (!float.IsFinite(Scale) || !(Scale > 0)) throw new InvalidDataException($"{what}: activation scale {Scale} is not a finite positive number");
        if (Zero is < 0 or > 255) throw new InvalidDataException($"{what}: activation zero point {Zero} is outside 0..255");
        return this;
    }

    /// <summary>Quantizes x element-wise into q (same length).</summary>
    public void Quantize(ReadOnlySpan<float> x, Span<byte> q)
    {
        float lo = -Zero, hi = 255 - Zero;
        for (var i = 0; i < x.Length; i++)
        {
            var t = MathF.Round(x[i] / Scale, MidpointRounding.ToEven);
            t = t < lo ? lo : t > hi ? hi : t;
            q[i] = (byte)((int)(float.IsNaN(t) ? lo : t) + Zero); // a NaN input becomes code 0
        }
    }
}
