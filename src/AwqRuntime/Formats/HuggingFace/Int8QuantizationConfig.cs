using System.Text.Json;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// config.json's quantization_config for W8A8 INT8 checkpoints, in compressed-tensors' vocabulary
/// (neuralmagic/compressed-tensors: quantization/quant_config.py QuantizationConfig, quant_args.py
/// QuantizationArgs; format "int-quantized", compressors/quantized_compressors/int_quantized.py):
/// <code>
/// { "quant_method": "compressed-tensors", "format": "int-quantized", "quantization_status": "compressed",
///   "config_groups": { "group_0": { "targets": ["Linear"],
///     "weights": { "num_bits": 8, "type": "int", "symmetric": true, "strategy": "channel", "dynamic": false },
///     "input_activations": { "num_bits": 8, "type": "int", "symmetric": false, "strategy": "token", "dynamic": true } } },
///   "ignore": ["lm_head"] }
/// </code>
/// Per quantized linear the checkpoint stores weight (I8 [out, in], −127..127) and weight_scale
/// (F32 [out, 1]; compressed-tensors stores it in the model dtype, F32 here so a scale survives
/// the round trip bit for bit). Dynamic activations ("strategy": "token", "dynamic": true) are
/// quantized per row at run time, asymmetric min/max. Static activations ("strategy": "tensor",
/// "dynamic": false, "observer": "minmax" | "percentile" | "mse") add per linear input_scale (F32 [1])
/// and input_zero_point (I8 [1], compressed-tensors' signed convention: the kernel's UINT8 zero − 128,
/// so (x_i8 − z_i8)·s = (x_u8 − z_u8)·s). Only these two schemes are accepted.
/// </summary>
public sealed record Int8QuantizationConfig
{
    public const string QuantMethod = "compressed-tensors";
    public const string Format = "int-quantized";

    /// <summary>
    /// Module names left unquantized: exact names, or compressed-tensors' "re:" regular expressions
    /// (e.g. "re:.*down_proj$"). lm_head is always listed.
    /// </summary>
    public IReadOnlyList<string> Ignore { get; init; } = ["lm_head"];

    /// <summary>True for static activations (input_scale / input_zero_point stored per linear), false for dynamic per-token.</summary>
    public bool StaticActivations { get; init; }

    /// <summary>The observer that chose the static ranges ("minmax", "percentile", "mse"); null for dynamic.</summary>
    public string? Observer { get; init; }

    /// <summary>"re:.*&lt;kind&gt;$" per linear kind kept in fp16 (AwqConfig.ModulesToNotConvert).</summary>
    public static IReadOnlyList<string> IgnoreFor(IEnumerable<string> kinds) => ["lm_head", .. kinds.Select(k => $"re:.*{k}$")];

    /// <summary>True when <paramref name="module"/> (e.g. "model.layers.0.mlp.down_proj") matches an ignore entry.</summary>
    public bool IsExcluded(string module) => CompressedTensorsJson.IsExcluded(Ignore, module);

    public static bool IsCompressedTensors(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("quant_method", out var m) && m.ValueKind == JsonValueKind.String &&
        m.GetString()!.Equals(QuantMethod, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses a compressed-tensors quantization_config; any scheme but the one above is rejected naming the field.</summary>
    public static Int8QuantizationConfig Parse(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: quantization_config is not a JSON object");
        string Str(JsonElement o, string key, string where)
        {
            if (!o.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{source}: {where}.{key} must be a string");
            return v.GetString()!;
        }
        var format = Str(e, "format", "quantization_config");
        if (format != Format) throw new InvalidDataException($"{source}: quantization_config.format '{format}' is not supported (only \"{Format}\")");
        var (g, at) = CompressedTensorsJson.SingleLinearGroup(e, source);
        ExpectArgs(g, "weights", source, at, symmetric: true, strategy: "channel", dynamic: false);
        var isStatic = g.TryGetProperty("input_activations", out var ia) && ia.ValueKind == JsonValueKind.Object &&
                       ia.TryGetProperty("dynamic", out var dyn) && dyn.ValueKind == JsonValueKind.False;
        ExpectArgs(g, "input_activations", source, at, symmetric: false, strategy: isStatic ? "tensor" : "token", dynamic: !isStatic);
        string? observer = null;
        if (isStatic && ia.TryGetProperty("observer", out var ob) && ob.ValueKind != JsonValueKind.Null)
            observer = ob.ValueKind == JsonValueKind.String ? ob.GetString() : throw new InvalidDataException($"{source}: {at}.input_activations.observer must be a string");
        var ignore = CompressedTensorsJson.Ignore(e, source);
        return new Int8QuantizationConfig { Ignore = ignore, StaticActivations = isStatic, Observer = observer };
    }

    private static void ExpectArgs(JsonElement group, string key, string source, string at, bool symmetric, string strategy, bool dynamic)
    {
        var where = $"{at}.{key}";
        if (!group.TryGetProperty(key, out var a) || a.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: {where} must be an object");
        void Expect(string field, Func<JsonElement, bool> ok, string expected)
        {
            if (!a.TryGetProperty(field, out var v) || !ok(v))
                throw new InvalidDataException($"{source}: {where}.{field} must be {expected} (got {(a.TryGetProperty(field, out var got) ? got.GetRawText() : "nothing")})");
        }
        Expect("num_bits", v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var b) && b == 8, "8");
        Expect("type", v => v.ValueKind == JsonValueKind.String && v.GetString() == "int", "\"int\"");
        Expect("symmetric", v => v.ValueKind == (symmetric ? JsonValueKind.True : JsonValueKind.False), symmetric ? "true" : "false");
        Expect("strategy", v => v.ValueKind == JsonValueKind.String && v.GetString() == strategy, $"\"{strategy}\"");
        Expect("dynamic", v => v.ValueKind == (dynamic ? JsonValueKind.True : JsonValueKind.False), dynamic ? "true" : "false");
    }

    /// <summary>Writes the object with compressed-tensors' keys (sorted).</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("config_groups");
        w.WriteStartObject("group_0");
        WriteArgs(w, "input_activations", symmetric: false, strategy: StaticActivations ? "tensor" : "token", dynamic: !StaticActivations,
            StaticActivations ? Observer ?? "minmax" : null);
        w.WriteStartArray("targets");
        w.WriteStringValue("Linear");
        w.WriteEndArray();
        WriteArgs(w, "weights", symmetric: true, strategy: "channel", dynamic: false);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("format", Format);
        w.WriteStartArray("ignore");
        foreach (var s in Ignore) w.WriteStringValue(s);
        w.WriteEndArray();
        w.WriteString("quant_method", QuantMethod);
        w.WriteString("quantization_status", "compressed");
        w.WriteEndObject();
    }

    private static void WriteArgs(Utf8JsonWriter w, string key, bool symmetric, string strategy, bool dynamic, string? observer = null)
    {
        w.WriteStartObject(key);
        w.WriteBoolean("dynamic", dynamic);
        w.WriteNumber("num_bits", 8);
        if (observer != null) w.WriteString("observer", observer);
        w.WriteString("strategy", strategy);
        w.WriteBoolean("symmetric", symmetric);
        w.WriteString("type", "int");
        w.WriteEndObject();
    }
}
