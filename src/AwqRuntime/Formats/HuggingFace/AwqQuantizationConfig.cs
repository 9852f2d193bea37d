using System.Text.Json;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// config.json's quantization_config for AWQ as AutoAWQ writes it (AwqConfig.to_transformers_dict:
/// quant_method "awq", bits, group_size, zero_point, version "gemm"/"gemv"/..., modules_to_not_convert),
/// also read from TheBloke-era quant_config.json ({w_bit, q_group_size, zero_point, version}).
/// Sources: AutoAWQ awq/models/base.py (save_quantized) and transformers' utils/quantization_config.py AwqConfig.
/// </summary>
public sealed record AwqQuantizationConfig
{
    public int Bits { get; init; } = 4;
    public int GroupSize { get; init; } = 128;
    public bool ZeroPoint { get; init; } = true;

    /// <summary>Lower-case packing version: "gemm", "gemv", "exllama", "ipex", ...</summary>
    public string Version { get; init; } = "gemm";

    /// <summary>
    /// AwqRuntime's layout extension for shapes AutoAWQ's GEMM layout cannot express (null when the
    /// checkpoint is plain AutoAWQ): <see cref="CeilGroupsExtension"/> means in_features need not be a
    /// multiple of group_size (qzeros/scales have ceil(in/G) rows, the last group is shorter) and
    /// out_features need not be a multiple of 8 (qweight/qzeros have ceil(out/8) columns, padding
    /// nibbles are 0; scales keep the true out_features).
    /// </summary>
    public string? LayoutExtension { get; init; }

    public const string CeilGroupsExtension = "awqruntime.ceil_groups.v1";

    /// <summary>Module names (or name fragments) left unquantized; empty when none.</summary>
    public IReadOnlyList<string> ModulesToNotConvert { get; init; } = [];

    /// <summary>Parses an AWQ quantization_config object; other quant methods are rejected by name.</summary>
    public static AwqQuantizationConfig Parse(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: quantization_config is not a JSON object");
        var method = "awq";
        if (e.TryGetProperty("quant_method", out var m) && m.ValueKind != JsonValueKind.Null)
            method = m.ValueKind == JsonValueKind.String ? m.GetString()!
                : throw new InvalidDataException($"{source}: quantization_config.quant_method must be a string such as \"awq\" (got {m.GetRawText()})");
        if (!method.Equals("awq", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{source}: quantization method '{method}' is not supported (only AWQ checkpoints can be loaded)");
        // transformers' name first, AutoAWQ's quant_config.json name second; when both are present they must agree.
        int Int(string a, string b, int def)
        {
            int? found = null;
            string? foundKey = null;
            foreach (var key in new[] { a, b })
                if (e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null)
                {
                    var i = v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n > 0
                        ? n
                        : throw new InvalidDataException($"{source}: quantization_config.{key} must be a positive integer (got {v.GetRawText()})");
                    if (found is { } f && f != i)
                        throw new InvalidDataException($"{source}: quantization_config.{foundKey} is {f} but quantization_config.{key} is {i}");
                    (found, foundKey) = (i, key);
                }
            return found ?? def;
        }
        var zero = true;
        if (e.TryGetProperty("zero_point", out var z) && z.ValueKind != JsonValueKind.Null)
            zero = z.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new InvalidDataException($"{source}: quantization_config.zero_point must be true or false"),
            };
        var version = "gemm";
        if (e.TryGetProperty("version", out var ver) && ver.ValueKind != JsonValueKind.Null)
            version = ver.ValueKind == JsonValueKind.String ? ver.GetString()!.ToLowerInvariant()
                : throw new InvalidDataException($"{source}: quantization_config.version must be a string");
        var skip = new List<string>();
        if (e.TryGetProperty("modules_to_not_convert", out var mods) && mods.ValueKind != JsonValueKind.Null)
        {
            if (mods.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: quantization_config.modules_to_not_convert must be a list");
            foreach (var x in mods.EnumerateArray())
                skip.Add(x.ValueKind == JsonValueKind.String ? x.GetString()! : throw new InvalidDataException($"{source}: modules_to_not_convert holds a non-string"));
        }
        string? extension = null;
        if (e.TryGetProperty("layout_extension", out var ext) && ext.ValueKind != JsonValueKind.Null)
        {
            extension = ext.ValueKind == JsonValueKind.String ? ext.GetString() : null;
            if (extension != CeilGroupsExtension)
                throw new InvalidDataException($"{source}: quantization_config.layout_extension {ext.GetRawText()} is not known (expected \"{CeilGroupsExtension}\")");
        }
        var cfg = new AwqQuantizationConfig
        {
            LayoutExtension = extension,
            Bits = Int("bits", "w_bit", 4), GroupSize = Int("group_size", "q_group_size", 128),
            ZeroPoint = zero, Version = version, ModulesToNotConvert = skip,
        };
        if (cfg.Bits != 4) throw new InvalidDataException($"{source}: quantization_config.bits is {cfg.Bits}; only 4-bit AWQ is supported (AutoAWQ's GEMM layout; 2-, 3- and 8-bit checkpoints are compressed-tensors pack-quantized)");
        return cfg;
    }

    /// <summary>True when <paramref name="module"/> (e.g. "model.layers.0.mlp.down_proj") is excluded, matching AutoAWQ's substring test.</summary>
    public bool IsExcluded(string module) => ModulesToNotConvert.Any(m => module.Contains(m, StringComparison.Ordinal));

    /// <summary>Writes the object with transformers' keys.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("bits", Bits);
        w.WriteNumber("group_size", GroupSize);
        if (LayoutExtension != null) w.WriteString("layout_extension", LayoutExtension);
        if (ModulesToNotConvert.Count == 0) w.WriteNull("modules_to_not_convert");
        else
        {
            w.WriteStartArray("modules_to_not_convert");
            foreach (var s in ModulesToNotConvert) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        w.WriteString("quant_method", "awq");
        w.WriteString("version", Version);
        w.WriteBoolean("zero_point", ZeroPoint);
        w.WriteEndObject();
    }
}
