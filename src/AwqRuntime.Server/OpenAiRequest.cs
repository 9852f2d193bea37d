using System.Text.Json;
using AwqRuntime.Generation;

namespace AwqRuntime.Server;

/// <summary>
/// The fields of a /v1/completions or /v1/chat/completions body, checked one by one (wrong type, out
/// of range or unsupported → 400 naming the field, as OpenAI's API does), mapped to our generation options.
/// </summary>
internal sealed record OpenAiRequest
{
    public string? Model { get; init; }
    public string? Prompt { get; init; }

    /// <summary>The prompt given as token ids (OpenAI accepts a list of integers), or null.</summary>
    public int[]? PromptTokens { get; init; }
    public IReadOnlyList<ChatTurn>? Messages { get; init; }
    public required GenerationOptions Options { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }

    public static OpenAiRequest Parse(JsonElement root, bool chat, ServerOptions server)
    {
        if (root.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest("the request body must be a JSON object");
        var model = String(root, "model");
        string? prompt = null;
        int[]? promptTokens = null;
        List<ChatTurn>? messages = null;
        if (chat)
        {
            if (!root.TryGetProperty("messages", out var m) || m.ValueKind != JsonValueKind.Array)
                throw ApiError.BadRequest("'messages' is required and must be an array", "messages");
            messages = [];
            var i = 0;
            foreach (var msg in m.EnumerateArray())
            {
                if (msg.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest($"messages[{i}] must be an object", $"messages[{i}]");
                var role = String(msg, "role", $"messages[{i}].role") ?? throw ApiError.BadRequest($"messages[{i}].role is required", $"messages[{i}].role");
                if (role is not ("system" or "user" or "assistant" or "developer" or "tool"))
                    throw ApiError.BadRequest($"messages[{i}].role '{role}' is not one of system, developer, user, assistant, tool", $"messages[{i}].role");
                messages.Add(new ChatTurn(role == "developer" ? "system" : role, Content(msg, i)));
                i++;
            }
            if (messages.Count == 0) throw ApiError.BadRequest("'messages' must not be empty", "messages");
        }
        else
        {
            if (!root.TryGetProperty("prompt", out var p)) throw ApiError.BadRequest("'prompt' is required", "prompt");
            if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0 && p.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number))
                promptTokens = p.EnumerateArray().Select(x => x.TryGetInt32(out var id) && id >= 0 ? id : throw ApiError.BadRequest("'prompt' token ids must be non-negative integers", "prompt")).ToArray();
            else prompt = p.ValueKind switch
            {
                JsonValueKind.String => Text(p, "prompt"),
                JsonValueKind.Array when p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.String => Text(p[0], "prompt"),
                JsonValueKind.Array => throw ApiError.BadRequest("'prompt' must be a string or a list of one string (batched prompts are not supported)", "prompt"),
                _ => throw ApiError.BadRequest("'prompt' must be a string", "prompt"),
            };
        }

        var n = Int(root, "n");
        if (n is not (null or 1)) throw ApiError.BadRequest("'n' must be 1 (one choice per request)", "n");
        var maxTokensField = Get(root, "max_completion_tokens") != null ? "max_completion_tokens" : "max_tokens";
        var maxTokens = Int(root, maxTokensField);
        if (maxTokens is < 0) throw ApiError.BadRequest($"'{maxTokensField}' must be ≥ 0 (got {maxTokens})", maxTokensField);
        var temperature = Number(root, "temperature");
        if (temperature is < 0 or > 2) throw ApiError.BadRequest($"'temperature' must be in [0, 2] (got {temperature})", "temperature");
        var topP = Number(root, "top_p");
        if (topP is <= 0 or > 1 || (topP is { } tp && (float)tp == 0)) throw ApiError.BadRequest($"'top_p' must be in (0, 1] (got {topP})", "top_p");
        var topK = Int(root, "top_k");
        if (topK is < 0) throw ApiError.BadRequest($"'top_k' must be ≥ 0 (got {topK})", "top_k");
        var minP = Number(root, "min_p");
        if (minP is < 0 or > 1) throw ApiError.BadRequest($"'min_p' must be in [0, 1] (got {minP})", "min_p");
        var presence = Number(root, "presence_penalty");
        if (presence is < -2 or > 2) throw ApiError.BadRequest($"'presence_penalty' must be in [-2, 2] (got {presence})", "presence_penalty");
        var frequency = Number(root, "frequency_penalty");
        if (frequency is < -2 or > 2) throw ApiError.BadRequest($"'frequency_penalty' must be in [-2, 2] (got {frequency})", "frequency_penalty");
        long? seed = root.TryGetProperty("seed", out var sd) && sd.ValueKind != JsonValueKind.Null
            ? sd.ValueKind == JsonValueKind.Number && sd.TryGetInt64(out var sv) ? sv : throw ApiError.BadRequest("'seed' must be an integer", "seed")
            : null;
        var stops = Stops(root);

        bool logprobs;
        var top = 0;
        if (chat)
        {
            logprobs = Bool(root, "logprobs") ?? false;
            top = Int(root, "top_logprobs") ?? 0;
            if (top is < 0 or > 20) throw ApiError.BadRequest($"'top_logprobs' must be in [0, 20] (got {top})", "top_logprobs");
            if (top > 0 && !logprobs) throw ApiError.BadRequest("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        }
        else
        {
            var lp = Int(root, "logprobs");
            if (lp is < 0 or > 5) throw ApiError.BadRequest($"'logprobs' must be in [0, 5] (got {lp})", "logprobs");
            logprobs = lp != null;
            top = lp ?? 0;
        }

        var stream = Bool(root, "stream") ?? false;
        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var so) && so.ValueKind != JsonValueKind.Null)
        {
            if (so.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest("'stream_options' must be an object", "stream_options");
            includeUsage = Bool(so, "include_usage", "stream_options.include_usage") ?? false;
        }

        // OpenAI's defaults: temperature 1, top_p 1, no top-k / min-p.
        var sampling = new SamplingOptions
        {
            Temperature = (float)(temperature ?? 1.0),
            TopP = (float)(topP ?? 1.0),
            TopK = topK ?? 0,
            MinP = (float)(minP ?? 0.0),
            PresencePenalty = (float)(presence ?? 0),
            FrequencyPenalty = (float)(frequency ?? 0),
            Seed = seed is { } s ? unchecked((ulong)s) : (ulong)Random.Shared.NextInt64(),
        };
        return new OpenAiRequest
        {
            Model = model, Prompt = prompt, PromptTokens = promptTokens, Messages = messages, Stream = stream, IncludeUsage = includeUsage,
            Options = new GenerationOptions
            {
                MaxTokens = maxTokens ?? server.DefaultMaxTokens, Sampling = sampling, StopStrings = stops, Logprobs = logprobs, TopLogprobs = top,
                // llama-server's extension: keep generating past the end-of-sequence token (benchmarks).
                StopAtEos = !(Bool(root, "ignore_eos") ?? false),
            },
        };
    }

    private static string Content(JsonElement msg, int i)
    {
        if (!msg.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null) return "";
        if (c.ValueKind == JsonValueKind.String) return Text(c, $"messages[{i}].content");
        if (c.ValueKind != JsonValueKind.Array) throw ApiError.BadRequest($"messages[{i}].content must be a string or a list of parts", $"messages[{i}].content");
        var text = new System.Text.StringBuilder();
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || String(part, "type", $"messages[{i}].content.type") != "text")
                throw ApiError.BadRequest($"messages[{i}].content: only text parts are supported", $"messages[{i}].content");
            text.Append(String(part, "text", $"messages[{i}].content.text") ?? "");
        }
        return text.ToString();
    }

    private static IReadOnlyList<string> Stops(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var s) || s.ValueKind == JsonValueKind.Null) return [];
        if (s.ValueKind == JsonValueKind.String) return Text(s, "stop") is { Length: > 0 } one ? [one] : [];
        if (s.ValueKind != JsonValueKind.Array) throw ApiError.BadRequest("'stop' must be a string or a list of strings", "stop");
        var list = new List<string>();
        foreach (var x in s.EnumerateArray())
            list.Add(x.ValueKind == JsonValueKind.String && Text(x, "stop") is { Length: > 0 } stop ? stop : throw ApiError.BadRequest("'stop' must hold non-empty strings", "stop"));
        if (list.Count > 4) throw ApiError.BadRequest($"'stop' holds {list.Count} sequences; at most 4", "stop");
        return list;
    }

    private static JsonElement? Get(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? String(JsonElement o, string key, string? name = null) => Get(o, key) is { } v
        ? v.ValueKind == JsonValueKind.String ? Text(v, name ?? key) : throw ApiError.BadRequest($"'{name ?? key}' must be a string", name ?? key)
        : null;

    /// <summary>
    /// A JSON string's text; 400 naming <paramref name="name"/> when an escape leaves half a surrogate pair
    /// ("\ud800" alone: RFC 8259 §8.2 allows it in JSON, but it is no Unicode text, RFC 3629 §3).
    /// </summary>
    private static string Text(JsonElement v, string name)
    {
        try
        {
            return v.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw ApiError.BadRequest($"'{name}' holds an unpaired surrogate escape (\\uD800-\\uDFFF without its other half)", name);
        }
    }

    private static bool? Bool(JsonElement o, string key, string? name = null) => Get(o, key) is { } v
        ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw ApiError.BadRequest($"'{name ?? key}' must be true or false", name ?? key) }
        : null;

    private static int? Int(JsonElement o, string key) => Get(o, key) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw ApiError.BadRequest($"'{key}' must be an integer", key)
        : null;

    private static double? Number(JsonElement o, string key) => Get(o, key) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw ApiError.BadRequest($"'{key}' must be a number", key)
        : null;
}
