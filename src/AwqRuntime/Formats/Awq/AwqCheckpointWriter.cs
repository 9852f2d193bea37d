using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.Awq;

/// <summary>
/// Saves a quantized model as an AutoAWQ "GEMM" checkpoint (reference §2.1) that vLLM and
/// transformers load: per quantized linear qweight/qzeros/scales, every other tensor fp16 under its
/// HF name, q_proj/k_proj output channels in HF's rotate_half order, config.json with
/// quantization_config {quant_method "awq", bits, group_size, zero_point, version "gemm",
/// modules_to_not_convert}. Shapes the layout cannot express use the ceil-groups extension, recorded
/// in quantization_config.layout_extension. Everything is written into a temporary sibling folder
/// and renamed onto the target only when complete.
/// </summary>
public static class AwqCheckpointWriter
{
    public const string SearchFileName = "awq_search.safetensors";

    public static void Write(QuantizationResult result, string folder, Action<string>? addFiles = null, bool overwrite = false)
    {
        var model = result.Model;
        var c = model.Config with { TieWordEmbeddings = model.TiedOutput };
        var cfg = result.Config;
        var target = Path.GetFullPath(folder.TrimEnd('/', '\\'));
        if (File.Exists(target)) throw new IOException($"{target}: a file is in the way of the output folder");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new IOException($"{target}: folder exists and is not empty (use --force to replace it)");

        // Build every tensor's bytes lazily in write order; shapes first, for the safetensors header.
        var plan = new List<(SafetensorsTensorSpec Spec, Func<byte[]> Data)>();
        var extension = false;
        void Fp16Tensor(string name, long[] shape, Func<float[]> values) =>
            plan.Add((new SafetensorsTensorSpec(name, TensorDType.F16, shape), () => ToFp16Bytes(values())));

        Fp16Tensor(LlamaTensorNames.Embedding, [c.VocabSize, c.HiddenSize], () => model.Embedding);
        for (var l = 0; l < c.NumLayers; l++)
        {
            var block = model.Blocks[l];
            Fp16Tensor(LlamaTensorNames.AttnNorm(l), [c.HiddenSize], () => block.AttnNorm);
            Fp16Tensor(LlamaTensorNames.FfnNorm(l), [c.HiddenSize], () => block.FfnNorm);
            foreach (var kind in LlamaTensorNames.LinearKinds)
            {
                var module = LlamaTensorNames.LinearModule(l, kind);
                var heads = HeadsOf(c, kind);
                switch (block[kind])
                {
                    case Int4Linear q:
                    {
                        extension |= !AwqGemmTensors.IsStandard(q.InFeatures, q.OutFeatures, q.GroupSize);
                        var lazy = new Lazy<AwqGemmTensors>(() =>
                        {
                            var w = q.ToWeights();
                            if (heads > 0) w = w.PermuteRows(CanonicalRowOfHfRow(heads, c.EffectiveHeadDim));
                            return AwqGemmTensors.FromWeights(w);
                        });
                        var shapeOnly = new AwqGemmTensors([], [], [], q.InFeatures, q.OutFeatures, q.GroupSize);
                        plan.Add((new SafetensorsTensorSpec(module + ".qweight", TensorDType.I32, shapeOnly.QWeightShape), () => IntBytes(lazy.Value.QWeight)));
                        plan.Add((new SafetensorsTensorSpec(module + ".qzeros", TensorDType.I32, shapeOnly.QZerosShape), () => IntBytes(lazy.Value.QZeros)));
                        plan.Add((new SafetensorsTensorSpec(module + ".scales", TensorDType.F16, shapeOnly.ScalesShape), () => UShortBytes(lazy.Value.Scales)));
                        break;
                    }
                    case FloatLinear f:
                        Fp16Tensor(module + ".weight", [f.OutFeatures, f.InFeatures], () => heads > 0
                            ? RopePermutation.InterleavedToHf(f.Weight, heads, c.EffectiveHeadDim, f.InFeatures)
                            : f.Weight);
                        break;
                    default:
                        throw new NotSupportedException($"{module}: linear type {block[kind].GetType().Name} cannot be saved in the AWQ layout");
                }
            }
        }
        Fp16Tensor(LlamaTensorNames.FinalNorm, [c.HiddenSize], () => model.FinalNorm);
        if (!model.TiedOutput)
        {
            var output = model.Output as FloatLinear ?? throw new NotSupportedException("a quantized lm_head cannot be saved in the AWQ layout");
            Fp16Tensor(LlamaTensorNames.Output, [c.VocabSize, c.HiddenSize], () => output.Weight);
        }

        var hf = new HfModelConfig
        {
            Llama = c,
            TorchDtype = "float16",
            EosTokenIds = [c.EosTokenId],
            Quantization = new AwqQuantizationConfig
            {
                Bits = cfg.WBit, GroupSize = cfg.GroupSize, ZeroPoint = cfg.ZeroPoint, Version = "gemm",
                ModulesToNotConvert = cfg.ModulesToNotConvert.ToArray(),
                LayoutExtension = extension ? AwqQuantizationConfig.CeilGroupsExtension : null,
            },
        };

        var temp = $"{target}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            hf.Write(Path.Combine(temp, HfModelConfig.FileName));
            hf.WriteGenerationConfig(Path.Combine(temp, HfModelConfig.GenerationFileName));
            using (var writer = new ShardedSafetensorsWriter(temp, plan.Select(p => p.Spec).ToList(),
                       metadata: new Dictionary<string, string> { ["format"] = "pt" }))
            {
                foreach (var (spec, data) in plan) writer.WriteBytes(spec.Name, data());
                writer.Commit();
            }
            WriteSearchResults(result, Path.Combine(temp, SearchFileName));
            addFiles?.Invoke(temp);
            HfCheckpointWriter.ReplaceFolder(temp, target);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>
    /// The calibration statistics and chosen AWQ scales, for later use (llm-awq's --dump_awq):
    /// "&lt;module&gt;.input_mean_abs" / ".input_mean_sq" (the latter is llama.cpp's imatrix statistic)
    /// and "model.layers.N.awq_scales.&lt;prev_op&gt;" per searched group.
    /// </summary>
    private static void WriteSearchResults(QuantizationResult result, string path)
    {
        var tensors = new List<(string Name, float[] Values)>();
        foreach (var (module, stats) in result.ActivationStats.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            tensors.Add(($"{module}.input_mean_abs", stats.MeanAbs()));
            tensors.Add(($"{module}.input_mean_sq", stats.MeanSquare()));
        }
        foreach (var b in result.Blocks)
            foreach (var s in b.Scales)
                tensors.Add(($"model.layers.{b.Layer}.awq_scales.{s.PrevOp}", s.Scales));
        if (tensors.Count == 0) return;
        var meta = new Dictionary<string, string>
        {
            ["format"] = "awqruntime-search",
            ["calibration"] = result.Calibration.Source,
            ["calibration_tokens"] = result.Calibration.TokenCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["method"] = result.Config.Method.ToString().ToLowerInvariant(),
        };
        using var w = new SafetensorsWriter(path, tensors.Select(t => new SafetensorsTensorSpec(t.Name, TensorDType.F32, [t.Values.Length])).ToList(), meta);
        foreach (var (name, values) in tensors) w.Write(name, values);
        w.Commit();
    }

    /// <summary>Head count when the linear's output rows are RoPE'd (q/k), else 0.</summary>
    internal static int HeadsOf(LlamaConfig c, string kind) => kind switch
    {
        "q_proj" => c.NumHeads,
        "k_proj" => c.NumKvHeads,
        _ => 0,
    };

    /// <summary>perm[hfRow] = canonical (interleaved) row stored at that HF row.</summary>
    internal static int[] CanonicalRowOfHfRow(int heads, int headDim)
    {
        var hfOfCanonical = RopePermutation.InterleavedChannelOrder(heads, headDim);
        var perm = new int[hfOfCanonical.Length];
        for (var c = 0; c < perm.Length; c++) perm[hfOfCanonical[c]] = c;
        return perm;
    }

    private static byte[] ToFp16Bytes(float[] values)
    {
        var bits = new ushort[values.Length];
        Fp16.FromSingles(values, bits);
        return UShortBytes(bits);
    }

    private static byte[] UShortBytes(ushort[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
    private static byte[] IntBytes(int[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
}
