using AwqRuntime.Formats.CompressedTensors;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Observers;

namespace AwqRuntime.Formats.Awq;

/// <summary>
/// Saves a quantized model as an AutoAWQ "GEMM" checkpoint (AutoAWQ awq/modules/linear/gemm.py WQLinear_GEMM) that vLLM and
/// transformers load: per quantized linear qweight/qzeros/scales (and the family's bias, as AutoAWQ's
/// WQLinear_GEMM keeps it), every other tensor fp16 under its HF name, q_proj/k_proj output channels in HF's rotate_half order, config.json with
/// quantization_config {quant_method "awq", bits, group_size, zero_point, version "gemm",
/// modules_to_not_convert}. Shapes the layout cannot express use the ceil-groups extension, recorded
/// in quantization_config.layout_extension. A W8A8 model (<see cref="Int8Linear"/>s) is saved the same way
/// with INT8 tensors and a compressed-tensors quantization_config instead (<see cref="Int8QuantizationConfig"/>); with
/// <see cref="Int4CheckpointFormat.CompressedTensors"/> the INT4 linears, and always 2-, 3- and 8-bit ones
/// (<see cref="NBitLinear"/>, which AutoAWQ's layout cannot hold), go into compressed-tensors' pack-quantized
/// layout (<see cref="PackQuantizedTensors"/>, <see cref="PackQuantizedConfig"/>) instead of AutoAWQ's. Everything is written into a temporary sibling folder
/// and renamed onto the target only when complete.
/// </summary>
public static class AwqCheckpointWriter
{
    public const string SearchFileName = "awq_search.safetensors";

    /// <param name="staging">A folder on the same file system to assemble the checkpoint in (default: a temporary sibling of the target).</param>
    public static void Write(QuantizationResult result, string folder, Action<string>? addFiles = null, bool overwrite = false,
        Int4CheckpointFormat format = Int4CheckpointFormat.AutoAwq, string? staging = null)
    {
        var model = result.Model;
        var c = model.Config with { TieWordEmbeddings = model.TiedOutput };
        var cfg = result.Config;
        var target = Path.GetFullPath(folder.TrimEnd('/', '\\'));
        if (File.Exists(target)) throw new IOException($"{target}: a file is in the way of the output folder");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new IOException($"{target}: folder exists and is not empty (use --force to replace it)");

        // Build every tensor's bytes lazily in write order; shapes first, for the safetensors header.
        // Each entry writes its tensor when its turn comes (spans straight from the model's arrays,
        // packed AWQ tensors built one linear at a time), so saving adds little to peak memory.
        var plan = new List<(SafetensorsTensorSpec Spec, Action<ShardedSafetensorsWriter> Write)>();
        var extension = false;
        var int8 = false;
        var packQuantized = false;
        // Mixed widths (a kind at its own width) have no AutoAWQ layout either: then every quantized linear is
        // pack-quantized, one config group per width; a kind keeps one width in every block.
        var kindBits = new Dictionary<LinearKind, int>();
        foreach (var b in model.Blocks)
            foreach (var kind in LinearKinds.All)
                if (b[kind] is IGroupQuantizedLinear gq)
                {
                    if (kindBits.TryGetValue(kind, out var kb) && kb != gq.Bits)
                        throw new NotSupportedException($"{kind.Name()}: a checkpoint holds one width per linear kind, not {kb} and {gq.Bits} bits");
                    kindBits[kind] = gq.Bits;
                }
        var mainBits = kindBits.Count == 0 ? cfg.WBit : kindBits.Values.Contains(cfg.WBit) ? cfg.WBit : kindBits.Values.Min();
        var packAll = format == Int4CheckpointFormat.CompressedTensors || kindBits.Values.Any(b => b != 4);
        int staticInputs = 0, dynamicInputs = 0;
        void Fp16Tensor(string name, long[] shape, Func<float[]> values) =>
            plan.Add((new SafetensorsTensorSpec(name, TensorDType.F16, shape), w => w.Write<ushort>(name, Fp16Encoder.Encode(values(), name))));
        void Fp16Bits(string name, long[] shape, ushort[] bits) =>
            plan.Add((new SafetensorsTensorSpec(name, TensorDType.F16, shape), w => w.Write<ushort>(name, bits)));

        if (model.Embedding.Float16 is { } table) Fp16Bits(LlamaTensorNames.Embedding, [c.VocabSize, c.HiddenSize], table);
        else Fp16Tensor(LlamaTensorNames.Embedding, [c.VocabSize, c.HiddenSize], () => model.Embedding.Float32!);
        for (var l = 0; l < c.NumLayers; l++)
        {
            var block = model.Blocks[l];
            Fp16Tensor(LlamaTensorNames.AttnNorm(l), [c.HiddenSize], () => block.AttnNorm);
            Fp16Tensor(LlamaTensorNames.FfnNorm(l), [c.HiddenSize], () => block.FfnNorm);
            foreach (var kind in LinearKinds.All)
            {
                var module = LlamaTensorNames.LinearModule(l, kind);
                var heads = kind.RotaryHeads(c);
                switch (block[kind])
                {
                    case IGroupQuantizedLinear q when packAll:
                    {
                        // 2, 3 and 8 bits have no AutoAWQ layout: always pack-quantized, with the ceil-groups
                        // extension where a group is cut short (4-bit weights have AutoAWQ's for that)
                        if (q.InFeatures % q.GroupSize != 0 && q.Bits == 4 && !kindBits.Values.Any(b => b != 4))
                            throw new NotSupportedException(
                                $"{module}: {q.InFeatures} inputs are not whole groups of {q.GroupSize}, which compressed-tensors' group strategy needs; pick a group size that divides it or keep {kind.Name()} in fp16 (--modules-to-not-convert {kind.Name()})");
                        extension |= q.InFeatures % q.GroupSize != 0;
                        packQuantized = true;
                        var lazy = new OneShot<PackQuantizedTensors>(() =>
                        {
                            var w = q.ToWeights();
                            if (heads > 0) w = w.PermuteRows(CanonicalRowOfHfRow(heads, c.EffectiveHeadDim));
                            return PackQuantizedTensors.From(w);
                        });
                        var shapes = PackQuantizedTensors.Shapes(q.OutFeatures, q.InFeatures, q.GroupSize, q.Bits);
                        plan.Add((new SafetensorsTensorSpec(module + ".weight_packed", TensorDType.I32, shapes.WeightPackedShape), w => w.Write<int>(module + ".weight_packed", lazy.Value.WeightPacked)));
                        plan.Add((new SafetensorsTensorSpec(module + ".weight_scale", TensorDType.F16, shapes.WeightScaleShape), w => w.Write<ushort>(module + ".weight_scale", lazy.Value.WeightScale)));
                        plan.Add((new SafetensorsTensorSpec(module + ".weight_zero_point", TensorDType.I32, shapes.WeightZeroPointShape), w => w.Write<int>(module + ".weight_zero_point", lazy.Take().WeightZeroPoint)));
                        plan.Add((new SafetensorsTensorSpec(module + ".weight_shape", TensorDType.I64, [2]), w => w.Write<long>(module + ".weight_shape", shapes.WeightShape)));
                        break;
                    }
                    case Int4Linear q:
                    {
                        extension |= !AwqGemmTensors.IsStandard(q.InFeatures, q.OutFeatures, q.GroupSize);
                        // qweight, qzeros and scales are written one after the other: pack the linear on
                        // the first and drop it after the last, so one linear's tensors are alive at a time.
                        var lazy = new OneShot<AwqGemmTensors>(() =>
                        {
                            var w = q.ToWeights();
                            if (heads > 0) w = w.PermuteRows(CanonicalRowOfHfRow(heads, c.EffectiveHeadDim));
                            return Int4Layouts.ToAutoAwqGemm(w);
                        });
                        var shapeOnly = new AwqGemmTensors([], [], [], q.InFeatures, q.OutFeatures, q.GroupSize);
                        plan.Add((new SafetensorsTensorSpec(module + ".qweight", TensorDType.I32, shapeOnly.QWeightShape), w => w.Write<int>(module + ".qweight", lazy.Value.QWeight)));
                        plan.Add((new SafetensorsTensorSpec(module + ".qzeros", TensorDType.I32, shapeOnly.QZerosShape), w => w.Write<int>(module + ".qzeros", lazy.Value.QZeros)));
                        plan.Add((new SafetensorsTensorSpec(module + ".scales", TensorDType.F16, shapeOnly.ScalesShape), w => w.Write<ushort>(module + ".scales", lazy.Take().Scales)));
                        break;
                    }
                    case Int8Linear i8:
                    {
                        // W8A8 (Int8QuantizationConfig): I8 weight [out, in] and F32 weight_scale [out, 1], rows in HF order.
                        int8 = true;
                        var lazy = new OneShot<Tuple<sbyte[], float[]>>(() => (heads > 0
                            ? Int8.Int8Rows.Permute(i8.QWeight, i8.WeightScales, i8.InFeatures, CanonicalRowOfHfRow(heads, c.EffectiveHeadDim))
                            : (i8.QWeight.ToArray(), i8.WeightScales.ToArray())).ToTuple());
                        plan.Add((new SafetensorsTensorSpec(module + ".weight", TensorDType.I8, [i8.OutFeatures, i8.InFeatures]), w => w.Write<sbyte>(module + ".weight", lazy.Value.Item1)));
                        plan.Add((new SafetensorsTensorSpec(module + ".weight_scale", TensorDType.F32, [i8.OutFeatures, 1]), w => w.Write<float>(module + ".weight_scale", lazy.Take().Item2)));
                        staticInputs += i8.StaticInput != null ? 1 : 0;
                        dynamicInputs += i8.StaticInput == null ? 1 : 0;
                        if (i8.StaticInput is { } p)
                        {
                            plan.Add((new SafetensorsTensorSpec(module + ".input_scale", TensorDType.F32, [1]), w => w.Write<float>(module + ".input_scale", [p.Scale])));
                            plan.Add((new SafetensorsTensorSpec(module + ".input_zero_point", TensorDType.I8, [1]),
                                w => w.Write<sbyte>(module + ".input_zero_point", [(sbyte)(p.Zero - 128)])));
                        }
                        break;
                    }
                    case FloatLinear or HalfLinear:
                    {
                        var lin = block[kind];
                        Fp16Tensor(module + ".weight", [lin.OutFeatures, lin.InFeatures], () =>
                        {
                            var w = lin is HalfLinear h ? h.ToFloat32() : ((FloatLinear)lin).Weight;
                            return heads > 0 ? RopePermutation.InterleavedToHf(w, heads, c.EffectiveHeadDim, lin.InFeatures) : w;
                        });
                        break;
                    }
                    default:
                        throw new NotSupportedException($"{module}: linear type {block[kind].GetType().Name} cannot be saved in the AWQ layout");
                }
                if (block.Bias(kind) is { } bias)
                    Fp16Tensor(LlamaTensorNames.Bias(l, kind), [bias.Length], () =>
                        heads > 0 ? RopePermutation.InterleavedToHf(bias, c, kind, [bias.Length]) : bias);
            }
        }
        Fp16Tensor(LlamaTensorNames.FinalNorm, [c.HiddenSize], () => model.FinalNorm);
        if (!model.TiedOutput)
        {
            long[] shape = [c.VocabSize, c.HiddenSize];
            switch (model.Output)
            {
                case HalfLinear h: Fp16Bits(LlamaTensorNames.Output, shape, h.Weight); break;
                case FloatLinear f: Fp16Tensor(LlamaTensorNames.Output, shape, () => f.Weight); break;
                default: throw new NotSupportedException("a quantized lm_head cannot be saved in the AWQ layout");
            }
        }

        var hf = new HfModelConfig
        {
            Llama = c,
            TorchDtype = "float16",
            EosTokenIds = [c.EosTokenId],
            PackQuantized = packQuantized
                ? new PackQuantizedConfig
                {
                    GroupSize = cfg.GroupSize, Bits = mainBits, Ignore = Int8QuantizationConfig.IgnoreFor(cfg.ModulesToNotConvert),
                    ModuleBits = kindBits.Values.Distinct().Count() > 1 ? kindBits.ToDictionary(kb => kb.Key.Name(), kb => kb.Value) : new Dictionary<string, int>(),
                    LayoutExtension = extension ? AwqQuantizationConfig.CeilGroupsExtension : null,
                }
                : null,
            Quantization = int8 || packQuantized ? null : new AwqQuantizationConfig
            {
                Bits = cfg.WBit, GroupSize = cfg.GroupSize, ZeroPoint = cfg.ZeroPoint, Version = "gemm",
                ModulesToNotConvert = cfg.ModulesToNotConvert.ToArray(),
                LayoutExtension = extension ? AwqQuantizationConfig.CeilGroupsExtension : null,
            },
            Int8Quantization = int8
                ? new Int8QuantizationConfig
                {
                    Ignore = Int8QuantizationConfig.IgnoreFor(cfg.ModulesToNotConvert), StaticActivations = staticInputs > 0,
                    Observer = staticInputs > 0 ? cfg.Observer.Name() : null,
                }
                : null,
        };
        if (staticInputs > 0 && dynamicInputs > 0) throw new NotSupportedException("a checkpoint holds static or dynamic INT8 activations, not both");
        if (int8 && model.Blocks.Any(b => LinearKinds.All.Any(k => b[k] is IGroupQuantizedLinear)))
            throw new NotSupportedException("a checkpoint holds INT4 or INT8 linears, not both");

        var temp = staging != null ? Path.Combine(Path.GetFullPath(staging), $"checkpoint-{Guid.NewGuid():N}") : $"{target}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            hf.Write(Path.Combine(temp, HfModelConfig.FileName));
            hf.WriteGenerationConfig(Path.Combine(temp, HfModelConfig.GenerationFileName));
            using (var writer = new ShardedSafetensorsWriter(temp, plan.Select(p => p.Spec).ToList(),
                       metadata: new Dictionary<string, string> { ["format"] = "pt" }))
            {
                foreach (var (_, write) in plan) write(writer);
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
            ["method"] = result.Config.Method.Name(),
        };
        using var w = new SafetensorsWriter(path, tensors.Select(t => new SafetensorsTensorSpec(t.Name, TensorDType.F32, [t.Values.Length])).ToList(), meta);
        foreach (var (name, values) in tensors) w.Write(name, values);
        w.Commit();
    }

    /// <summary>perm[hfRow] = canonical (interleaved) row stored at that HF row.</summary>
    internal static int[] CanonicalRowOfHfRow(int heads, int headDim)
    {
        var hfOfCanonical = RopePermutation.InterleavedChannelOrder(heads, headDim);
        var perm = new int[hfOfCanonical.Length];
        for (var c = 0; c < perm.Length; c++) perm[hfOfCanonical[c]] = c;
        return perm;
    }

    /// <summary>A value built on first use and released by <see cref="Take"/>, the last use.</summary>
    private sealed class OneShot<T>(Func<T> build) where T : class
    {
        private T? _value;

        public T Value => _value ??= build();

        public T Take()
        {
            var v = Value;
            _value = null;
            return v;
        }
    }
}
