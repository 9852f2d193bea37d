using AwqRuntime.Model;

namespace AwqRuntime.Formats.Gguf;

/// <summary>Element type of a GGUF export's 2-D weights (norms are always F32).</summary>
public enum GgufExportType
{
    F32,
    F16,

    /// <summary>ggml Q8_0 (weights whose rows do not split into 32-element blocks fall back to F16, as llama.cpp does for unsupported shapes).</summary>
    Q8_0,

    /// <summary>
    /// An INT4 model's own weights as ggml Q4_1, without re-rounding (<see cref="GgufInt4Blocks.ToQ4_1"/>):
    /// for a source whose linears are group-wise INT4 (<see cref="IWeightSource.ReadInt4"/>), e.g. an AWQ
    /// checkpoint. INT4 linears that 32-weight blocks cannot split are written as F32 (their exact values),
    /// fp16 weights (embedding, classifier, modules kept in fp16) as F16, other weights as F32: nothing is rounded.
    /// </summary>
    Q4_1,

    /// <summary>
    /// An INT4 model's weights as ggml Q4_K where rows split into 256-weight super-blocks (Q4_1 where only
    /// 32 divides them, F32 below that): the group scales and offsets rounded to Q4_K's 6-bit sub-block
    /// scales and the codes re-chosen under them (<see cref="GgufInt4Blocks.ToQ4_K"/>), a small loss that
    /// the export reports; 4.5 bits per weight instead of Q4_1's 5.
    /// </summary>
    Q4_K,
}

/// <summary>
/// Writes any <see cref="IWeightSource"/> as a GGUF that llama.cpp loads, under the family's
/// architecture (llama, qwen2): the {arch}.* keys with the exact types llama.cpp's loader type-checks
/// (UINT32 counts, FLOAT32 eps and freq_base; ggml docs/gguf.md), general.* keys, the caller's
/// tokenizer metadata verbatim, every tensor under its GGUF name (biases included) and, for Llama 3.1
/// rope scaling, rope_freqs. Canonical q/k are interleaved, as llama.cpp's NORM RoPE wants them; for
/// a NEOX architecture (qwen2) they are written back in HF order. output.weight is written explicitly
/// even when tied (llama.cpp accepts both). A Mistral sliding window has no llama-architecture key:
/// llama.cpp attends over the whole context.
/// </summary>
public static class GgufModelExporter
{
    /// <summary>llama_ftype values for general.file_type.</summary>
    public static uint FileType(GgufExportType t) => t switch
    {
        GgufExportType.F32 => 0, // LLAMA_FTYPE_ALL_F32
        GgufExportType.F16 => 1, // LLAMA_FTYPE_MOSTLY_F16
        GgufExportType.Q8_0 => 7, // LLAMA_FTYPE_MOSTLY_Q8_0
        GgufExportType.Q4_1 => 3, // LLAMA_FTYPE_MOSTLY_Q4_1
        GgufExportType.Q4_K => 14, // LLAMA_FTYPE_MOSTLY_Q4_K_S (every quantized linear Q4_K)
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <param name="tokenizerMetadata">tokenizer.ggml.* keys (tokens, scores, token_type, model, bos/eos ids, ...) written as given; may be empty for a weights-only file.</param>
    /// <param name="rerounded">For <see cref="GgufExportType.Q4_K"/>: called with each re-rounded tensor's name and relative RMS change.</param>
    public static void Export(IWeightSource src, string path, GgufExportType type, IReadOnlyDictionary<string, GgufValue> tokenizerMetadata, string? name = null,
        Action<string, double>? rerounded = null) =>
        Build(src, type, tokenizerMetadata, name, rerounded).Write(path);

    /// <summary>The writer with all metadata and (lazy) tensors, for callers that add more before writing.</summary>
    public static GgufWriter Build(IWeightSource src, GgufExportType type, IReadOnlyDictionary<string, GgufValue> tokenizerMetadata, string? name = null,
        Action<string, double>? rerounded = null)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(tokenizerMetadata);
        var c = src.Config;
        if (tokenizerMetadata.TryGetValue("tokenizer.ggml.tokens", out var tok) && tok.Value is string[] tokens && tokens.Length != c.VocabSize)
            throw new ArgumentException($"{src.Path}: tokenizer has {tokens.Length} tokens but the model's vocabulary is {c.VocabSize}; llama.cpp would reject the file");

        var w = new GgufWriter();
        var arch = c.Family.GgufArchitecture;
        w.Add("general.architecture", GgufValue.Of(arch));
        w.Add("general.name", GgufValue.Of(name ?? c.Name));
        w.Add("general.alignment", GgufValue.Of((uint)GgufWriter.DefaultAlignment));
        w.Add("general.file_type", GgufValue.Of(FileType(type)));
        if (type is GgufExportType.Q8_0 or GgufExportType.Q4_1 or GgufExportType.Q4_K) w.Add("general.quantization_version", GgufValue.Of(2u)); // GGML_QNT_VERSION
        w.Add($"{arch}.vocab_size", GgufValue.Of((uint)c.VocabSize));
        w.Add($"{arch}.context_length", GgufValue.Of((uint)c.MaxPositionEmbeddings));
        w.Add($"{arch}.embedding_length", GgufValue.Of((uint)c.HiddenSize));
        w.Add($"{arch}.block_count", GgufValue.Of((uint)c.NumLayers));
        w.Add($"{arch}.feed_forward_length", GgufValue.Of((uint)c.IntermediateSize));
        w.Add($"{arch}.rope.dimension_count", GgufValue.Of((uint)c.EffectiveRopeDim));
        w.Add($"{arch}.attention.head_count", GgufValue.Of((uint)c.NumHeads));
        w.Add($"{arch}.attention.head_count_kv", GgufValue.Of((uint)c.NumKvHeads));
        if (c.EffectiveHeadDim * c.NumHeads != c.HiddenSize)
        {
            w.Add($"{arch}.attention.key_length", GgufValue.Of((uint)c.EffectiveHeadDim));
            w.Add($"{arch}.attention.value_length", GgufValue.Of((uint)c.EffectiveHeadDim));
        }
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", GgufValue.Of(c.RmsNormEps));
        w.Add($"{arch}.rope.freq_base", GgufValue.Of(c.RopeTheta));
        foreach (var (key, value) in tokenizerMetadata)
        {
            if (w.Metadata.Any(m => m.Key == key))
                throw new ArgumentException($"tokenizer metadata key '{key}' collides with a key the exporter writes", nameof(tokenizerMetadata));
            w.Add(key, value);
        }

        foreach (var (canonical, shape) in LlamaWeightShapes.Expected(c))
        {
            if (!src.Contains(canonical)) throw new InvalidDataException($"{src.Path}: tensor '{canonical}' is not available as fp32 (quantized?); cannot export it");
            var info = src.Info(canonical);
            if (!info.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{src.Path}: tensor '{canonical}' has shape {LlamaWeightShapes.Format(info.Shape)}, config implies {LlamaWeightShapes.Format(shape)}");
            var ggufName = GgufTensorNames.ToGguf(canonical);
            // Canonical q/k rows are interleaved; a NEOX-RoPE architecture (qwen2) wants HF's halves back.
            var toHf = !c.Family.GgufQkInterleaved && LlamaTensorNames.IsRotary(canonical, out _);
            var ownInt4 = type is GgufExportType.Q4_1 or GgufExportType.Q4_K;
            if (ownInt4 && shape.Length == 2 && !toHf && src.ReadInt4(canonical) is { } int4)
            {
                if (type == GgufExportType.Q4_K && GgufInt4Blocks.CanWriteQ4_K(int4))
                {
                    w.AddTensorBytes(ggufName, shape, TensorDType.Q4_K, () =>
                    {
                        var bytes = GgufInt4Blocks.ToQ4_K(src.ReadInt4(canonical)!, out var change);
                        rerounded?.Invoke(canonical, change);
                        return bytes;
                    });
                    continue;
                }
                if (GgufInt4Blocks.CanWriteQ4_1(int4))
                {
                    w.AddTensorBytes(ggufName, shape, TensorDType.Q4_1, () => GgufInt4Blocks.ToQ4_1(src.ReadInt4(canonical)!));
                    continue;
                }
            }
            var tensorType = shape.Length == 1 ? TensorDType.F32 : type switch
            {
                GgufExportType.F32 => TensorDType.F32,
                GgufExportType.F16 => TensorDType.F16,
                GgufExportType.Q4_1 or GgufExportType.Q4_K => info.DType == TensorDType.F16 ? TensorDType.F16 : TensorDType.F32,
                _ => shape[^1] % TensorConversion.Q8_0BlockElements == 0 ? TensorDType.Q8_0 : TensorDType.F16,
            };
            w.AddTensor(ggufName, shape, tensorType, () =>
            {
                var data = src.ReadFloat32(canonical);
                if (toHf && LlamaTensorNames.IsRotary(canonical, out var kind)) data = RopePermutation.InterleavedToHf(data, c, kind, shape);
                if (tensorType == TensorDType.F16) TensorConversion.CheckFp16Range(src.Path, canonical, data);
                return data;
            });
        }
        // Llama 3.1's rope scaling reaches llama.cpp as the rope_freqs tensor (convert_hf_to_gguf.py
        // LlamaModel.generate_extra_tensors), which its rope_ext divides each pair's angle by.
        if (c.RopeScaling != null)
        {
            var factors = c.RopeFreqFactors();
            w.AddTensor(GgufTensorNames.RopeFreqs, [factors.Length], TensorDType.F32, () => factors);
        }
        return w;
    }
}
