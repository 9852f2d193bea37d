using System.Text;
using System.Text.Json;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// One message of a conversation in OpenAI's chat format. <see cref="Content"/> is the text (null
/// for an assistant turn that only calls tools); the other fields of the JSON object (tool_calls,
/// tool_call_id, name, reasoning_content, …) travel in <see cref="Extra"/> and reach the template
/// unchanged.
/// </summary>
public sealed record ChatMessage(string Role, string? Content)
{
    private static readonly IReadOnlyDictionary<string, JsonElement> NoExtra = new Dictionary<string, JsonElement>();

    public IReadOnlyDictionary<string, JsonElement> Extra { get; init; } = NoExtra;

    public static ChatMessage System(string content) => new("system", content);

    public static ChatMessage User(string content) => new("user", content);

    public static ChatMessage Assistant(string content) => new("assistant", content);

    /// <summary>
    /// Messages from JSON text: an array of {role, content, …} objects, or an object with a "messages"
    /// array (an OpenAI request body). Content may be a string, null, or a list of parts of which only
    /// {"type": "text", "text": …} is accepted; several text parts are joined with "\n" (what vLLM does,
    /// vllm/entrypoints/chat_utils.py). Errors name <paramref name="source"/> and the failing message.
    /// </summary>
    public static IReadOnlyList<ChatMessage> ListFromJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({OneLine(e.Message)})", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("messages", out var inner)) root = inner;
            if (root.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{source}: expected a JSON array of messages (or an object with \"messages\"), found {root.ValueKind}");
            var list = new List<ChatMessage>();
            var i = 0;
            foreach (var m in root.EnumerateArray()) list.Add(FromJson(m, $"{source}: message {i++}"));
            return list;
        }
    }

    /// <summary>One message object; <paramref name="where"/> prefixes errors.</summary>
    public static ChatMessage FromJson(JsonElement message, string where)
    {
        if (message.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected an object, found {message.ValueKind}");
        if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: needs a \"role\" string");
        string? content = null;
        if (message.TryGetProperty("content", out var c))
        {
            content = c.ValueKind switch
            {
                JsonValueKind.String => c.GetString(),
                JsonValueKind.Null => null,
                JsonValueKind.Array => FlattenParts(c, where),
                _ => throw new InvalidDataException($"{where}: \"content\" must be a string, null or a list of text parts, not {c.ValueKind}"),
            };
        }
        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in message.EnumerateObject())
            if (p.Name is not ("role" or "content")) extra[p.Name] = p.Value.Clone();
        return new ChatMessage(role.GetString()!, content) { Extra = extra };
    }

    private static string FlattenParts(JsonElement parts, string where)
    {
        var sb = new StringBuilder();
        var i = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var at = $"{where}: content part {i}";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{at}: expected an object with a \"type\"");
            if (type.GetString() != "text")
                throw new InvalidDataException($"{at}: only \"text\" parts are supported, not \"{type.GetString()}\"");
            if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{at}: a text part needs a \"text\" string");
            if (i++ > 0) sb.Append('\n');
            sb.Append(text.GetString());
        }
        return sb.ToString();
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
