namespace AwqRuntime.Numerics;

/// <summary>One storage format's cost: bits per weight including any per-group metadata.</summary>
public sealed record WeightFormatCost(string Name, double BitsPerWeight, string Note)
{
    /// <summary>Bytes needed to store <paramref name="parameters"/> weights in this format.</summary>
    public double Bytes(double parameters) => parameters * BitsPerWeight / 8.0;
}

/// <summary>
/// The seed's memory arithmetic: how many bytes a model of N parameters needs per number format.
/// Group-wise INT4 carries one scale and one zero point per group of G weights, so its cost is
/// 4 + (scale_bits + zero_bits) / G bits per weight (g128, fp16 scale, 4-bit zero: 4.156).
/// </summary>
public static class MemoryFootprint
{
    public static WeightFormatCost Fp32 { get; } = new("FP32", 32, "IEEE binary32");
    public static WeightFormatCost Fp16 { get; } = new("FP16", 16, "IEEE binary16");
    public static WeightFormatCost Bf16 { get; } = new("BF16", 16, "bfloat16 (fp32 exponent, 7-bit mantissa)");
    public static WeightFormatCost Int8 { get; } = new("INT8", 8, "no scale overhead counted");
    public static WeightFormatCost Int4 { get; } = new("INT4", 4, "no scale overhead counted");

    /// <summary>INT4 with one scale and one zero point per group of <paramref name="groupSize"/> weights.</summary>
    public static WeightFormatCost Int4Grouped(int groupSize, int scaleBits = 16, int zeroBits = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
        return new($"INT4 g{groupSize}", 4 + (double)(scaleBits + zeroBits) / groupSize,
            $"fp{scaleBits} scale + {zeroBits}-bit zero per {groupSize} weights");
    }

    /// <summary>The table `awq inspect --params N` prints.</summary>
    public static IReadOnlyList<WeightFormatCost> StandardFormats { get; } =
    [
        Fp32, Fp16, Bf16, Int8, Int4, Int4Grouped(128), Int4Grouped(64), Int4Grouped(32),
    ];
}
