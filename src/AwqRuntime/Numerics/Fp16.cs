using System.Numerics;

namespace AwqRuntime.Numerics;

/// <summary>
/// IEEE binary16 (fp16) as raw <see cref="ushort"/> bits, converted with integer arithmetic only.
/// Bit for bit what the F16C instructions do and what native <c>awq_fp32_to_fp16</c> /
/// <c>awq_fp16_to_fp32</c> produce: round to nearest even, subnormals both ways, ±Inf and signed
/// zero kept, |x| ≥ 65520 → ±Inf, NaN → NaN with its sign, the quiet bit set and the top payload
/// bits kept. A line-for-line port of <c>awq_fp32_to_fp16_1</c> in native/src/cpu/awq_numerics.h.
/// </summary>
public static class Fp16
{
    /// <summary>Largest finite fp16 value.</summary>
    public const float MaxValue = 65504f;

    /// <summary>Smallest positive subnormal fp16 value, 2^-24.</summary>
    public const float Epsilon = 5.9604645E-08f;

    /// <summary>Rounds <paramref name="value"/> to the nearest fp16 (ties to even) and returns its bits.</summary>
    public static ushort FromSingle(float value)
    {
        uint x = BitConverter.SingleToUInt32Bits(value);
        uint sign = (x >> 16) & 0x8000u;
        uint ax = x & 0x7FFFFFFFu;
        if (ax > 0x7F800000u) return (ushort)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
        if (ax >= 0x477FF000u) return (ushort)(sign | 0x7C00u); // ≥ 65520: ties to even = up = Inf
        if (ax >= 0x38800000u)
        {
            // Normal result: rebias 127 → 15, round the 13 dropped bits half-to-even; a carry out
            // of the mantissa bumps the exponent, which is exactly right.
            uint r = ax - 0x38000000u;
            r += 0x0FFFu + ((r >> 13) & 1u);
            return (ushort)(sign | (r >> 13));
        }
        if (ax <= 0x33000000u) return (ushort)sign; // ≤ 2^-25: half the smallest subnormal or less
        // Subnormal result in units of 2^-24: significand m (24 bits) >> (126 - e), half-to-even.
        uint e = ax >> 23;
        uint m = (ax & 0x7FFFFFu) | 0x800000u;
        int shift = (int)(126u - e);
        uint q = m >> shift;
        uint rem = m & ((1u << shift) - 1u);
        uint half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u) != 0)) q++;
        return (ushort)(sign | q);
    }

    /// <summary>The exact fp32 value of fp16 <paramref name="bits"/> (signalling NaNs come back quiet, as VCVTPH2PS does).</summary>
    public static float ToSingle(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        uint e = (uint)(bits >> 10) & 0x1Fu;
        uint m = bits & 0x3FFu;
        if (e == 0x1Fu)
            return BitConverter.UInt32BitsToSingle(m == 0 ? sign | 0x7F800000u : sign | 0x7FC00000u | (m << 13));
        if (e != 0) return BitConverter.UInt32BitsToSingle(sign | ((e + 112u) << 23) | (m << 13));
        if (m == 0) return BitConverter.UInt32BitsToSingle(sign);
        // Subnormal m * 2^-24 with its leading one at bit p: 1.f * 2^(p - 24).
        uint p = 31u - (uint)BitOperations.LeadingZeroCount(m);
        return BitConverter.UInt32BitsToSingle(sign | ((p + 103u) << 23) | ((m << (int)(23u - p)) & 0x7FFFFFu));
    }

    /// <summary><paramref name="value"/> rounded to the nearest fp16 value, as fp32 (AWQ's stored scales).</summary>
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
