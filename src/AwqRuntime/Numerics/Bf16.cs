namespace AwqRuntime.Numerics;

/// <summary>
/// bfloat16 (fp32's sign and exponent, 7 mantissa bits) as raw <see cref="ushort"/> bits; bit for
/// bit what native <c>awq_fp32_to_bf16</c> / <c>awq_bf16_to_fp32</c> produce.
/// Narrowing rounds to nearest even INCLUDING fp32 subnormals and overflows to ±Inf past the
/// largest bf16; NaN keeps its sign and top payload with the quiet bit (0x0040) set. This is
/// deliberately not AVX-512 BF16's VCVTNEPS2BF16, which flushes subnormal inputs to zero.
/// Widening is a 16-bit shift: exact for every pattern (a signalling NaN stays signalling).
/// </summary>
public static class Bf16
{
    /// <summary>Largest finite bf16 value, (2 - 2^-7) * 2^127.</summary>
    public static float MaxValue => BitConverter.UInt32BitsToSingle(0x7F7F0000u);

    /// <summary>Rounds <paramref name="value"/> to the nearest bf16 (ties to even) and returns its bits.</summary>
    public static ushort FromSingle(float value)
    {
        uint x = BitConverter.SingleToUInt32Bits(value);
        if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((x >> 16) | 0x0040u);
        // Adding 0x7FFF plus the lowest kept bit rounds the dropped half-word to nearest even; the
        // carry walks into the exponent (and up to Inf) exactly as rounding should.
        return (ushort)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }

    /// <summary>The exact fp32 value of bf16 <paramref name="bits"/>.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary><paramref name="value"/> rounded to the nearest bf16 value, as fp32.</summary>
    public static float Round(float value) => ToSingle(FromSingle(value));

    /// <summary>Converts every element; <paramref name="destination"/> must be at least as long as <paramref name="source"/>.</summary>
    public static void FromSingles(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination has {destination.Length} elements, needs {source.Length}", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = FromSingle(source[i]);
    }

    /// <summary>Converts every element; <paramref name="destination"/> must be at least as long as <paramref name="source"/>.</summary>
    public static void ToSingles(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination has {destination.Length} elements, needs {source.Length}", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = ToSingle(source[i]);
    }
}
