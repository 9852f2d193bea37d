using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// A Hugging Face config.json of a LLaMA-family model: the <see cref="LlamaConfig"/> it describes plus
/// what the config carries beyond it (stored dtype, every eos id, AWQ quantization_config).
/// <see cref="Read"/> finds the family (<see cref="ModelFamilies"/>) by model_type or architectures,
/// reads the shared keys with transformers' defaults for absent ones and lets the family read its own
/// (rope_scaling, sliding_window, biases); what would change the math silently is rejected with an
/// error naming the key. <see cref="Write"/> produces what save_pretrained does.
/// </summary>
public sealed record HfModelConfig
{
    public const string FileName = "config.json";
    public const string GenerationFileName = "generation_config.json";

    public required LlamaConfig Llama { get; init; }

    /// <summary>"float16", "bfloat16", "float32" (torch_dtype, or dtype in transformers ≥ 4.56); null when absent.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>All eos ids when config.json lists several (Llama 3); Llama.EosTokenId is the first.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public AwqQuantizationConfig? Quantization { get; init; }

    /// <summary>The W8A8 INT8 quantization_config (compressed-tensors "int-quantized"); null otherwise.</summary>
    public Int8QuantizationConfig? Int8Quantization { get; init; }

    /// <summary>The INT4 quantization_config in compressed-tensors' pack-quantized format; null otherwise.</summary>
    public PackQuantizedConfig? PackQuantized { get; init; }

    /// <summary>True when config.json declares a quantization (AWQ INT4, compressed-tensors INT4 or W8A8 INT8).</summary>
    public bool IsQuantized => Quantization != null || Int8Quantization != null || PackQuantized != null;

    /// <summary>Reads folder/config.json (and quant_config.json when config.json has no quantization_config).</summary>
    public static HfModelConfig ReadFolder(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found (not a Hugging Face model folder?)", path);
        var cfg = Read(path, System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(folder))));
        var legacy = System.IO.Path.Combine(folder, "quant_config.json");
        if (!cfg.IsQuantized && File.Exists(legacy))
        {
            using var doc = ParseJson(legacy);
            cfg = cfg with { Quantization = AwqQuantizationConfig.Parse(doc.RootElement, legacy) };
        }
        return cfg;
    }

    public static HfModelConfig Read(string path, string? defaultName = null)
    {
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: config.json is not a JSON object");
        var r = new HfConfigReader(root, path);

        var modelType = r.String("model_type");
        var archs = root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
            : [];
        var family = (modelType != null ? ModelFamilies.FromHfModelType(modelType) : archs.Select(ModelFamilies.FromHfArchitecture).FirstOrDefault(f => f != null))
            ?? throw new InvalidDataException(
                $"{path}: model_type '{modelType ?? "(none)"}' / architectures [{string.Join(", ", archs)}] is not a supported family (model_type {string.Join(", ", ModelFamilies.All.Select(f => $"\"{f.HfModelType}\""))})");

        var ropeTheta = r.Double("rope_theta") ?? 10000.0;
        // transformers v5 moves rope_theta (and rope_scaling) into rope_parameters.
        if (r.Object("rope_parameters") is { } rp && rp.Double("rope_theta") is { } th) ropeTheta = th;
        var act = r.String("hidden_act");
        if (act != null && act != "silu") throw new InvalidDataException($"{path}: hidden_act '{act}' is not supported (LLaMA-family models use silu)");

        var heads = r.RequiredInt("num_attention_heads");
        var hidden = r.RequiredInt("hidden_size");
        // An explicit head_dim equal to the default is kept implicit, so configs compare equal across formats.
        var headDim = r.Int("head_dim") is { } hd && (heads <= 0 || hidden % heads != 0 || hd != hidden / heads) ? hd : 0;
        var eos = r.IntList("eos_token_id");
        var bos = r.IntList("bos_token_id");
        var name = r.String("_name_or_path");
        var llama = new LlamaConfig
        {
            VocabSize = r.Int("vocab_size") ?? 32000,
            HiddenSize = hidden,
            IntermediateSize = r.RequiredInt("intermediate_size"),
            NumLayers = r.RequiredInt("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = r.Int("num_key_value_heads") ?? heads,
            HeadDim = headDim,
            RmsNormEps = (float)(r.Double("rms_norm_eps") ?? 1e-6),
            RopeTheta = (float)ropeTheta,
            MaxPositionEmbeddings = r.Int("max_position_embeddings") ?? 2048,
            TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? false,
            BosTokenId = bos.Count > 0 ? bos[0] : 1,
            EosTokenId = eos.Count > 0 ? eos[0] : 2,
            Name = !string.IsNullOrWhiteSpace(name) ? System.IO.Path.GetFileName(name.TrimEnd('/', '\\')) : defaultName ?? family.Name,
            Family = family,
        };
        llama = family.ReadHfConfig(r, llama);
        if (llama.HeadDim < 0 || r.Int("head_dim") == 0) throw new InvalidDataException($"{path}: head_dim must be positive (got {r.Int("head_dim")})");
        if (bos.Concat(eos).Any(id => id < 0)) throw new InvalidDataException($"{path}: bos/eos token ids must be non-negative");
        llama.Validate(path);
        AwqQuantizationConfig? quant = null;
        Int8QuantizationConfig? int8 = null;
        PackQuantizedConfig? packed = null;
        if (root.TryGetProperty("quantization_config", out var q) && q.ValueKind != JsonValueKind.Null)
        {
            if (PackQuantizedConfig.IsPackQuantized(q)) packed = PackQuantizedConfig.Parse(q, path);
            else if (Int8QuantizationConfig.IsCompressedTensors(q)) int8 = Int8QuantizationConfig.Parse(q, path);
            else quant = AwqQuantizationConfig.Parse(q, path);
        }
        return new HfModelConfig
        {
            Llama = llama,
            TorchDtype = r.String("torch_dtype") ?? r.String("dtype"),
            EosTokenIds = eos.Count > 0 ? eos : [llama.EosTokenId],
            Quantization = quant,
            Int8Quantization = int8,
            PackQuantized = packed,
        };
    }

    /// <summary>
    /// Writes config.json as transformers' save_pretrained does (sorted keys, LlamaForCausalLM,
    /// rope_scaling null, head_dim explicit) through a temp file + rename.
    /// </summary>
    public void Write(string path)
    {
        var c = Llama;
        if (c.EffectiveRopeDim != c.EffectiveHeadDim)
            throw new InvalidOperationException($"{path}: rope dimension {c.EffectiveRopeDim} differs from head dimension {c.EffectiveHeadDim}; transformers' LLaMA cannot express partial RoPE");
        // save_pretrained writes the keys sorted: gather the shared and the family's, then write in order.
        var keys = new SortedDictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal)
        {
            ["architectures"] = w =>
            {
                w.WriteStartArray("architectures");
                w.WriteStringValue(c.Family.HfArchitecture);
                w.WriteEndArray();
            },
            ["attention_dropout"] = w => w.WriteNumber("attention_dropout", 0.0),
            ["bos_token_id"] = w => w.WriteNumber("bos_token_id", c.BosTokenId),
            ["eos_token_id"] = w => WriteIds(w, "eos_token_id", EosTokenIds.Count > 0 ? EosTokenIds : [c.EosTokenId]),
            ["head_dim"] = w => w.WriteNumber("head_dim", c.EffectiveHeadDim),
            ["hidden_act"] = w => w.WriteString("hidden_act", "silu"),
            ["hidden_size"] = w => w.WriteNumber("hidden_size", c.HiddenSize),
            ["initializer_range"] = w => w.WriteNumber("initializer_range", 0.02),
            ["intermediate_size"] = w => w.WriteNumber("intermediate_size", c.IntermediateSize),
            ["max_position_embeddings"] = w => w.WriteNumber("max_position_embeddings", c.MaxPositionEmbeddings),
            ["model_type"] = w => w.WriteString("model_type", c.Family.HfModelType),
            ["num_attention_heads"] = w => w.WriteNumber("num_attention_heads", c.NumHeads),
            ["num_hidden_layers"] = w => w.WriteNumber("num_hidden_layers", c.NumLayers),
            ["num_key_value_heads"] = w => w.WriteNumber("num_key_value_heads", c.NumKvHeads),
            ["rms_norm_eps"] = w => w.WriteNumber("rms_norm_eps", ShortestDouble(c.RmsNormEps)),
            ["rope_scaling"] = w => w.WriteNull("rope_scaling"),
            ["rope_theta"] = w => w.WriteNumber("rope_theta", ShortestDouble(c.RopeTheta)),
            ["tie_word_embeddings"] = w => w.WriteBoolean("tie_word_embeddings", c.TieWordEmbeddings),
            ["torch_dtype"] = w => w.WriteString("torch_dtype", TorchDtype ?? "float32"),
            ["use_cache"] = w => w.WriteBoolean("use_cache", true),
            ["vocab_size"] = w => w.WriteNumber("vocab_size", c.VocabSize),
        };
        if ((Quantization != null ? 1 : 0) + (Int8Quantization != null ? 1 : 0) + (PackQuantized != null ? 1 : 0) > 1)
            throw new InvalidOperationException($"{path}: a checkpoint has one quantization_config");
        if (PackQuantized != null)
            keys["quantization_config"] = w =>
            {
                w.WritePropertyName("quantization_config");
                PackQuantized.WriteJson(w);
            };
        if (Quantization != null)
            keys["quantization_config"] = w =>
            {
                w.WritePropertyName("quantization_config");
                Quantization.WriteJson(w);
            };
        if (Int8Quantization != null)
            keys["quantization_config"] = w =>
            {
                w.WritePropertyName("quantization_config");
                Int8Quantization.WriteJson(w);
            };
        c.Family.WriteHfConfig(keys, c);
        WriteJsonFile(path, w =>
        {
            w.WriteStartObject();
            foreach (var write in keys.Values) write(w);
            w.WriteEndObject();
        });
    }

    /// <summary>generation_config.json as transformers derives it from the model config.</summary>
    public void WriteGenerationConfig(string path) => WriteJsonFile(path, w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("_from_model_config", true);
        w.WriteNumber("bos_token_id", Llama.BosTokenId);
        WriteIds(w, "eos_token_id", EosTokenIds.Count > 0 ? EosTokenIds : [Llama.EosTokenId]);
        w.WriteEndObject();
    });

    /// <summary>The torch dtype name of a stored type.</summary>
    public static string TorchDtypeName(TensorDType t) => t switch
    {
        TensorDType.F32 => "float32",
        TensorDType.F16 => "float16",
        TensorDType.BF16 => "bfloat16",
        _ => throw new ArgumentException($"{t} is not a float type HF checkpoints use", nameof(t)),
    };

    private static void WriteIds(Utf8JsonWriter w, string key, IReadOnlyList<int> ids)
    {
        if (ids.Count == 1)
        {
            w.WriteNumber(key, ids[0]);
            return;
        }
        w.WriteStartArray(key);
        foreach (var id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
    }

    /// <summary>1e-5f is written as 1E-05, not 9.99999974737875E-06 (Python reads back the same float32).</summary>
    private static double ShortestDouble(float f) => double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    internal static void WriteJsonFile(string path, Action<Utf8JsonWriter> write)
    {
        var temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                write(w);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static JsonDocument ParseJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        return StrictJson.Parse(File.ReadAllBytes(path), path, new JsonDocumentOptions { AllowTrailingCommas = true });
    }
}
