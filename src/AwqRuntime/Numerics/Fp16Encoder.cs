using AwqRuntime.Native;

namespace AwqRuntime.Numerics;

/// <summary>
/// Bulk fp32 → fp16 for tensors that are stored in fp16 (AWQ checkpoints, fp16 exports): the native
/// vectorised conversion, plus the check that no finite value overflowed to ±Inf — a weight beyond
/// ±65504 must be an error naming the tensor, not a silently broken model.
/// </summary>
public static class Fp16Encoder
{
    public static ushort[] Encode(ReadOnlySpan<float> values, string what)
    {
        var bits = new ushort[values.Length];
        if (values.Length == 0) return bits;
        Kernels.Fp32ToFp16(values, bits);
        for (var i = 0; i < bits.Length; i++)
            if ((bits[i] & 0x7FFF) == 0x7C00 && float.IsFinite(values[i]))
                throw new InvalidDataException($"{what}: value {values[i]} exceeds the fp16 range (±65504)");
        return bits;
    }

    /// <summary>Rounds to fp16 precision in place (same check).</summary>
    public static void RoundInPlace(Span<float> values, string what)
    {
        if (values.Length == 0) return;
        var bits = Encode(values, what);
        Kernels.Fp16ToFp32(bits, values);
    }
}
