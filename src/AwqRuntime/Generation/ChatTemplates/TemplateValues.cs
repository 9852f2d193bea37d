using System.Collections;
using System.Text.Json;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>Converts .NET and JSON values into template values (dicts keep the JSON key order).</summary>
internal static class TemplateValues
{
    public static object? From(object? value) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int i => (long)i,
        short s => (long)s,
        float f => (double)f,
        decimal m => (double)m,
        JsonElement e => FromJson(e),
        ChatMessage m => FromMessage(m),
        IDictionary<string, object?> d => ToDict(d.Select(kv => (kv.Key, kv.Value))),
        IReadOnlyDictionary<string, object?> d => ToDict(d.Select(kv => (kv.Key, kv.Value))),
        IEnumerable e => e.Cast<object?>().Select(From).ToList(),
        _ => throw new ArgumentException($"a template variable cannot be a {value.GetType().Name}"),
    };

    private static DictValue ToDict(IEnumerable<(string Key, object? Value)> pairs)
    {
        var d = new DictValue();
        foreach (var (k, v) in pairs) d[k] = From(v);
        return d;
    }

    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) && !e.GetRawText().Contains('.') && !e.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase)
            ? (object)l : e.GetDouble(),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => ToDict(e.EnumerateObject().Select(p => (p.Name, (object?)p.Value))),
        _ => null,
    };

    /// <summary>A message as the template sees it: {"role": …, "content": …, then the extra fields}.</summary>
    public static DictValue FromMessage(ChatMessage m)
    {
        var d = new DictValue { ["role"] = m.Role, ["content"] = m.Content };
        foreach (var (k, v) in m.Extra) d[k] = FromJson(v);
        return d;
    }
}
