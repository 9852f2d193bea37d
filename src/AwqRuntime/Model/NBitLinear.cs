using System.Runtime.InteropServices;
using AwqRuntime.Native;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization;

namespace AwqRuntime.Model;

/// <summary>
/// A group-wise linear of 2, 3 or 8 bits on the native awq_wna16_gemm: codes held in the kernel's
/// lane-interleaved layout (<see cref="WnA16Layout"/>, floor(32 / bits) per int32), packed once at load
/// from whatever layout the checkpoint uses; fp16 scales and byte zero points per group. The kernel
/// dequantizes vector by vector as it multiplies; nothing is dequantized at load. 4-bit weights run on
/// <see cref="Int4Linear"/>.
/// </summary>
public sealed class NBitLinear : IGroupQuantizedLinear
{
    private readonly int[] _packed;   // [Out, WnA16Layout.WordsPerRow(In, Bits)]
    private readonly ushort[] _scales; // [Out, Groups] fp16 bits
    private readonly byte[] _zeros;    // [Out, Groups]

    public NBitLinear(QuantizedWeights w)
    {
        if (w.Bits is not (2 or 3 or 8))
            throw new ArgumentException($"NBitLinear runs 2-, 3- and 8-bit weights, not {w.Bits}-bit (4-bit weights run on Int4Linear)", nameof(w));
        OutFeatures = w.OutFeatures;
        InFeatures = w.InFeatures;
        GroupSize = w.GroupSize;
        Groups = w.Groups;
        Bits = w.Bits;
        _packed = WnA16Layout.Pack(w.Q, w.OutFeatures, w.InFeatures, w.Bits);
        _scales = (ushort[])w.Scales.Clone();
        _zeros = (byte[])w.Zeros.Clone();
        var max = (1 << Bits) - 1;
        for (var i = 0; i < _zeros.Length; i++)
            if (_zeros[i] > max) throw new ArgumentException($"zero point {_zeros[i]} at row {i / Groups}, group {i % Groups} does not fit in {Bits} bits", nameof(w));
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public int GroupSize { get; }
    public int Groups { get; }
    public int Bits { get; }

    public long WeightBytes => _packed.Length * 4L + _scales.Length * 2L + _zeros.Length;

    /// <summary>Bits as a pack-quantized checkpoint stores the linear: int32 words of codes, fp16 scales, int32 words of zero points.</summary>
    public long StoredBits => (PackedCodes.WordsPerRow(InFeatures, Bits) * OutFeatures + PackedCodes.WordsPerRow(OutFeatures, Bits) * Groups) * 32L + _scales.Length * 16L;

    public QuantizedWeights ToWeights()
    {
        var q = WnA16Layout.Unpack(_packed, OutFeatures, InFeatures, Bits);
        return new QuantizedWeights(OutFeatures, InFeatures, GroupSize, Bits, q, (ushort[])_scales.Clone(), (byte[])_zeros.Clone());
    }

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y) =>
        Kernels.WnA16Gemm(x, rows, InFeatures, _packed, Bits, MemoryMarshal.Cast<ushort, Half>(_scales), _zeros, OutFeatures, GroupSize, y);
}
