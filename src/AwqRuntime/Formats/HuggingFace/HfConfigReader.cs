using System.Text.Json;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>
/// Typed access to config.json keys: a key of the wrong type is an error naming the file and the
/// key; null or absent means "transformers' default" (the callers supply it).
/// </summary>
internal readonly struct HfConfigReader(JsonElement root, string path)
{
    public string Path => path;

    public JsonElement Root => root;

    public JsonElement? Get(string key) =>
        root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public InvalidDataException Bad(string key, string expected, JsonElement v) =>
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

    /// <summary>A nested object (rope_scaling), read with the same rules and errors naming "outer.key".</summary>
    public HfConfigReader? Object(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.Object ? new HfConfigReader(v, $"{path}: {key}") : throw Bad(key, "an object", v)
        : null;

    public static string Compact(JsonElement e)
    {
        var s = e.GetRawText();
        return s.Length > 120 ? s[..120] + "…" : s;
    }
}
