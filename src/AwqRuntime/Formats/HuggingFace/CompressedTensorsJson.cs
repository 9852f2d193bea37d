using System.Text.Json;
using System.Text.RegularExpressions;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// The parts of a compressed-tensors quantization_config every scheme shares (quantization/quant_config.py
/// QuantizationConfig): the one config group over Linear modules, and the ignore list of module names or
/// "re:" regular expressions. Used by <see cref="Int8QuantizationConfig"/> and <see cref="PackQuantizedConfig"/>.
/// </summary>
internal static class CompressedTensorsJson
{
    /// <summary>config_groups' only group, which must target ["Linear"]; <c>At</c> names it for errors.</summary>
    public static (JsonElement Group, string At) SingleLinearGroup(JsonElement e, string source)
    {
        if (!e.TryGetProperty("config_groups", out var groups) || groups.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: quantization_config.config_groups must be an object");
        var list = groups.EnumerateObject().ToList();
        if (list.Count != 1) throw new InvalidDataException($"{source}: quantization_config.config_groups must hold exactly one group (got {list.Count})");
        var g = list[0].Value;
        var at = $"quantization_config.config_groups.{list[0].Name}";
        if (g.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: {at} is not an object");
        if (!g.TryGetProperty("targets", out var targets) || targets.ValueKind != JsonValueKind.Array ||
            targets.GetArrayLength() != 1 || targets[0].ValueKind != JsonValueKind.String || targets[0].GetString() != "Linear")
            throw new InvalidDataException($"{source}: {at}.targets must be [\"Linear\"]");
        return (g, at);
    }

    /// <summary>quantization_config.ignore (absent or null: empty), every "re:" entry a valid regular expression.</summary>
    public static List<string> Ignore(JsonElement e, string source)
    {
        var ignore = new List<string>();
        if (!e.TryGetProperty("ignore", out var ig) || ig.ValueKind == JsonValueKind.Null) return ignore;
        if (ig.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: quantization_config.ignore must be a list");
        foreach (var x in ig.EnumerateArray())
        {
            var name = x.ValueKind == JsonValueKind.String ? x.GetString()! : throw new InvalidDataException($"{source}: quantization_config.ignore holds a non-string");
            if (name.StartsWith("re:", StringComparison.Ordinal))
            {
                try { _ = new Regex(name[3..]); }
                catch (ArgumentException ex) { throw new InvalidDataException($"{source}: quantization_config.ignore entry '{name}' is not a valid regular expression ({ex.Message})"); }
            }
            ignore.Add(name);
        }
        return ignore;
    }

    /// <summary>True when <paramref name="module"/> (e.g. "model.layers.0.mlp.down_proj") matches an entry of <paramref name="ignore"/>.</summary>
    public static bool IsExcluded(IReadOnlyList<string> ignore, string module) => ignore.Any(i => i.StartsWith("re:", StringComparison.Ordinal)
        ? Regex.IsMatch(module, "^(?:" + i[3..] + ")$", RegexOptions.CultureInvariant)
        : module == i);
}
