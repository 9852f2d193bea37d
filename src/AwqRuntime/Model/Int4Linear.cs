using AwqRuntime.Native;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization;

namespace AwqRuntime.Model;

/// <summary>
/// A group-wise INT4 linear on the native W4A16 kernel. Weights are held in the kernel's layout
/// (awq_kernels.h: per output row, K nibbles packed two per byte along K, low nibble = even k;
/// fp16 scales and 4-bit zero points per group), repacked once at load from whatever layout the
/// checkpoint uses. Nothing is dequantized to fp32.
/// </summary>
public sealed class Int4Linear : ILinear
{
    private readonly byte[] _packed;   // [Out, ceil(In/2)]
    private readonly ushort[] _scales; // fp16 bits [Out, Groups]
    private readonly byte[] _zeros;    // [Out, Groups]

    public Int4Linear(Int4Weights w)
    {
        if (w.Bits != 4) throw new NotSupportedException($"the W4A16 kernel runs 4-bit weights; this linear has {w.Bits}-bit weights");
        OutFeatures = w.OutFeatures;
        InFeatures = w.InFeatures;
        GroupSize = w.GroupSize;
        Groups = w.Groups;
        var rowBytes = (InFeatures + 1) / 2;
        _packed = new byte[(long)OutFeatures * rowBytes];
        for (var n = 0; n < OutFeatures; n++)
        {
            var src = w.Q.AsSpan(n * InFeatures, InFeatures);
            var dst = _packed.AsSpan(n * rowBytes, rowBytes);
            for (var k = 0; k < InFeatures; k += 2)
                dst[k / 2] = (byte)(src[k] | (k + 1 < InFeatures ? src[k + 1] << 4 : 0));
        }
        _scales = new ushort[w.Scales.Length];
        for (var i = 0; i < _scales.Length; i++) _scales[i] = Fp16.FromSingle(w.Scales[i]);
        _zeros = (byte[])w.Zeros.Clone();
        Bits = w.Bits;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public int GroupSize { get; }
    public int Groups { get; }

    public int Bits { get; }

    /// <summary>The weights unpacked again (for saving and inspection); exact, since packing is lossless.</summary>
    public Int4Weights ToWeights()
    {
        var rowBytes = (InFeatures + 1) / 2;
        var q = new byte[(long)OutFeatures * InFeatures];
        for (var n = 0; n < OutFeatures; n++)
            for (var k = 0; k < InFeatures; k++)
            {
                var b = _packed[(long)n * rowBytes + k / 2];
                q[(long)n * InFeatures + k] = (byte)((k & 1) == 0 ? b & 0xF : b >> 4);
            }
        var scales = new float[_scales.Length];
        for (var i = 0; i < scales.Length; i++) scales[i] = Fp16.ToSingle(_scales[i]);
        return new Int4Weights(OutFeatures, InFeatures, GroupSize, Bits, q, scales, (byte[])_zeros.Clone());
    }

    public long WeightBytes => _packed.Length + _scales.Length * 2L + _zeros.Length;

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y) =>
        Kernels.W4A16Gemm(x, rows, InFeatures, _packed, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(_scales), _zeros, OutFeatures, GroupSize, y);
}
