using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// A Hugging Face folder of a LLaMA-family model (config.json + model.safetensors or a sharded index) as an
/// <see cref="IWeightSource"/>. On open every expected tensor is checked for presence, a float dtype
/// (F32/F16/BF16) and the shape the config implies. ReadFloat32 returns canonical layout: q_proj and
/// k_proj rows are un-permuted from HF's rotate_half order to interleaved pairs
/// (<see cref="RopePermutation"/>). With tie_word_embeddings the embedding is the output matrix
/// (transformers' semantics: any stored lm_head.weight is ignored). The family's biases (Qwen2's q/k/v)
/// are tensors like any other; q/k biases are permuted with their rows.
/// An AWQ folder (quantization_config with quant_method "awq") stores most linears as
/// {module}.qweight / .qzeros / .scales: those modules are checked for presence but are not fp32
/// tensors here; reach them by stored name through <see cref="Checkpoint"/> / <see cref="StoredBytes"/>.
/// Their output channels (q/k) are still in HF rotate_half order — see <see cref="RopePermutation.InterleavedChannelOrder"/>.
/// </summary>
public sealed class HfWeightSource : WeightSourceBase
{
    private readonly SafetensorsCheckpoint _checkpoint;
    private readonly HashSet<string> _quantizedModules = new(StringComparer.Ordinal);

    private HfWeightSource(string folder, HfModelConfig cfg, SafetensorsCheckpoint checkpoint) : base(folder)
    {
        HfConfig = cfg;
        Config = cfg.Llama;
        _checkpoint = checkpoint;
    }

    public HfModelConfig HfConfig { get; }

    public override string ContextOrigin => $"{System.IO.Path.Combine(Path, "config.json")}: max_position_embeddings";

    /// <summary>The AWQ quantization_config, or null for an unquantized checkpoint.</summary>
    public AwqQuantizationConfig? Quantization => HfConfig.Quantization;

    /// <summary>Raw access to every stored tensor by its stored name (dtype, shape, bytes, shard).</summary>
    public SafetensorsCheckpoint Checkpoint => _checkpoint;

    public IReadOnlyList<SafetensorsTensorInfo> StoredTensors => _checkpoint.Tensors;

    /// <summary>Modules ("model.layers.0.self_attn.q_proj") stored AWQ-quantized (qweight/qzeros/scales).</summary>
    public IReadOnlyCollection<string> QuantizedModules => _quantizedModules;

    public bool IsQuantized(int layer, LinearKind kind) => _quantizedModules.Contains(LlamaTensorNames.LinearModule(layer, kind));

    public SafetensorsTensorInfo StoredInfo(string storedName) => _checkpoint.Get(storedName);

    /// <summary>A quantized checkpoint's stored tensor, refused naming it unless it has one of <paramref name="dtypes"/> and exactly <paramref name="shape"/>.</summary>
    public SafetensorsTensorInfo RequireStored(string storedName, long[] shape, params TensorDType[] dtypes)
    {
        var info = StoredInfo(storedName);
        if (!dtypes.Contains(info.DType) || !info.Shape.SequenceEqual(shape))
            throw new InvalidDataException(
                $"{Path}: {storedName} is {info.DType} {LlamaWeightShapes.Format(info.Shape)}, expected {string.Join(" or ", dtypes)} {LlamaWeightShapes.Format(shape)}");
        return info;
    }

    /// <summary>A stored tensor's bytes, exactly as stored (valid while this source is open).</summary>
    public ReadOnlySpan<byte> StoredBytes(string storedName) => _checkpoint.Bytes(storedName);

    /// <summary>A stored tensor's raw elements (int for I32 qweight/qzeros, Half for F16 scales).</summary>
    public T[] ReadStored<T>(string storedName) where T : unmanaged => _checkpoint.Read<T>(storedName);

    public static HfWeightSource Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: model folder not found");
        var cfg = HfModelConfig.ReadFolder(folder);
        var checkpoint = SafetensorsCheckpoint.OpenFolder(folder);
        var src = new HfWeightSource(folder, cfg, checkpoint);
        return BuildOrDispose(src, src.Build);
    }

    private void Build()
    {
        var c = Config;
        // A config claiming more layers than the checkpoint has tensors is rejected before the check below walks it.
        if ((long)c.NumLayers * 2 > _checkpoint.Tensors.Count)
            throw new InvalidDataException($"{Path}: config.json declares {c.NumLayers} layers but the checkpoint holds only {_checkpoint.Tensors.Count} tensors");
        var where = _checkpoint.Path;
        foreach (var (name, shape) in LlamaWeightShapes.Expected(c))
        {
            if (name == LlamaTensorNames.Output && c.TieWordEmbeddings)
            {
                var emb = _checkpoint.Get(LlamaTensorNames.Embedding);
                Register(new WeightInfo(name, emb.DType, shape));
                continue;
            }
            var module = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : null;
            if (HfConfig.Int8Quantization is { } int8 && module != null && IsLinear(name) && !int8.IsExcluded(module))
            {
                foreach (var part in int8.StaticActivations ? ["weight", "weight_scale", "input_scale", "input_zero_point"] : new[] { "weight", "weight_scale" })
                    if (!_checkpoint.Contains($"{module}.{part}"))
                        throw new InvalidDataException($"{where}: INT8 tensor '{module}.{part}' is missing (quantization_config says {module} is quantized)");
                _quantizedModules.Add(module);
                continue;
            }
            if (HfConfig.PackQuantized is { } packed && module != null && IsLinear(name) && !packed.IsExcluded(module))
            {
                foreach (var part in new[] { "weight_packed", "weight_scale", "weight_zero_point", "weight_shape" })
                    if (!_checkpoint.Contains($"{module}.{part}"))
                        throw new InvalidDataException($"{where}: compressed-tensors tensor '{module}.{part}' is missing (quantization_config says {module} is quantized)");
                _quantizedModules.Add(module);
                continue;
            }
            if (Quantization != null && module != null && IsLinear(name) && !Quantization.IsExcluded(module))
            {
                foreach (var part in new[] { "qweight", "qzeros", "scales" })
                    if (!_checkpoint.Contains($"{module}.{part}"))
                        throw new InvalidDataException($"{where}: AWQ tensor '{module}.{part}' is missing (quantization_config says {module} is quantized)");
                _quantizedModules.Add(module);
                continue;
            }
            if (!_checkpoint.TryGet(name, out var t))
                throw new InvalidDataException($"{where}: tensor '{name}' is missing (expected shape {LlamaWeightShapes.Format(shape)})" +
                    (name == LlamaTensorNames.Output ? "; set tie_word_embeddings in config.json if the model shares its embedding" : ""));
            if (t.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
                throw new InvalidDataException($"{_checkpoint.FileOf(name).Path}: tensor '{name}' has unsupported dtype {SafetensorsDTypes.Name(t.DType)} (expected F32, F16 or BF16)");
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{_checkpoint.FileOf(name).Path}: tensor '{name}' has shape {LlamaWeightShapes.Format(t.Shape)}, but config.json implies {LlamaWeightShapes.Format(shape)}");
            Register(new WeightInfo(name, t.DType, shape));
        }
    }

    private static bool IsLinear(string name) => name.Contains(".self_attn.", StringComparison.Ordinal) || name.Contains(".mlp.", StringComparison.Ordinal);

    protected override string MissingMessage(string name)
    {
        if (name.EndsWith(".weight", StringComparison.Ordinal) && _quantizedModules.Contains(name[..^".weight".Length]))
            return HfConfig.Int8Quantization != null
                ? $"{Path}: '{name}' is stored INT8-quantized (weight/weight_scale), not as a float tensor"
                : HfConfig.PackQuantized != null
                    ? $"{Path}: '{name}' is stored {HfConfig.PackQuantized.SchemeFor(name[..^".weight".Length]).Bits}-bit pack-quantized (weight_packed/weight_scale/weight_zero_point), not as a float tensor"
                    : $"{Path}: '{name}' is stored AWQ-quantized (qweight/qzeros/scales), not as a float tensor";
        return base.MissingMessage(name);
    }

    protected override float[] ReadCore(WeightInfo info)
    {
        var c = Config;
        var stored = info.Name == LlamaTensorNames.Output && c.TieWordEmbeddings ? LlamaTensorNames.Embedding : info.Name;
        var data = _checkpoint.ReadFloat32(stored);
        return LlamaTensorNames.IsRotary(info.Name, out var kind) ? RopePermutation.HfToInterleaved(data, c, kind, info.Shape) : data;
    }

    /// <summary>fp16-stored tensors without a RoPE permutation come back as their stored bits.</summary>
    public override ushort[] ReadFloat16(string name)
    {
        var info = Info(name);
        var stored = name == LlamaTensorNames.Output && Config.TieWordEmbeddings ? LlamaTensorNames.Embedding : name;
        var permuted = LlamaTensorNames.IsRotary(name, out _);
        return info.DType == TensorDType.F16 && !permuted ? CheckedHalf(name, _checkpoint.Read<ushort>(stored)) : base.ReadFloat16(name);
    }

    public override void Dispose()
    {
        _checkpoint.Dispose();
        base.Dispose();
    }
}
