using AwqRuntime.Native;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AwqRuntime.Formats;

/// <summary>
/// Element conversions between stored tensor bytes (little-endian) and fp32, shared by every
/// loader and writer: F32, F16, BF16, F64 and ggml's Q8_0 block (fp16 d + 32 int8, value = d·q);
/// llama.cpp's other block types decode through <see cref="Gguf.GgmlBlockDecoder"/>.
/// fp32 → fp16 and fp32 → bf16 round to nearest even, as torch's .half() / .bfloat16() do.
/// </summary>
public static class TensorConversion
{
    public const int Q8_0BlockElements = 32;
    public const int Q8_0BlockBytes = 34;

    static TensorConversion()
    {
        // Every format here is little-endian and we reinterpret spans directly.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("AwqRuntime needs a little-endian CPU");
    }

    /// <summary>True for the stored types <see cref="ToFloat32"/> can decode.</summary>
    public static bool CanDecode(TensorDType t) =>
        t is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16 or TensorDType.F64 or TensorDType.Q8_0 || Gguf.GgmlBlockDecoder.CanDecode(t);

    /// <summary>True for the types <see cref="FromFloat32"/> can encode.</summary>
    public static bool CanEncode(TensorDType t) =>
        t is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16 or TensorDType.Q8_0;

    /// <summary>Bytes taken by <paramref name="elements"/> elements (whole blocks for block types).</summary>
    public static long ByteSize(TensorDType t, long elements)
    {
        if (!TensorDTypeInfo.TryGetBlock(t, out var be, out var bb)) throw new ArgumentException($"unknown tensor type {t}", nameof(t));
        if (elements < 0 || elements % be != 0) throw new ArgumentException($"{elements} elements is not a whole number of {t} blocks of {be}");
        return checked(elements / be * bb);
    }

    /// <summary>Decodes <paramref name="dst"/>.Length elements of type <paramref name="t"/> from <paramref name="src"/>.</summary>
    public static void ToFloat32(TensorDType t, ReadOnlySpan<byte> src, Span<float> dst)
    {
        var need = ByteSize(t, dst.Length);
        if (src.Length != need) throw new ArgumentException($"{t}: {dst.Length} elements need {need} bytes, got {src.Length}");
        switch (t)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                break;
            // Bulk conversions run natively (F16C / AVX-512), bit-identical to Numerics.Fp16/Bf16.
            case TensorDType.F16 when dst.Length > 0:
                Kernels.Fp16ToFp32(MemoryMarshal.Cast<byte, ushort>(src), dst);
                break;
            case TensorDType.BF16 when dst.Length > 0:
                Kernels.Bf16ToFp32(MemoryMarshal.Cast<byte, ushort>(src), dst);
                break;
            case TensorDType.F16 or TensorDType.BF16:
                break;
            case TensorDType.F64:
                var d = MemoryMarshal.Cast<byte, double>(src);
                for (var i = 0; i < dst.Length; i++) dst[i] = (float)d[i];
                break;
            case TensorDType.Q8_0:
                DequantizeQ8_0(src, dst);
                break;
            case var _ when Gguf.GgmlBlockDecoder.CanDecode(t):
                Gguf.GgmlBlockDecoder.Decode(t, src, dst);
                break;
            default:
                throw new NotSupportedException($"decoding {t} to fp32 is not supported");
        }
    }

    /// <summary>Encodes <paramref name="src"/> as type <paramref name="t"/> into <paramref name="dst"/> (exactly ByteSize bytes).</summary>
    public static void FromFloat32(TensorDType t, ReadOnlySpan<float> src, Span<byte> dst)
    {
        var need = ByteSize(t, src.Length);
        if (dst.Length != need) throw new ArgumentException($"{t}: {src.Length} elements need {need} bytes, got {dst.Length}");
        switch (t)
        {
            case TensorDType.F32:
                MemoryMarshal.AsBytes(src).CopyTo(dst);
                break;
            case TensorDType.F16 when src.Length > 0:
                Kernels.Fp32ToFp16(src, MemoryMarshal.Cast<byte, ushort>(dst));
                break;
            case TensorDType.BF16 when src.Length > 0:
                Kernels.Fp32ToBf16(src, MemoryMarshal.Cast<byte, ushort>(dst));
                break;
            case TensorDType.F16 or TensorDType.BF16:
                break;
            case TensorDType.Q8_0:
                QuantizeQ8_0(src, dst);
                break;
            default:
                throw new NotSupportedException($"encoding fp32 as {t} is not supported");
        }
    }

    /// <summary>ggml's dequantize_row_q8_0: per 32-element block, value = fp16(d) · int8 q.</summary>
    public static void DequantizeQ8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = dst.Length / Q8_0BlockElements;
        for (var bi = 0; bi < blocks; bi++)
        {
            var blk = src.Slice(bi * Q8_0BlockBytes, Q8_0BlockBytes);
            var d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(blk));
            var q = MemoryMarshal.Cast<byte, sbyte>(blk[2..]);
            var o = dst.Slice(bi * Q8_0BlockElements, Q8_0BlockElements);
            for (var j = 0; j < Q8_0BlockElements; j++) o[j] = d * q[j];
        }
    }

    /// <summary>
    /// ggml's quantize_row_q8_0_ref: d = max|x| / 127 (stored fp16), q = round(x / d) with
    /// round-half-away-from-zero (C roundf), computed with the fp32 reciprocal like ggml.
    /// </summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = src.Length / Q8_0BlockElements;
        for (var bi = 0; bi < blocks; bi++)
        {
            var x = src.Slice(bi * Q8_0BlockElements, Q8_0BlockElements);
            var amax = 0f;
            foreach (var v in x) amax = MathF.Max(amax, MathF.Abs(v));
            var d = amax / 127f;
            var id = d != 0 ? 1f / d : 0f;
            var blk = dst.Slice(bi * Q8_0BlockBytes, Q8_0BlockBytes);
            BinaryPrimitives.WriteUInt16LittleEndian(blk, BitConverter.HalfToUInt16Bits((Half)d));
            var q = MemoryMarshal.Cast<byte, sbyte>(blk[2..]);
            for (var j = 0; j < Q8_0BlockElements; j++) q[j] = (sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    /// <summary>A weight beyond fp16's range would silently become infinity; fail naming it instead.</summary>
    public static void CheckFp16Range(string source, string tensor, ReadOnlySpan<float> data)
    {
        const float limit = 65520f; // from here on fp16 rounding gives infinity (65504 is the largest finite value)
        foreach (var v in data)
            if (!(MathF.Abs(v) < limit))
                throw new InvalidDataException($"{source}: tensor '{tensor}' holds {v}, outside the fp16 range; export it as F32");
    }
}
