using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.CompressedTensors;

/// <summary>
/// One INT4 linear in compressed-tensors' pack-quantized layout (compressors/quantized_compressors/pack_quantized.py
/// pack_to_int32 / unpack_from_int32; quantization/lifecycle/forward.py dequantize):
/// <list type="bullet">
/// <item>weight_packed I32 [out, ceil(in/8)]: eight 4-bit codes per int32 along the input, column 8w+j in bits 4j..4j+3
/// (consecutive columns, not AutoAWQ's interleaved order); code = signed value + 8.</item>
/// <item>weight_scale F16 [out, groups]: one scale per group of group_size inputs.</item>
/// <item>weight_zero_point I32 [ceil(out/8), groups]: the signed zero points packed the same way along the output
/// dimension (row 8w+j in bits 4j of entry [w, g]), code = zero + 8.</item>
/// <item>weight_shape I64 [2] = [out, in].</item>
/// </list>
/// vLLM's loader (model_executor/layers/quantization/compressed_tensors/schemes/compressed_tensors_wNa16.py) declares
/// the same four parameters with these shapes, the zero points "packed along the output dim"; it needs out % 8 == 0
/// where pack_to_int32 pads (ceil), so a model with such a width loads here and in compressed-tensors, not in vLLM.
/// compressed-tensors dequantizes x = (q − zp)·scale with q, zp in −8..7; AutoAWQ's unsigned q, z in 0..15 are
/// q − 8 and z − 8 there, so the stored codes are exactly AutoAWQ's q and z and nothing is re-rounded.
/// </summary>
public sealed record PackQuantizedTensors(int[] WeightPacked, ushort[] WeightScale, int[] WeightZeroPoint, int OutFeatures, int InFeatures, int GroupSize)
{
    public int Groups => Numerics.QuantGroups.Count(InFeatures, GroupSize);
    public long[] WeightPackedShape => [OutFeatures, (InFeatures + 7) / 8];
    public long[] WeightScaleShape => [OutFeatures, Groups];
    public long[] WeightZeroPointShape => [(OutFeatures + 7) / 8, Groups];
    public long[] WeightShape => [OutFeatures, InFeatures];

    /// <summary>Shapes only (for headers and checks).</summary>
    public static PackQuantizedTensors Shapes(int outFeatures, int inFeatures, int groupSize) => new([], [], [], outFeatures, inFeatures, groupSize);

    public static PackQuantizedTensors From(QuantizedWeights w)
    {
        if (w.Bits != 4) throw new ArgumentException($"pack-quantized INT4 needs 4-bit weights, not {w.Bits}");
        var s = Shapes(w.OutFeatures, w.InFeatures, w.GroupSize);
        var words = (w.InFeatures + 7) / 8;
        var packed = new int[(long)w.OutFeatures * words];
        for (var n = 0; n < w.OutFeatures; n++)
            for (var k = 0; k < w.InFeatures; k++)
                packed[(long)n * words + k / 8] |= (w.Q[(long)n * w.InFeatures + k] & 0xF) << (4 * (k % 8));
        var groups = s.Groups;
        var zp = new int[(long)((w.OutFeatures + 7) / 8) * groups];
        for (var n = 0; n < w.OutFeatures; n++)
            for (var g = 0; g < groups; g++)
                zp[(long)(n / 8) * groups + g] |= (w.Zeros[(long)n * groups + g] & 0xF) << (4 * (n % 8));
        return s with { WeightPacked = packed, WeightScale = (ushort[])w.Scales.Clone(), WeightZeroPoint = zp };
    }

    /// <summary>Back to plain q, scales, zeros (codes outside the shape must be 0: they are padding).</summary>
    public QuantizedWeights ToWeights(string where)
    {
        var words = (InFeatures + 7) / 8;
        var q = new byte[(long)OutFeatures * InFeatures];
        for (var n = 0; n < OutFeatures; n++)
            for (var wi = 0; wi < words; wi++)
            {
                var v = (uint)WeightPacked[(long)n * words + wi];
                for (var j = 0; j < 8; j++)
                {
                    var k = wi * 8 + j;
                    var code = (byte)((v >> (4 * j)) & 0xF);
                    if (k < InFeatures) q[(long)n * InFeatures + k] = code;
                    else if (code != 0 && code != 8) throw new InvalidDataException($"{where}.weight_packed: row {n} has a non-zero padding code past column {InFeatures}");
                }
            }
        var groups = Groups;
        var z = new byte[(long)OutFeatures * groups];
        for (var n = 0; n < OutFeatures; n++)
            for (var g = 0; g < groups; g++)
                z[(long)n * groups + g] = (byte)(((uint)WeightZeroPoint[(long)(n / 8) * groups + g] >> (4 * (n % 8))) & 0xF);
        return new QuantizedWeights(OutFeatures, InFeatures, GroupSize, 4, q, (ushort[])WeightScale.Clone(), z);
    }
}
