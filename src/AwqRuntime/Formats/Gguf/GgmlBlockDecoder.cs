using System.Buffers.Binary;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// llama.cpp's quantized block formats decoded to fp32, value for value as ggml's reference
/// dequantize_row_* (ggml/src/ggml-quants.c; block layouts in ggml/src/ggml-common.h), each fp32
/// expression evaluated in ggml's order:
/// <list type="bullet">
/// <item>Q4_0 (18 B / 32): fp16 d, 16 bytes of nibbles; x[j] = (lo(qs[j]) − 8)·d, x[j+16] = (hi(qs[j]) − 8)·d.</item>
/// <item>Q4_1 (20 B / 32): fp16 d, m, nibbles; x = q·d + m.</item>
/// <item>Q5_0 (22 B / 32): fp16 d, 32 high bits qh, nibbles; x = ((nibble | bit·16) − 16)·d.</item>
/// <item>Q5_1 (24 B / 32): fp16 d, m, qh, nibbles; x = (nibble | bit·16)·d + m.</item>
/// <item>Q4_K (144 B / 256): fp16 d, dmin, 12 bytes of 6-bit (scale, min) pairs for 8 sub-blocks of 32, 128 bytes of nibbles; x = (d·sc)·q − dmin·m.</item>
/// <item>Q5_K (176 B / 256): Q4_K plus 32 bytes of fifth bits.</item>
/// <item>Q6_K (210 B / 256): 128 bytes low nibbles, 64 bytes of 2-bit highs, 16 int8 scales for sub-blocks of 16, fp16 d; x = d·sc·(q − 32).</item>
/// </list>
/// Q8_0 lives in <see cref="TensorConversion"/> (it is also written).
/// </summary>
public static class GgmlBlockDecoder
{
    /// <summary>True for the block types <see cref="Decode"/> handles.</summary>
    public static bool CanDecode(TensorDType t) =>
        t is TensorDType.Q4_0 or TensorDType.Q4_1 or TensorDType.Q5_0 or TensorDType.Q5_1 or TensorDType.Q4_K or TensorDType.Q5_K or TensorDType.Q6_K;

    /// <summary>Decodes whole blocks of <paramref name="t"/>: <paramref name="src"/> holds exactly the blocks of <paramref name="dst"/>.</summary>
    public static void Decode(TensorDType t, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!TensorDTypeInfo.TryGetBlock(t, out var be, out var bb) || !CanDecode(t)) throw new NotSupportedException($"decoding {t} is not supported");
        if (dst.Length % be != 0 || src.Length != (long)dst.Length / be * bb)
            throw new ArgumentException($"{t}: {dst.Length} elements are not whole blocks of {be} in {src.Length} bytes");
        var blocks = dst.Length / be;
        for (var b = 0; b < blocks; b++)
        {
            var blk = src.Slice(b * bb, bb);
            var y = dst.Slice(b * be, be);
            switch (t)
            {
                case TensorDType.Q4_0: Q4_0(blk, y); break;
                case TensorDType.Q4_1: Q4_1(blk, y); break;
                case TensorDType.Q5_0: Q5(blk, y, hasMin: false); break;
                case TensorDType.Q5_1: Q5(blk, y, hasMin: true); break;
                case TensorDType.Q4_K: QK(blk, y, fifthBits: false); break;
                case TensorDType.Q5_K: QK(blk, y, fifthBits: true); break;
                default: Q6_K(blk, y); break;
            }
        }
    }

    internal static float Half(ReadOnlySpan<byte> b) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(b));

    private static void Q4_0(ReadOnlySpan<byte> blk, Span<float> y)
    {
        var d = Half(blk);
        var qs = blk[2..];
        for (var j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    private static void Q4_1(ReadOnlySpan<byte> blk, Span<float> y)
    {
        float d = Half(blk), m = Half(blk[2..]);
        var qs = blk[4..];
        for (var j = 0; j < 16; j++)
        {
            y[j] = (qs[j] & 0x0F) * d + m;
            y[j + 16] = (qs[j] >> 4) * d + m;
        }
    }

    private static void Q5(ReadOnlySpan<byte> blk, Span<float> y, bool hasMin)
    {
        var d = Half(blk);
        var m = hasMin ? Half(blk[2..]) : 0f;
        var o = hasMin ? 4 : 2;
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(blk[o..]);
        var qs = blk[(o + 4)..];
        for (var j = 0; j < 16; j++)
        {
            var x0 = (qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
            var x1 = (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
            if (hasMin)
            {
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
            else
            {
                y[j] = (x0 - 16) * d;
                y[j + 16] = (x1 - 16) * d;
            }
        }
    }

    /// <summary>ggml's get_scale_min_k4: sub-block j's 6-bit scale and min from the 12 packed bytes.</summary>
    internal static (int Scale, int Min) ScaleMinK4(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    private static void QK(ReadOnlySpan<byte> blk, Span<float> y, bool fifthBits)
    {
        float d = Half(blk), min = Half(blk[2..]);
        var scales = blk.Slice(4, 12);
        var qh = fifthBits ? blk.Slice(16, 32) : default;
        var ql = blk[(fifthBits ? 48 : 16)..];
        int u1 = 1, u2 = 2;
        for (int j = 0, sub = 0; j < 256; j += 64, sub += 2)
        {
            var (sc1, m1i) = ScaleMinK4(sub, scales);
            var (sc2, m2i) = ScaleMinK4(sub + 1, scales);
            float d1 = d * sc1, m1 = min * m1i, d2 = d * sc2, m2 = min * m2i;
            var q = ql.Slice(j / 2, 32);
            for (var l = 0; l < 32; l++)
            {
                var lo = q[l] & 0xF;
                var hi = q[l] >> 4;
                if (fifthBits)
                {
                    lo += (qh[l] & u1) != 0 ? 16 : 0;
                    hi += (qh[l] & u2) != 0 ? 16 : 0;
                }
                y[j + l] = d1 * lo - m1;
                y[j + 32 + l] = d2 * hi - m2;
            }
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    private static void Q6_K(ReadOnlySpan<byte> blk, Span<float> y)
    {
        var d = Half(blk[208..]);
        for (var n = 0; n < 2; n++)
        {
            var ql = blk.Slice(64 * n, 64);
            var qh = blk.Slice(128 + 32 * n, 32);
            var sc = blk.Slice(192 + 8 * n, 8);
            var o = y.Slice(128 * n, 128);
            for (var l = 0; l < 32; l++)
            {
                var s = l / 16;
                var q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                o[l] = d * (sbyte)sc[s] * q1;
                o[l + 32] = d * (sbyte)sc[s + 2] * q2;
                o[l + 64] = d * (sbyte)sc[s + 4] * q3;
                o[l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
        }
    }
}
