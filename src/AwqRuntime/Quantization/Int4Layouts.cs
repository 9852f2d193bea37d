using AwqRuntime.Formats.Awq;
using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization;

/// <summary>The W4A16 kernel's layout of one linear (awq_kernels.h, awq_w4a16_gemm).</summary>
/// <param name="Packed">uint8 [N, ceil(K/2)]: column k in the low nibble of byte k/2 when k is even, the high nibble when odd.</param>
/// <param name="Scales">fp16 bits [N, groups].</param>
/// <param name="Zeros">uint8 [N, groups], 0..15.</param>
public sealed record KernelInt4(byte[] Packed, ushort[] Scales, byte[] Zeros);

/// <summary>
/// Every packed layout of a 4-bit group-quantized linear, converted from and to the one unpacked
/// type, <see cref="QuantizedWeights"/>, side by side: the W4A16 kernel's (row-major nibble pairs along
/// K, <see cref="KernelInt4"/>) and AutoAWQ's GEMM checkpoint layout (q transposed to [K, N], 8
/// nibbles per int32 along N in AWQ order, AutoAWQ awq/modules/linear/gemm.py; <see cref="AwqGemmTensors"/>).
/// All conversions are exact (lossless packing; scales stay fp16 bits).
/// </summary>
public static class Int4Layouts
{
    public static KernelInt4 ToKernel(QuantizedWeights w)
    {
        if (w.Bits != 4) throw new NotSupportedException($"the W4A16 kernel runs 4-bit weights; this linear has {w.Bits}-bit weights");
        int n = w.OutFeatures, k = w.InFeatures, rowBytes = (k + 1) / 2;
        var packed = new byte[(long)n * rowBytes];
        for (var r = 0; r < n; r++)
        {
            var src = w.Q.AsSpan(r * k, k);
            var dst = packed.AsSpan(r * rowBytes, rowBytes);
            for (var c = 0; c < k; c += 2)
                dst[c / 2] = (byte)(src[c] | (c + 1 < k ? src[c + 1] << 4 : 0));
        }
        return new KernelInt4(packed, w.Scales, w.Zeros);
    }

    public static QuantizedWeights FromKernel(KernelInt4 kernel, int outFeatures, int inFeatures, int groupSize)
    {
        int rowBytes = (inFeatures + 1) / 2;
        var q = new byte[(long)outFeatures * inFeatures];
        for (var r = 0; r < outFeatures; r++)
            for (var c = 0; c < inFeatures; c++)
            {
                var b = kernel.Packed[(long)r * rowBytes + c / 2];
                q[(long)r * inFeatures + c] = (byte)((c & 1) == 0 ? b & 0xF : b >> 4);
            }
        return new QuantizedWeights(outFeatures, inFeatures, groupSize, 4, q, (ushort[])kernel.Scales.Clone(), (byte[])kernel.Zeros.Clone());
    }

    public static AwqGemmTensors ToAutoAwqGemm(QuantizedWeights w)
    {
        if (w.Bits != 4) throw new NotSupportedException($"AutoAWQ's GEMM layout holds 4-bit weights; this linear has {w.Bits}-bit weights");
        int n = w.OutFeatures, k = w.InFeatures, g = w.Groups, words = Int4Packing.PackedCols(n);
        // Transpose q to [K, N] and pack along N, a slab of input rows at a time so the int32
        // staging buffer stays small (a whole transposed copy would be 4 bytes per weight).
        var qweight = new int[(long)k * words];
        const int slab = 256;
        var staging = new int[(long)Math.Min(slab, k) * n];
        for (var k0 = 0; k0 < k; k0 += slab)
        {
            var rows = Math.Min(slab, k - k0);
            for (var row = 0; row < n; row++)
                for (var col = 0; col < rows; col++)
                    staging[(long)col * n + row] = w.Q[(long)row * k + k0 + col];
            Int4Packing.Pack(staging.AsSpan(0, rows * n), rows, n, PackOrder.Awq, qweight.AsSpan(k0 * words, rows * words));
        }
        var zerosT = new int[(long)g * n];
        var scalesT = new ushort[(long)g * n];
        for (var row = 0; row < n; row++)
            for (var gi = 0; gi < g; gi++)
            {
                zerosT[(long)gi * n + row] = w.Zeros[(long)row * g + gi];
                scalesT[(long)gi * n + row] = w.Scales[(long)row * g + gi];
            }
        return new AwqGemmTensors(qweight, Int4Packing.Pack(zerosT, g, n, PackOrder.Awq), scalesT, k, n, w.GroupSize);
    }

    public static QuantizedWeights FromAutoAwqGemm(AwqGemmTensors t)
    {
        int n = t.OutFeatures, k = t.InFeatures, g = t.Groups;
        var transposed = Int4Packing.Unpack(t.QWeight, k, n, PackOrder.Awq);
        var zerosT = Int4Packing.Unpack(t.QZeros, g, n, PackOrder.Awq);
        var q = new byte[(long)n * k];
        for (var col = 0; col < k; col++)
            for (var row = 0; row < n; row++)
                q[(long)row * k + col] = (byte)transposed[(long)col * n + row];
        var zeros = new byte[(long)n * g];
        var scales = new ushort[(long)n * g];
        for (var gi = 0; gi < g; gi++)
            for (var row = 0; row < n; row++)
            {
                zeros[(long)row * g + gi] = (byte)zerosT[(long)gi * n + row];
                scales[(long)row * g + gi] = t.Scales[(long)gi * n + row];
            }
        return new QuantizedWeights(n, k, t.GroupSize, 4, q, scales, zeros);
    }
}
