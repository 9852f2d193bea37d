namespace AwqRuntime.Numerics;

/// <summary>
/// A two's-complement or unsigned integer format of 2..16 bits (INT8 −128..127, UINT8 0..255,
/// INT4 −8..7, UINT4 0..15, ...) with range checks and saturating conversions, the building block
/// of quantized storage: q values are held in <see cref="int"/> containers and must fit their format.
/// </summary>
public sealed record IntegerFormat
{
    private IntegerFormat(int bits, bool isSigned)
    {
        Bits = bits;
        IsSigned = isSigned;
    }

    public static IntegerFormat Int8 { get; } = new(8, true);
    public static IntegerFormat UInt8 { get; } = new(8, false);
    public static IntegerFormat Int4 { get; } = new(4, true);
    public static IntegerFormat UInt4 { get; } = new(4, false);

    /// <summary>The signed format of <paramref name="bits"/> bits (2..16).</summary>
    public static IntegerFormat Signed(int bits) => new(CheckBits(bits), true);

    /// <summary>The unsigned format of <paramref name="bits"/> bits (2..16).</summary>
    public static IntegerFormat Unsigned(int bits) => new(CheckBits(bits), false);

    public int Bits { get; }
    public bool IsSigned { get; }

    /// <summary>"INT8", "UINT4", ...</summary>
    public string Name => (IsSigned ? "INT" : "UINT") + Bits;

    public int MinValue => IsSigned ? -(1 << (Bits - 1)) : 0;
    public int MaxValue => IsSigned ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;

    /// <summary>Number of distinct values, 2^Bits.</summary>
    public int Levels => 1 << Bits;

    public bool Contains(long value) => value >= MinValue && value <= MaxValue;

    /// <summary><paramref name="value"/> clamped into [MinValue, MaxValue].</summary>
    public int Saturate(long value) => value < MinValue ? MinValue : value > MaxValue ? MaxValue : (int)value;

    /// <summary>
    /// Rounds half to even, then clamps into range. ±Inf saturate to the bounds; NaN maps to 0
    /// (or MinValue if 0 is outside the format, which never happens for these formats).
    /// </summary>
    public int SaturateRound(float value)
    {
        if (float.IsNaN(value)) return Saturate(0);
        float r = MathF.Round(value); // MidpointRounding.ToEven
        if (r <= MinValue) return MinValue;
        if (r >= MaxValue) return MaxValue;
        return (int)r;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="paramName"/> when <paramref name="value"/> does not fit.</summary>
    public void Require(long value, string paramName)
    {
        if (!Contains(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"{Name} holds {MinValue}..{MaxValue}");
    }

    public override string ToString() => $"{Name} [{MinValue}, {MaxValue}]";

    private static int CheckBits(int bits)
    {
        if (bits < 2 || bits > 16)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "integer formats have 2..16 bits");
        return bits;
    }
}
