using AwqRuntime.Model;

namespace AwqRuntime.Formats.Gguf;

/// <summary>Element type of a GGUF export's 2-D weights (norms are always F32).</summary>
public enum GgufExportType
{
    F32,
    F16,

    /// <summary>ggml Q8_0 (weights whose rows do not split into 32-element blocks fall back to F16, as llama.cpp does for unsupported shapes).</summary>
    Q8_0,
}

/// <summary>
/// Writes any <see cref="IWeightSource"/> as a llama-architecture GGUF that llama.cpp loads: the
/// llama.* keys with the exact types llama.cpp's loader type-checks (UINT32 counts, FLOAT32 eps and
/// freq_base; reference §8.2), general.* keys, the caller's tokenizer metadata verbatim, and every
/// tensor under its GGUF name (§8.3). Canonical q/k are already interleaved, as GGUF wants them.
/// output.weight is written explicitly even when tied (llama.cpp accepts both).
/// </summary>
public static class GgufModelExporter
{
    /// <summary>llama_ftype values for general.file_type.</summary>
    public static uint FileType(GgufExportType t) => t switch
    {
        GgufExportType.F32 => 0, // LLAMA_FTYPE_ALL_F32
        GgufExportType.F16 => 1, // LLAMA_FTYPE_MOSTLY_F16
        GgufExportType.Q8_0 => 7, // LLAMA_FTYPE_MOSTLY_Q8_0
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <param name="tokenizerMetadata">tokenizer.ggml.* keys (tokens, scores, token_type, model, bos/eos ids, ...) written as given; may be empty for a weights-only file.</param>
    public static void Export(IWeightSource src, string path, GgufExportType type, IReadOnlyDictionary<string, GgufValue> tokenizerMetadata, string? name = null) =>
        Build(src, type, tokenizerMetadata, name).Write(path);

    /// <summary>The writer with all metadata and (lazy) tensors, for callers that add more before writing.</summary>
    public static GgufWriter Build(IWeightSource src, GgufExportType type, IReadOnlyDictionary<string, GgufValue> tokenizerMetadata, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(tokenizerMetadata);
        var c = src.Config;
        if (tokenizerMetadata.TryGetValue("tokenizer.ggml.tokens", out var tok) && tok.Value is string[] tokens && tokens.Length != c.VocabSize)
            throw new ArgumentException($"{src.Path}: tokenizer has {tokens.Length} tokens but the model's vocabulary is {c.VocabSize}; llama.cpp would reject the file");

        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of("llama"));
        w.Add("general.name", GgufValue.Of(name ?? c.Name));
        w.Add("general.alignment", GgufValue.Of((uint)GgufWriter.DefaultAlignment));
        w.Add("general.file_type", GgufValue.Of(FileType(type)));
        if (type == GgufExportType.Q8_0) w.Add("general.quantization_version", GgufValue.Of(2u)); // GGML_QNT_VERSION
        w.Add("llama.vocab_size", GgufValue.Of((uint)c.VocabSize));
        w.Add("llama.context_length", GgufValue.Of((uint)c.MaxPositionEmbeddings));
        w.Add("llama.embedding_length", GgufValue.Of((uint)c.HiddenSize));
        w.Add("llama.block_count", GgufValue.Of((uint)c.NumLayers));
        w.Add("llama.feed_forward_length", GgufValue.Of((uint)c.IntermediateSize));
        w.Add("llama.rope.dimension_count", GgufValue.Of((uint)c.EffectiveRopeDim));
        w.Add("llama.attention.head_count", GgufValue.Of((uint)c.NumHeads));
        w.Add("llama.attention.head_count_kv", GgufValue.Of((uint)c.NumKvHeads));
        if (c.EffectiveHeadDim * c.NumHeads != c.HiddenSize)
        {
            w.Add("llama.attention.key_length", GgufValue.Of((uint)c.EffectiveHeadDim));
            w.Add("llama.attention.value_length", GgufValue.Of((uint)c.EffectiveHeadDim));
        }
        w.Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(c.RmsNormEps));
        w.Add("llama.rope.freq_base", GgufValue.Of(c.RopeTheta));
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
            var tensorType = shape.Length == 1 ? TensorDType.F32 : type switch
            {
                GgufExportType.F32 => TensorDType.F32,
                GgufExportType.F16 => TensorDType.F16,
                _ => shape[^1] % TensorConversion.Q8_0BlockElements == 0 ? TensorDType.Q8_0 : TensorDType.F16,
            };
            var ggufName = GgufTensorNames.ToGguf(canonical);
            w.AddTensor(ggufName, shape, tensorType, () =>
            {
                var data = src.ReadFloat32(canonical);
                if (tensorType == TensorDType.F16) TensorConversion.CheckFp16Range(src.Path, canonical, data);
                return data;
            });
        }
        return w;
    }
}
