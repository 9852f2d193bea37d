using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;

namespace AwqRuntime.Formats.Int8;

/// <summary>
/// Loads a W8A8 INT8 checkpoint (<see cref="Int8QuantizationConfig"/>: per quantized linear an I8
/// weight [out, in] and an F32 weight_scale [out, 1], for static activations also input_scale and
/// input_zero_point) into <see cref="Int8Linear"/>s, validated
/// (dtypes, shapes against config.json, the symmetric range) and taken as stored: q/k output rows
/// are brought from HF's rotate_half order to the canonical interleaved one, nothing is dequantized.
/// </summary>
public static class Int8CheckpointReader
{
    public static (LlamaModel Model, Int8QuantizationConfig Quantization) Load(string folder, bool allowNonFinite = false)
    {
        using var src = HfWeightSource.Open(folder);
        src.AllowNonFinite = allowNonFinite;
        var q = src.HfConfig.Int8Quantization ?? throw new InvalidDataException($"{folder}: config.json has no INT8 (compressed-tensors) quantization_config");
        return (AwqCheckpointReader.Assemble(src, (l, kind, n, k) => Read(src, l, kind, n, k, q.StaticActivations)), q);
    }

    private static Int8Linear Read(HfWeightSource src, int layer, LinearKind kind, int n, int k, bool staticInput)
    {
        var module = LlamaTensorNames.LinearModule(layer, kind);
        src.RequireStored($"{module}.weight", [n, k], TensorDType.I8);
        src.RequireStored($"{module}.weight_scale", [n, 1], TensorDType.F32);
        var wq = src.ReadStored<sbyte>($"{module}.weight");
        var scales = src.ReadStored<float>($"{module}.weight_scale");
        var heads = kind.RotaryHeads(src.Config);
        if (heads > 0)
        {
            // Row i of the canonical layout is HF row order[i].
            var order = RopePermutation.InterleavedChannelOrder(heads, src.Config.EffectiveHeadDim);
            (wq, scales) = Int8Rows.Permute(wq, scales, k, order);
        }
        var linear = Int8Linear.FromStored(wq, scales, n, k, $"{src.Path}: {module}");
        if (!staticInput) return linear;
        src.RequireStored($"{module}.input_scale", [1], TensorDType.F32);
        src.RequireStored($"{module}.input_zero_point", [1], TensorDType.I8);
        var s = src.ReadStored<float>($"{module}.input_scale")[0];
        var z = src.ReadStored<sbyte>($"{module}.input_zero_point")[0] + 128; // compressed-tensors' signed zero → the kernel's UINT8 zero
        return linear.WithStaticInput(new ActivationQuantParams(s, z).Validate($"{src.Path}: {module}.input_scale/input_zero_point"));
    }
}
