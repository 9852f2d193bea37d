using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;
using AwqRuntime.Numerics;

namespace AwqRuntime.Formats.CompressedTensors;

/// <summary>
/// Loads a compressed-tensors pack-quantized checkpoint (<see cref="PackQuantizedConfig"/>, ours or
/// llm-compressor's W4A16 / W8A16 asymmetric; num_bits 2, 3, 4 or 8) into <see cref="Int4Linear"/>s (4 bits) or
/// <see cref="NBitLinear"/>s (2, 3, 8): every quantized linear validated
/// (dtypes, shapes against config.json and weight_shape), unpacked (<see cref="PackQuantizedTensors"/>), its q/k
/// output rows brought from HF's rotate_half order to the canonical interleaved one. Scales stored in
/// bf16 or fp32 (the model dtype, as llm-compressor saves them) are rounded once to the kernel's fp16,
/// refused when beyond its range. Nothing is dequantized.
/// </summary>
public static class PackQuantizedReader
{
    public static (LlamaModel Model, PackQuantizedConfig Quantization) Load(string folder, bool allowNonFinite = false)
    {
        using var src = HfWeightSource.Open(folder);
        src.AllowNonFinite = allowNonFinite;
        var q = src.HfConfig.PackQuantized ?? throw new InvalidDataException($"{folder}: config.json has no pack-quantized (compressed-tensors) quantization_config");
        return (AwqCheckpointReader.Assemble(src, (l, kind, n, k) => GroupQuantizedLinear.Create(Read(src, q, l, kind, n, k))), q);
    }

    private static Quantization.QuantizedWeights Read(HfWeightSource src, PackQuantizedConfig q, int layer, LinearKind kind, int n, int k)
    {
        var module = LlamaTensorNames.LinearModule(layer, kind);
        var where = $"{src.Path}: {module}";
        var (bits, groupSize) = q.SchemeFor(module);
        var shapes = PackQuantizedTensors.Shapes(n, k, groupSize, bits);
        src.RequireStored($"{module}.weight_packed", shapes.WeightPackedShape, TensorDType.I32);
        src.RequireStored($"{module}.weight_scale", shapes.WeightScaleShape, TensorDType.F16, TensorDType.BF16, TensorDType.F32);
        src.RequireStored($"{module}.weight_zero_point", shapes.WeightZeroPointShape, TensorDType.I32);
        src.RequireStored($"{module}.weight_shape", [2], TensorDType.I64, TensorDType.I32);
        long[] stored = src.StoredInfo($"{module}.weight_shape").DType == TensorDType.I64
            ? src.ReadStored<long>($"{module}.weight_shape")
            : src.ReadStored<int>($"{module}.weight_shape").Select(v => (long)v).ToArray();
        if (stored[0] != n || stored[1] != k)
            throw new InvalidDataException($"{where}.weight_shape is [{stored[0]}, {stored[1]}], but config.json implies [{n}, {k}]");
        var tensors = shapes with
        {
            WeightPacked = src.ReadStored<int>($"{module}.weight_packed"),
            WeightScale = Scales(src, $"{module}.weight_scale", where),
            WeightZeroPoint = src.ReadStored<int>($"{module}.weight_zero_point"),
        };
        var w = tensors.ToWeights(where);
        var heads = kind.RotaryHeads(src.Config);
        return heads > 0 ? w.PermuteRows(RopePermutation.InterleavedChannelOrder(heads, src.Config.EffectiveHeadDim)) : w;
    }

    /// <summary>weight_scale as fp16 bits; every scale finite and within fp16's range.</summary>
    private static ushort[] Scales(HfWeightSource src, string name, string where)
    {
        var info = src.StoredInfo(name);
        var bits = info.DType == TensorDType.F16
            ? src.ReadStored<ushort>(name)
            : Fp16Encoder.Encode(info.DType == TensorDType.F32 ? src.ReadStored<float>(name) : src.ReadStored<ushort>(name).Select(Bf16.ToSingle).ToArray(), $"{where}.weight_scale");
        foreach (var s in bits)
            if (!float.IsFinite(Fp16.ToSingle(s))) throw new InvalidDataException($"{where}.weight_scale holds a non-finite value");
        return bits;
    }
}
