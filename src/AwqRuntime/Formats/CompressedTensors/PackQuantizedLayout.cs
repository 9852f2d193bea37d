using AwqRuntime.Numerics;
using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.CompressedTensors;

/// <summary>
/// One group-wise linear of b = 2..8 bits in compressed-tensors' pack-quantized layout
/// (compressors/quantized_compressors/pack_quantized.py pack_to_int32 / unpack_from_int32;
/// quantization/lifecycle/forward.py dequantize), pf = 32 / b codes per int32 (<see cref="PackedCodes"/>):
/// <list type="bullet">
/// <item>weight_packed I32 [out, ceil(in/pf)]: pf b-bit codes per int32 along the input, column pf·w+j in bits b·j..b·j+b−1
/// (consecutive columns, not AutoAWQ's interleaved order); code = signed value + 2^(b−1). 4 bits: 8 per word; 3 bits: 10
/// per word in bits 0..29; 2 bits: 16; 8 bits: 4.</item>
/// <item>weight_scale F16 [out, groups]: one scale per group of group_size inputs.</item>
/// <item>weight_zero_point I32 [ceil(out/pf), groups]: the signed zero points packed the same way along the output
/// dimension (row pf·w+j in bits b·j of entry [w, g]), code = zero + 2^(b−1).</item>
/// <item>weight_shape I64 [2] = [out, in].</item>
/// </list>
/// vLLM's loader (model_executor/layers/quantization/compressed_tensors/schemes/compressed_tensors_wNa16.py) declares
/// the same four parameters with these shapes, the zero points "packed along the output dim", for 4 and 8 bits; it needs
/// out % pf == 0 where pack_to_int32 pads (ceil), so a model with such a width loads here and in compressed-tensors, not in
/// vLLM. compressed-tensors dequantizes x = (q − zp)·scale with q, zp in −2^(b−1)..2^(b−1)−1; AutoAWQ's unsigned q, z in
/// 0..2^b−1 are q − 2^(b−1) and z − 2^(b−1) there, so the stored codes are exactly AutoAWQ's q and z and nothing is re-rounded.
/// </summary>
public sealed record PackQuantizedTensors(int[] WeightPacked, ushort[] WeightScale, int[] WeightZeroPoint, int OutFeatures, int InFeatures, int GroupSize, int Bits = 4)
{
    public int Groups => QuantGroups.Count(InFeatures, GroupSize);
    public long[] WeightPackedShape => [OutFeatures, PackedCodes.WordsPerRow(InFeatures, Bits)];
    public long[] WeightScaleShape => [OutFeatures, Groups];
    public long[] WeightZeroPointShape => [PackedCodes.WordsPerRow(OutFeatures, Bits), Groups];
    public long[] WeightShape => [OutFeatures, InFeatures];

    /// <summary>Shapes only (for headers and checks).</summary>
    public static PackQuantizedTensors Shapes(int outFeatures, int inFeatures, int groupSize, int bits = 4) =>
        new([], [], [], outFeatures, inFeatures, groupSize, bits);

    public static PackQuantizedTensors From(QuantizedWeights w)
    {
        var s = Shapes(w.OutFeatures, w.InFeatures, w.GroupSize, w.Bits);
        return s with
        {
            WeightPacked = PackedCodes.PackRows(w.Q, w.OutFeatures, w.InFeatures, w.Bits),
            WeightScale = (ushort[])w.Scales.Clone(),
            WeightZeroPoint = PackedCodes.PackColumns(w.Zeros, w.OutFeatures, s.Groups, w.Bits),
        };
    }

    /// <summary>Back to plain q, scales, zeros (codes outside the shape must be 0, or the signed zero: they are padding).</summary>
    public QuantizedWeights ToWeights(string where)
    {
        var q = PackedCodes.UnpackRows(WeightPacked, OutFeatures, InFeatures, Bits, $"{where}.weight_packed");
        var z = PackedCodes.UnpackColumns(WeightZeroPoint, OutFeatures, Groups, Bits);
        return new QuantizedWeights(OutFeatures, InFeatures, GroupSize, Bits, q, (ushort[])WeightScale.Clone(), z);
    }
}
