using System.Buffers.Binary;
using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// llama.cpp's 4-bit blocks as group-wise INT4 with 32-weight groups, where the mapping is exact, so
/// the INT4 kernels run a GGUF's own weights without re-rounding them (<see cref="GgmlBlockDecoder"/> for the block layouts):
/// <list type="bullet">
/// <item>Q4_0: x = (q − 8)·d, so q as stored, zero point 8, scale d (its fp16 bits, sign included). Always exact.</item>
/// <item>Q4_1: x = q·d + m, which is (q − z)·d when m = −d·z for an integer z in 0..15. A block maps when its
/// stored m is exactly fp16(−d·z) for z = round(−m/d) (the form an AWQ export writes, so such a file
/// comes back as the AWQ weights); the values then agree with llama.cpp's up to that fp16 rounding of m.
/// One block that does not map (any m from llama.cpp's own min/max rounding) and the whole tensor does not.</item>
/// </list>
/// </summary>
public static class GgufInt4Blocks
{
    public const int GroupSize = 32;

    /// <summary>The tensor's blocks as INT4 g32, or null when <paramref name="t"/> or a block does not map exactly.</summary>
    public static QuantizedWeights? TryMap(TensorDType t, ReadOnlySpan<byte> data, int rows, int cols)
    {
        if (t is not (TensorDType.Q4_0 or TensorDType.Q4_1) || rows <= 0 || cols <= 0 || cols % GroupSize != 0) return null;
        TensorDTypeInfo.TryGetBlock(t, out _, out var bb);
        var groups = cols / GroupSize;
        var blocks = (long)rows * groups;
        if (data.Length != blocks * bb) throw new ArgumentException($"{t}: {rows}x{cols} needs {blocks * bb} bytes, got {data.Length}");
        var q = new byte[(long)rows * cols];
        var scales = new ushort[blocks];
        var zeros = new byte[blocks];
        for (long b = 0; b < blocks; b++)
        {
            var blk = data.Slice((int)(b * bb), bb);
            var dBits = BinaryPrimitives.ReadUInt16LittleEndian(blk);
            byte zero = 8;
            if (t == TensorDType.Q4_1)
            {
                if (TryIntegerZero(dBits, BinaryPrimitives.ReadUInt16LittleEndian(blk[2..])) is not { } z) return null;
                zero = z;
            }
            scales[b] = dBits;
            zeros[b] = zero;
            var qs = blk[(t == TensorDType.Q4_0 ? 2 : 4)..];
            var o = q.AsSpan((int)(b * GroupSize), GroupSize);
            for (var j = 0; j < 16; j++)
            {
                o[j] = (byte)(qs[j] & 0x0F);
                o[j + 16] = (byte)(qs[j] >> 4);
            }
        }
        return new QuantizedWeights(rows, cols, GroupSize, 4, q, scales, zeros);
    }

    /// <summary>True when <paramref name="q"/> can be written as Q4_1 blocks as it is: 4-bit, groups whole multiples of 32, rows too.</summary>
    public static bool CanWriteQ4_1(QuantizedWeights q) => q.Bits == 4 && q.GroupSize % GroupSize == 0 && q.InFeatures % GroupSize == 0;

    /// <summary>
    /// AutoAWQ's asymmetric INT4 as llama.cpp's Q4_1, block by block: a group of g weights is g/32 blocks
    /// with d = the group's scale (its fp16 bits) and m = fp16(−scale·zero), so llama.cpp's d·q + m is
    /// (q − zero)·scale up to that one fp16 rounding of m, and <see cref="TryMap"/> reads the same q,
    /// scales and zeros back.
    /// </summary>
    public static byte[] ToQ4_1(QuantizedWeights q)
    {
        if (!CanWriteQ4_1(q))
            throw new ArgumentException($"{q.OutFeatures}x{q.InFeatures} INT{q.Bits} g{q.GroupSize} does not split into Q4_1's 32-weight blocks");
        TensorDTypeInfo.TryGetBlock(TensorDType.Q4_1, out _, out var bb);
        var perRow = q.InFeatures / GroupSize;
        var data = new byte[(long)q.OutFeatures * perRow * bb];
        for (var n = 0; n < q.OutFeatures; n++)
            for (var b = 0; b < perRow; b++)
            {
                var g = (long)n * q.Groups + b * GroupSize / q.GroupSize;
                var blk = data.AsSpan((int)(((long)n * perRow + b) * bb), bb);
                var d = (float)BitConverter.UInt16BitsToHalf(q.Scales[g]);
                BinaryPrimitives.WriteUInt16LittleEndian(blk, q.Scales[g]);
                var m = (Half)(-(d * q.Zeros[g]));
                if (!Half.IsFinite(m)) throw new ArgumentException($"row {n}, group {g % q.Groups}: scale {d} · zero {q.Zeros[g]} is beyond fp16's range; Q4_1 cannot hold it");
                BinaryPrimitives.WriteUInt16LittleEndian(blk[2..], BitConverter.HalfToUInt16Bits(m));
                var src = q.Q.AsSpan((int)((long)n * q.InFeatures + b * GroupSize), GroupSize);
                for (var j = 0; j < 16; j++) blk[4 + j] = (byte)(src[j] | (src[j + 16] << 4));
            }
        return data;
    }

    /// <summary>z with m == fp16(−d·z) exactly and 0 ≤ z ≤ 15; null when there is none.</summary>
    internal static byte? TryIntegerZero(ushort dBits, ushort mBits)
    {
        var d = (float)BitConverter.UInt16BitsToHalf(dBits);
        var m = (float)BitConverter.UInt16BitsToHalf(mBits);
        if (!float.IsFinite(d) || !float.IsFinite(m)) return null;
        if (d == 0) return m == 0 ? (byte)0 : null;
        var z = MathF.Round(-m / d);
        if (!(z >= 0 && z <= 15)) return null;
        var back = BitConverter.HalfToUInt16Bits((Half)(-(d * z)));
        // −0 and +0 are the same offset
        return back == mBits || (m == 0 && z == 0) ? (byte)z : null;
    }
}
