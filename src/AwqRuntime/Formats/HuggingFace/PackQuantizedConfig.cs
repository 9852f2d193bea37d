using System.Text.Json;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// config.json's quantization_config for group-wise weights of 2, 3, 4 or 8 bits in compressed-tensors' "pack-quantized"
/// format, what llm-compressor writes for W4A16 / W8A16 and vLLM (4 and 8 bits) and transformers load natively
/// (vllm-project/compressed-tensors: config/base.py CompressionFormat.pack_quantized,
/// compressors/quantized_compressors/pack_quantized.py PackedQuantizationCompressor, quantization/quant_args.py):
/// <code>
/// { "quant_method": "compressed-tensors", "format": "pack-quantized", "quantization_status": "compressed",
///   "config_groups": { "group_0": { "targets": ["Linear"], "input_activations": null, "output_activations": null,
///     "weights": { "num_bits": 4, "type": "int", "symmetric": false, "strategy": "group", "group_size": 128,
///                  "dynamic": false, "observer": "minmax" } } },
///   "ignore": ["lm_head"] }
/// </code>
/// Per quantized linear (<see cref="CompressedTensors.PackQuantizedLayout"/>): weight_packed, weight_scale,
/// weight_zero_point, weight_shape. Only this scheme (asymmetric groups, AWQ's) is accepted, num_bits 2, 3, 4 or 8.
/// A group size that does not divide a linear's input width (compressed-tensors' group strategy has no short last
/// group) is written with AwqRuntime's ceil-groups extension, the one AutoAWQ checkpoints use
/// (<see cref="AwqQuantizationConfig.CeilGroupsExtension"/>), recorded as "layout_extension": weight_scale and
/// weight_zero_point have ceil(in/group_size) columns, the last group is shorter; only AwqRuntime loads it.
/// </summary>
public sealed record PackQuantizedConfig
{
    public const string Format = "pack-quantized";

    public int GroupSize { get; init; } = 128;

    /// <summary>num_bits: 2, 3, 4 or 8.</summary>
    public int Bits { get; init; } = 4;

    /// <summary><see cref="AwqQuantizationConfig.CeilGroupsExtension"/> when a group is cut short; null for the plain layout.</summary>
    public string? LayoutExtension { get; init; }

    /// <summary>Module names left unquantized, exact or "re:" regular expressions; lm_head is always listed.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = ["lm_head"];

    public bool IsExcluded(string module) => CompressedTensorsJson.IsExcluded(Ignore, module);

    /// <summary>True for a compressed-tensors quantization_config whose format is pack-quantized.</summary>
    public static bool IsPackQuantized(JsonElement e) =>
        Int8QuantizationConfig.IsCompressedTensors(e) && e.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String &&
        f.GetString() == Format;

    public static PackQuantizedConfig Parse(JsonElement e, string source)
    {
        var (g, at) = CompressedTensorsJson.SingleLinearGroup(e, source);
        foreach (var key in new[] { "input_activations", "output_activations" })
            if (g.TryGetProperty(key, out var act) && act.ValueKind != JsonValueKind.Null)
                throw new InvalidDataException($"{source}: {at}.{key} must be null for pack-quantized weights (weight-only)");
        if (!g.TryGetProperty("weights", out var w) || w.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: {at}.weights must be an object");
        var where = $"{at}.weights";
        void Expect(string field, Func<JsonElement, bool> ok, string expected)
        {
            if (!w.TryGetProperty(field, out var v) || !ok(v))
                throw new InvalidDataException($"{source}: {where}.{field} must be {expected} (got {(w.TryGetProperty(field, out var got) ? got.GetRawText() : "nothing")})");
        }
        Expect("num_bits", v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var b) && b is 2 or 3 or 4 or 8, "2, 3, 4 or 8");
        Expect("type", v => v.ValueKind == JsonValueKind.String && v.GetString() == "int", "\"int\"");
        Expect("symmetric", v => v.ValueKind == JsonValueKind.False, "false (asymmetric groups with zero points, AWQ's scheme)");
        Expect("strategy", v => v.ValueKind == JsonValueKind.String && v.GetString() == "group", "\"group\"");
        Expect("group_size", v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n > 0, "a positive integer");
        if (w.TryGetProperty("dynamic", out var dyn) && dyn.ValueKind != JsonValueKind.False)
            throw new InvalidDataException($"{source}: {where}.dynamic must be false (got {dyn.GetRawText()})");
        if (w.TryGetProperty("actorder", out var ao) && ao.ValueKind is not (JsonValueKind.Null or JsonValueKind.False))
            throw new InvalidDataException($"{source}: {where}.actorder {ao.GetRawText()} is not supported (its g_idx reorders groups)");
        var ignore = CompressedTensorsJson.Ignore(e, source);
        string? extension = null;
        if (e.TryGetProperty("layout_extension", out var ext) && ext.ValueKind != JsonValueKind.Null)
            extension = ext.ValueKind == JsonValueKind.String && ext.GetString() == AwqQuantizationConfig.CeilGroupsExtension
                ? ext.GetString()
                : throw new InvalidDataException($"{source}: quantization_config.layout_extension must be \"{AwqQuantizationConfig.CeilGroupsExtension}\" (got {ext.GetRawText()})");
        return new PackQuantizedConfig
        {
            GroupSize = w.GetProperty("group_size").GetInt32(), Bits = w.GetProperty("num_bits").GetInt32(), Ignore = ignore, LayoutExtension = extension,
        };
    }

    /// <summary>Writes the object with compressed-tensors' keys (sorted, as the other quantization configs).</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("config_groups");
        w.WriteStartObject("group_0");
        w.WriteNull("input_activations");
        w.WriteNull("output_activations");
        w.WriteStartArray("targets");
        w.WriteStringValue("Linear");
        w.WriteEndArray();
        w.WriteStartObject("weights");
        w.WriteNull("actorder");
        w.WriteBoolean("dynamic", false);
        w.WriteNumber("group_size", GroupSize);
        w.WriteNumber("num_bits", Bits);
        w.WriteString("observer", "minmax");
        w.WriteString("strategy", "group");
        w.WriteBoolean("symmetric", false);
        w.WriteString("type", "int");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("format", Format);
        w.WriteStartArray("ignore");
        foreach (var s in Ignore) w.WriteStringValue(s);
        w.WriteEndArray();
        if (LayoutExtension != null) w.WriteString("layout_extension", LayoutExtension);
        w.WriteString("quant_method", Int8QuantizationConfig.QuantMethod);
        w.WriteString("quantization_status", "compressed");
        w.WriteEndObject();
    }
}
