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
/// Mixed precision: further groups whose targets are "re:" module patterns (compressed-tensors' targets, e.g.
/// <c>["re:.*\.down_proj$"]</c>) give those modules their own num_bits and group_size; a module
/// matched by a pattern takes that group's scheme, the others group_0's ["Linear"] one. A mixed checkpoint of ours
/// has no ["Linear"] group: one group per width, each over the module patterns of the linear kinds that have it
/// (<see cref="ModuleBits"/>), so no module matches two groups and a module no group names is not quantized.
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

    /// <summary>Mixed precision: every quantized linear kind ("down_proj") and its width, written as one config group per width; empty: one width, <see cref="Bits"/>, over every Linear.</summary>
    public IReadOnlyDictionary<string, int> ModuleBits { get; init; } = new Dictionary<string, int>();

    /// <summary>Config groups read with "re:" targets: the modules they match, their num_bits and group_size.</summary>
    public IReadOnlyList<(IReadOnlyList<string> Targets, int Bits, int GroupSize)> PatternGroups { get; init; } = [];

    /// <summary>Whether the file's groups hold more than one weight width.</summary>
    public bool Mixed => PatternGroups.Any(g => g.Bits != Bits) || ModuleBits.Values.Any(b => b != Bits);

    /// <summary>num_bits and group_size of <paramref name="module"/> ("model.layers.0.mlp.down_proj").</summary>
    public (int Bits, int GroupSize) SchemeFor(string module)
    {
        foreach (var (targets, bits, group) in PatternGroups)
            if (CompressedTensorsJson.IsExcluded(targets, module)) return (bits, group);
        foreach (var (kind, bits) in ModuleBits)
            if (module.EndsWith("." + kind, StringComparison.Ordinal)) return (bits, GroupSize);
        return (Bits, GroupSize);
    }

    /// <summary><see cref="AwqQuantizationConfig.CeilGroupsExtension"/> when a group is cut short; null for the plain layout.</summary>
    public string? LayoutExtension { get; init; }

    /// <summary>Module names left unquantized, exact or "re:" regular expressions; lm_head is always listed.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = ["lm_head"];

    public bool IsExcluded(string module) => CompressedTensorsJson.IsExcluded(Ignore, module)
        || (!TargetsLinear && !PatternGroups.Any(g => CompressedTensorsJson.IsExcluded(g.Targets, module)));

    /// <summary>Whether a group targets every Linear; without one, a linear no pattern matches is not quantized.</summary>
    public bool TargetsLinear { get; init; } = true;

    /// <summary>True for a compressed-tensors quantization_config whose format is pack-quantized.</summary>
    public static bool IsPackQuantized(JsonElement e) =>
        Int8QuantizationConfig.IsCompressedTensors(e) && e.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String &&
        f.GetString() == Format;

    public static PackQuantizedConfig Parse(JsonElement e, string source)
    {
        if (!e.TryGetProperty("config_groups", out var groups) || groups.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: quantization_config.config_groups must be an object");
        (int Bits, int GroupSize)? linear = null;
        var patterns = new List<(IReadOnlyList<string> Targets, int Bits, int GroupSize)>();
        foreach (var group in groups.EnumerateObject())
        {
            var at = $"quantization_config.config_groups.{group.Name}";
            var g = group.Value;
            if (g.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: {at} is not an object");
            if (!g.TryGetProperty("targets", out var targets) || targets.ValueKind != JsonValueKind.Array || targets.GetArrayLength() == 0 ||
                targets.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
                throw new InvalidDataException($"{source}: {at}.targets must be a non-empty list of strings");
            var names = targets.EnumerateArray().Select(t => t.GetString()!).ToList();
            var scheme = Weights(g, at, source);
            if (names is ["Linear"])
            {
                if (linear != null) throw new InvalidDataException($"{source}: {at}: two config groups target [\"Linear\"]");
                linear = scheme;
                continue;
            }
            foreach (var name in names)
            {
                if (!name.StartsWith("re:", StringComparison.Ordinal))
                    throw new InvalidDataException($"{source}: {at}.targets entry '{name}' is neither \"Linear\" nor a \"re:\" module pattern");
                try { _ = new System.Text.RegularExpressions.Regex(name[3..]); }
                catch (ArgumentException ex) { throw new InvalidDataException($"{source}: {at}.targets entry '{name}' is not a valid regular expression ({ex.Message})"); }
            }
            patterns.Add((names, scheme.Bits, scheme.GroupSize));
        }
        if (linear == null && patterns.Count == 0) throw new InvalidDataException($"{source}: quantization_config.config_groups is empty");
        var ignore = CompressedTensorsJson.Ignore(e, source);
        string? extension = null;
        if (e.TryGetProperty("layout_extension", out var ext) && ext.ValueKind != JsonValueKind.Null)
            extension = ext.ValueKind == JsonValueKind.String && ext.GetString() == AwqQuantizationConfig.CeilGroupsExtension
                ? ext.GetString()
                : throw new InvalidDataException($"{source}: quantization_config.layout_extension must be \"{AwqQuantizationConfig.CeilGroupsExtension}\" (got {ext.GetRawText()})");
        var main = linear ?? (patterns[0].Bits, patterns[0].GroupSize);
        return new PackQuantizedConfig
        {
            GroupSize = main.GroupSize, Bits = main.Bits, Ignore = ignore, LayoutExtension = extension, PatternGroups = patterns, TargetsLinear = linear != null,
        };
    }

    /// <summary>One group's weights arguments: only AWQ's scheme (asymmetric int groups, static), num_bits 2, 3, 4 or 8.</summary>
    private static (int Bits, int GroupSize) Weights(JsonElement g, string at, string source)
    {
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
        return (w.GetProperty("num_bits").GetInt32(), w.GetProperty("group_size").GetInt32());
    }

    /// <summary>Writes the object with compressed-tensors' keys (sorted, as the other quantization configs).</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("config_groups");
        // one width: group_0 over every Linear; mixed: a group per width (narrowest first) over its kinds' module patterns
        if (ModuleBits.Count == 0) WriteGroup(w, "group_0", ["Linear"], Bits);
        var index = 0;
        foreach (var width in ModuleBits.Values.Distinct().Order())
            WriteGroup(w, $"group_{index++}", ModuleBits.Where(m => m.Value == width).Select(m => m.Key).Order(StringComparer.Ordinal)
                .Select(kind => $"re:.*\\.{kind}$").ToArray(), width);
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

    private void WriteGroup(Utf8JsonWriter w, string name, string[] targets, int bits)
    {
        w.WriteStartObject(name);
        w.WriteNull("input_activations");
        w.WriteNull("output_activations");
        w.WriteStartArray("targets");
        foreach (var t in targets) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartObject("weights");
        w.WriteNull("actorder");
        w.WriteBoolean("dynamic", false);
        w.WriteNumber("group_size", GroupSize);
        w.WriteNumber("num_bits", bits);
        w.WriteString("observer", "minmax");
        w.WriteString("strategy", "group");
        w.WriteBoolean("symmetric", false);
        w.WriteString("type", "int");
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
