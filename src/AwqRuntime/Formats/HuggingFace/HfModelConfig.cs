using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using AwqRuntime.Model;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// A Hugging Face LLaMA config.json: the <see cref="LlamaConfig"/> it describes plus what the config
/// carries beyond it (stored dtype, every eos id, AWQ quantization_config). <see cref="Read"/>
/// accepts model_type "llama" / LlamaForCausalLM with transformers' defaults for absent keys, and
/// rejects what would change the math silently (rope_scaling, attention/mlp bias, a non-SiLU
/// activation) with an error naming the key. <see cref="Write"/> produces what save_pretrained does.
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

    /// <summary>Reads folder/config.json (and quant_config.json when config.json has no quantization_config).</summary>
    public static HfModelConfig ReadFolder(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found (not a Hugging Face model folder?)", path);
        var cfg = Read(path, System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(folder))));
        var legacy = System.IO.Path.Combine(folder, "quant_config.json");
        if (cfg.Quantization == null && File.Exists(legacy))
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
        var r = new Reader(root, path);

        var modelType = r.String("model_type");
        var archs = root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
            : [];
        if (modelType != null ? modelType != "llama" : !archs.Contains("LlamaForCausalLM"))
            throw new InvalidDataException($"{path}: model_type '{modelType ?? "(none)"}' / architectures [{string.Join(", ", archs)}] is not a LLaMA model (model_type \"llama\", LlamaForCausalLM)");

        var ropeTheta = r.Double("rope_theta") ?? 10000.0;
        if (root.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind != JsonValueKind.Null)
            throw new InvalidDataException($"{path}: rope_scaling {Compact(rs)} is not supported (only plain RoPE; rope_scaling must be null)");
        if (root.TryGetProperty("rope_parameters", out var rp) && rp.ValueKind == JsonValueKind.Object)
        {
            // transformers v5 moves rope_theta/rope_scaling into rope_parameters.
            var type = rp.TryGetProperty("rope_type", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString() : "default";
            if (type != "default") throw new InvalidDataException($"{path}: rope_parameters.rope_type '{type}' is not supported (only plain RoPE)");
            if (rp.TryGetProperty("rope_theta", out var th) && th.ValueKind == JsonValueKind.Number) ropeTheta = th.GetDouble();
        }
        if (r.Bool("attention_bias") == true) throw new InvalidDataException($"{path}: attention_bias=true is not supported (LLaMA has no attention biases)");
        if (r.Bool("mlp_bias") == true) throw new InvalidDataException($"{path}: mlp_bias=true is not supported (LLaMA has no MLP biases)");
        var act = r.String("hidden_act");
        if (act != null && act != "silu") throw new InvalidDataException($"{path}: hidden_act '{act}' is not supported (LLaMA uses silu)");

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
            Name = !string.IsNullOrWhiteSpace(name) ? System.IO.Path.GetFileName(name.TrimEnd('/', '\\')) : defaultName ?? "llama",
        };
        if (llama.HeadDim < 0 || r.Int("head_dim") == 0) throw new InvalidDataException($"{path}: head_dim must be positive (got {r.Int("head_dim")})");
        if (bos.Concat(eos).Any(id => id < 0)) throw new InvalidDataException($"{path}: bos/eos token ids must be non-negative");
        llama.Validate(path);
        AwqQuantizationConfig? quant = null;
        if (root.TryGetProperty("quantization_config", out var q) && q.ValueKind != JsonValueKind.Null)
            quant = AwqQuantizationConfig.Parse(q, path);
        return new HfModelConfig
        {
            Llama = llama,
            TorchDtype = r.String("torch_dtype") ?? r.String("dtype"),
            EosTokenIds = eos.Count > 0 ? eos : [llama.EosTokenId],
            Quantization = quant,
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
        WriteJsonFile(path, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue("LlamaForCausalLM");
            w.WriteEndArray();
            w.WriteBoolean("attention_bias", false);
            w.WriteNumber("attention_dropout", 0.0);
            w.WriteNumber("bos_token_id", c.BosTokenId);
            WriteIds(w, "eos_token_id", EosTokenIds.Count > 0 ? EosTokenIds : [c.EosTokenId]);
            w.WriteNumber("head_dim", c.EffectiveHeadDim);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("hidden_size", c.HiddenSize);
            w.WriteNumber("initializer_range", 0.02);
            w.WriteNumber("intermediate_size", c.IntermediateSize);
            w.WriteNumber("max_position_embeddings", c.MaxPositionEmbeddings);
            w.WriteBoolean("mlp_bias", false);
            w.WriteString("model_type", "llama");
            w.WriteNumber("num_attention_heads", c.NumHeads);
            w.WriteNumber("num_hidden_layers", c.NumLayers);
            w.WriteNumber("num_key_value_heads", c.NumKvHeads);
            w.WriteNumber("pretraining_tp", 1);
            if (Quantization != null)
            {
                w.WritePropertyName("quantization_config");
                Quantization.WriteJson(w);
            }
            w.WriteNumber("rms_norm_eps", ShortestDouble(c.RmsNormEps));
            w.WriteNull("rope_scaling");
            w.WriteNumber("rope_theta", ShortestDouble(c.RopeTheta));
            w.WriteBoolean("tie_word_embeddings", c.TieWordEmbeddings);
            w.WriteString("torch_dtype", TorchDtype ?? "float32");
            w.WriteBoolean("use_cache", true);
            w.WriteNumber("vocab_size", c.VocabSize);
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
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})");
        }
    }

    private static string Compact(JsonElement e)
    {
        var s = e.GetRawText();
        return s.Length > 120 ? s[..120] + "…" : s;
    }

    /// <summary>Typed access to config keys; a key of the wrong type is an error naming it, null/absent is "default".</summary>
    private readonly struct Reader(JsonElement root, string path)
    {
        private JsonElement? Get(string key) =>
            root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        private InvalidDataException Bad(string key, string expected, JsonElement v) =>
            new($"{path}: '{key}' must be {expected} (got {Compact(v)})");

        public string? String(string key) => Get(key) is { } v
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad(key, "a string", v)
            : null;

        public bool? Bool(string key) => Get(key) is { } v
            ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Bad(key, "true or false", v) }
            : null;

        public int? Int(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
            // Python writes integral floats as 2048.0 now and then.
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue) return (int)d;
            throw Bad(key, "an integer", v);
        }

        public int RequiredInt(string key) => Int(key) ?? throw new InvalidDataException($"{path}: required key '{key}' is missing");

        public double? Double(string key) => Get(key) is { } v
            ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Bad(key, "a number", v)
            : null;

        /// <summary>An int or a list of ints (bos/eos ids).</summary>
        public List<int> IntList(string key)
        {
            if (Get(key) is not { } v) return [];
            if (v.ValueKind == JsonValueKind.Number) return [Int(key)!.Value];
            if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "an integer or a list of integers", v);
            var list = new List<int>();
            foreach (var x in v.EnumerateArray())
                list.Add(x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out var i) && i >= 0 ? i : throw Bad(key, "a list of non-negative integers", v));
            return list;
        }
    }
}
