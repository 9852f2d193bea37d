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

    /// <summary>True when <paramref name="q"/> can be written as Q4_K: 4-bit, groups whole multiples of 32, rows whole 256-element super-blocks, scales not negative.</summary>
    public static bool CanWriteQ4_K(QuantizedWeights q) =>
        q.Bits == 4 && q.GroupSize % GroupSize == 0 && q.InFeatures % 256 == 0 && q.Scales.All(bits => (bits & 0x8000) == 0); // Q4_K's 6-bit scales are unsigned

    /// <summary>
    /// The INT4 solution as llama.cpp's Q4_K (x = (d·sc)·q − dmin·m per 32-weight sub-block, sc and m 6-bit
    /// under one fp16 d and dmin per 256 weights). Not exact: each super-block's eight group scales s and
    /// offsets s·z are rounded to 6 bits of its largest (d = max s / 63, dmin = max s·z / 63), and each
    /// weight's code is then re-chosen as the nearest to the INT4 model's own value (q − z)·s under those
    /// scales. <paramref name="relativeRmse"/> is the RMS of that change over the RMS of the weights.
    /// </summary>
    public static byte[] ToQ4_K(QuantizedWeights q, out double relativeRmse)
    {
        if (!CanWriteQ4_K(q))
            throw new ArgumentException($"{q.OutFeatures}x{q.InFeatures} INT{q.Bits} g{q.GroupSize} does not split into Q4_K's 256-weight super-blocks of 32-weight groups");
        TensorDTypeInfo.TryGetBlock(TensorDType.Q4_K, out _, out var bb);
        var perRow = q.InFeatures / 256;
        var data = new byte[(long)q.OutFeatures * perRow * bb];
        Span<float> s = stackalloc float[8], o = stackalloc float[8];
        Span<int> sc = stackalloc int[8], mn = stackalloc int[8];
        double err = 0, norm = 0;
        for (var n = 0; n < q.OutFeatures; n++)
            for (var b = 0; b < perRow; b++)
            {
                var k0 = b * 256;
                float maxS = 0, maxO = 0;
                for (var j = 0; j < 8; j++)
                {
                    var g = (long)n * q.Groups + (k0 + 32 * j) / q.GroupSize;
                    s[j] = q.Scale(g);
                    o[j] = s[j] * q.Zeros[g];
                    maxS = MathF.Max(maxS, s[j]);
                    maxO = MathF.Max(maxO, o[j]);
                }
                var d = (float)(Half)(maxS / 63);
                var dmin = (float)(Half)(maxO / 63);
                for (var j = 0; j < 8; j++)
                {
                    sc[j] = d > 0 ? Math.Clamp((int)MathF.Round(s[j] / d), 0, 63) : 0;
                    mn[j] = dmin > 0 ? Math.Clamp((int)MathF.Round(o[j] / dmin), 0, 63) : 0;
                }
                var blk = data.AsSpan((int)(((long)n * perRow + b) * bb), bb);
                BinaryPrimitives.WriteUInt16LittleEndian(blk, BitConverter.HalfToUInt16Bits((Half)d));
                BinaryPrimitives.WriteUInt16LittleEndian(blk[2..], BitConverter.HalfToUInt16Bits((Half)dmin));
                var scales = blk.Slice(4, 12);
                for (var j = 0; j < 4; j++) // the inverse of ggml's get_scale_min_k4
                {
                    scales[j] = (byte)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
                    scales[j + 4] = (byte)((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
                    scales[j + 8] = (byte)((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
                }
                var qs = blk[16..];
                for (var j = 0; j < 8; j++)
                {
                    var g = (long)n * q.Groups + (k0 + 32 * j) / q.GroupSize;
                    float d1 = d * sc[j], m1 = dmin * mn[j];
                    for (var l = 0; l < 32; l++)
                    {
                        var k = k0 + 32 * j + l;
                        var w = (q.Q[(long)n * q.InFeatures + k] - q.Zeros[g]) * q.Scale(g);
                        var code = d1 > 0 ? Math.Clamp((int)MathF.Round((w + m1) / d1), 0, 15) : 0;
                        var back = d1 * code - m1;
                        err += (double)(back - w) * (back - w);
                        norm += (double)w * w;
                        var byteIndex = 32 * (j / 2) + l;
                        qs[byteIndex] |= (byte)(j % 2 == 0 ? code : code << 4);
                    }
                }
            }
        relativeRmse = norm > 0 ? Math.Sqrt(err / norm) : 0;
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
