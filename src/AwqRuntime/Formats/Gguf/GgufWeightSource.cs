using AwqRuntime.Model;
using AwqRuntime.Model.Families;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// A GGUF file of a LLaMA-family architecture (llama, qwen2) as an <see cref="IWeightSource"/>. The
/// config comes from the {arch}.* keys (as llama.cpp's loader reads them), the vocabulary size from token_embd (checked
/// against tokenizer.ggml.tokens when present); tensors are mapped to canonical names
/// (<see cref="GgufTensorNames"/>) and checked against the config on open. llama-architecture q/k
/// are already in the interleaved RoPE layout; qwen2's (NEOX) are permuted on read. Without output.weight the model is tied.
/// Readable types: F32, F16, BF16, Q8_0 and llama.cpp's Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K
/// (<see cref="GgmlBlockDecoder"/>); any other type fails on open naming type and tensor. Q4_0 and
/// exactly-mappable Q4_1 linears are also readable as INT4 g32 (<see cref="ReadInt4"/>), so the runtime
/// runs them on its INT4 kernels without re-rounding.
/// </summary>
public sealed class GgufWeightSource : WeightSourceBase
{
    private readonly GgufFile _gguf;
    private readonly Dictionary<string, GgufTensorInfo> _stored = new(StringComparer.Ordinal);

    private GgufWeightSource(GgufFile gguf) : base(gguf.Path) => _gguf = gguf;

    /// <summary>The underlying file (metadata such as the tokenizer, raw tensors).</summary>
    public GgufFile File => _gguf;

    public override string ContextOrigin => $"{Path}: {_gguf.GetStringOrNull("general.architecture") ?? "llama"}.context_length";

    public static GgufWeightSource Open(string path)
    {
        var gguf = GgufFile.Open(path);
        var src = new GgufWeightSource(gguf);
        return BuildOrDispose(src, src.Build);
    }

    private void Build()
    {
        var g = _gguf;
        var arch = g.GetStringOrNull("general.architecture") ?? throw new InvalidDataException($"{Path}: metadata key 'general.architecture' is missing");
        var family = ModelFamilies.FromGgufArchitecture(arch)
            ?? throw new InvalidDataException($"{Path}: general.architecture is '{arch}', supported: llama, qwen2");
        var scaling = g.GetStringOrNull($"{arch}.rope.scaling.type");
        if (scaling is not (null or "none"))
            throw new InvalidDataException($"{Path}: {arch}.rope.scaling.type '{scaling}' is not supported (only plain RoPE)");

        int Int(string key, long? def = null)
        {
            var v = g.GetIntegerOrNull(key) ?? def ?? throw new InvalidDataException($"{Path}: metadata key '{key}' is missing");
            return v is >= 0 and <= int.MaxValue ? (int)v : throw new InvalidDataException($"{Path}: metadata key '{key}' = {v} is out of range");
        }

        var emb = g.TryGetTensor("token_embd.weight", out var e) ? e : throw new InvalidDataException($"{Path}: tensor 'token_embd.weight' is missing");
        if (emb.Dims.Length != 2) throw new InvalidDataException($"{Path}: tensor 'token_embd.weight' has {emb.Dims.Length} dimensions, expected 2");
        var vocab = (int)emb.Dims[1];
        if (g.GetArrayOrNull<string>("tokenizer.ggml.tokens") is { } tokens && tokens.Length != vocab)
            throw new InvalidDataException($"{Path}: tokenizer.ggml.tokens has {tokens.Length} tokens but token_embd.weight has {vocab} rows");

        var heads = Int($"{arch}.attention.head_count");
        var hidden = Int($"{arch}.embedding_length");
        var keyLength = g.GetIntegerOrNull($"{arch}.attention.key_length");
        var config = new LlamaConfig
        {
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = Int($"{arch}.feed_forward_length"),
            NumLayers = Int($"{arch}.block_count"),
            NumHeads = heads,
            NumKvHeads = Int($"{arch}.attention.head_count_kv", heads),
            HeadDim = keyLength.HasValue ? Int($"{arch}.attention.key_length") : 0,
            RopeDim = g.Has($"{arch}.rope.dimension_count") ? Int($"{arch}.rope.dimension_count") : 0,
            RmsNormEps = g.GetFloat($"{arch}.attention.layer_norm_rms_epsilon"),
            RopeTheta = g.GetFloatOrNull($"{arch}.rope.freq_base") ?? 10000f,
            MaxPositionEmbeddings = Int($"{arch}.context_length"),
            Family = family,
            TieWordEmbeddings = !g.TryGetTensor("output.weight", out _),
            BosTokenId = Int("tokenizer.ggml.bos_token_id", 1),
            EosTokenId = Int("tokenizer.ggml.eos_token_id", 2),
            Name = g.GetStringOrNull("general.name") ?? System.IO.Path.GetFileNameWithoutExtension(Path),
        };
        // Llama 3.1's rope scaling arrives as the per-pair factors llama.cpp's rope_ext divides angles by.
        if (g.TryGetTensor(GgufTensorNames.RopeFreqs, out var freqs))
        {
            if (freqs.Type != TensorDType.F32 || freqs.ElementCount != config.EffectiveRopeDim / 2)
                throw new InvalidDataException($"{Path}: tensor '{GgufTensorNames.RopeFreqs}' is {freqs.Type} with {freqs.ElementCount} values, expected F32 with {config.EffectiveRopeDim / 2} (one per rotary pair)");
            var factors = new float[freqs.ElementCount];
            TensorConversion.ToFloat32(freqs.Type, _gguf.TensorBytes(freqs), factors);
            config = config with { RopeScaling = RopeScaling.FromFactors(factors) };
        }
        if (g.GetIntegerOrNull($"{arch}.attention.value_length") is { } vl && vl != config.EffectiveHeadDim)
            throw new InvalidDataException($"{Path}: {arch}.attention.value_length {vl} differs from key_length {config.EffectiveHeadDim}; not supported");
        Config = config.Validate(Path);
        if ((long)config.NumLayers * 2 > g.Tensors.Count)
            throw new InvalidDataException($"{Path}: {arch}.block_count {config.NumLayers} but the file holds only {g.Tensors.Count} tensors");

        foreach (var (name, shape) in LlamaWeightShapes.Expected(config))
        {
            var ggufName = GgufTensorNames.ToGguf(name);
            if (!g.TryGetTensor(ggufName, out var t))
            {
                if (name == LlamaTensorNames.Output)
                {
                    _stored[name] = emb;
                    Register(new WeightInfo(name, emb.Type, shape));
                    continue;
                }
                throw new InvalidDataException($"{Path}: tensor '{ggufName}' ({name}) is missing (expected shape {LlamaWeightShapes.Format(shape)})");
            }
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{Path}: tensor '{ggufName}' has shape {LlamaWeightShapes.Format(t.Shape)}, but the {arch}.* metadata implies {LlamaWeightShapes.Format(shape)}");
            if (!TensorConversion.CanDecode(t.Type) || t.Type == TensorDType.F64)
                throw new InvalidDataException($"{Path}: unsupported tensor type {t.Type} in tensor '{ggufName}' (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
            _stored[name] = t;
            Register(new WeightInfo(name, t.Type, shape));
        }
    }

    protected override float[] ReadCore(WeightInfo info)
    {
        var t = _stored[info.Name];
        var result = new float[t.ElementCount];
        TensorConversion.ToFloat32(t.Type, _gguf.TensorBytes(t), result);
        // A NEOX-RoPE architecture (qwen2) stores q/k rows in HF's order: make them interleaved.
        return !Config.Family.GgufQkInterleaved && LlamaTensorNames.IsRotary(info.Name, out var kind)
            ? RopePermutation.HfToInterleaved(result, Config, kind, info.Shape)
            : result;
    }

    /// <summary>A Q4_0 or exactly-mappable Q4_1 weight as INT4 g32 (<see cref="GgufInt4Blocks"/>); null for other types and for a NEOX architecture's q/k (whose rows are permuted on read).</summary>
    public override Quantization.QuantizedWeights? ReadInt4(string name)
    {
        var info = Info(name);
        var t = _stored[name];
        if (info.Shape.Length != 2 || t.Type is not (TensorDType.Q4_0 or TensorDType.Q4_1)) return null;
        if (!Config.Family.GgufQkInterleaved && LlamaTensorNames.IsRotary(name, out _)) return null;
        var q = GgufInt4Blocks.TryMap(t.Type, _gguf.TensorBytes(t), (int)info.Shape[0], (int)info.Shape[1]);
        return q == null ? null : CheckedScales(name, q);
    }

    /// <summary>F16 tensors come back as their stored bits.</summary>
    public override ushort[] ReadFloat16(string name)
    {
        Info(name);
        var t = _stored[name];
        return t.Type == TensorDType.F16 && (Config.Family.GgufQkInterleaved || !LlamaTensorNames.IsRotary(name, out _))
            ? CheckedHalf(name, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(_gguf.TensorBytes(t)).ToArray())
            : base.ReadFloat16(name);
    }

    public override void Dispose()
    {
        _gguf.Dispose();
        base.Dispose();
    }
}
