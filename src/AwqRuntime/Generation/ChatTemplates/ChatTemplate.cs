namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// A Hugging Face chat template (Jinja2) parsed once and rendered as transformers'
/// apply_chat_template(tokenize=False) renders it. The interpreter covers what chat templates use
/// (for/if/set/macro/call/filter/with blocks, namespace(), loop.*, filters, tests, string and dict
/// methods, raise_exception, strftime_now) with Jinja's semantics; a construct outside that subset is
/// a <see cref="ChatTemplateException"/> naming it, raised by <see cref="Parse"/> where possible.
/// </summary>
public sealed class ChatTemplate
{
    private readonly IReadOnlyList<Stmt> _body;

    private ChatTemplate(string source, IReadOnlyList<Stmt> body, string? name)
    {
        Source = source;
        _body = body;
        Name = name;
    }

    public string Source { get; }

    /// <summary>The built-in name (see <see cref="BuiltInTemplates"/>) when it is one, else null.</summary>
    public string? Name { get; }

    /// <summary>Parses <paramref name="source"/>; syntax errors and unsupported tags, filters and tests throw here.</summary>
    public static ChatTemplate Parse(string source) => Parse(source, null);

    internal static ChatTemplate Parse(string source, string? name)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, Parser.Parse(source), name);
    }

    /// <summary>
    /// Renders <paramref name="messages"/>. <see cref="ChatTemplateRaisedException"/> when the template
    /// rejects the conversation with raise_exception; <see cref="ChatTemplateException"/> for other errors.
    /// </summary>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        options ??= new ChatTemplateOptions();
        return RenderValues(Variables(messages, options), options.Now);
    }

    /// <summary>The variables transformers renders with: messages, add_generation_prompt, tools, documents, special tokens, extras.</summary>
    internal static Dictionary<string, object?> Variables(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(options);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages.Select(TemplateValues.FromMessage).Cast<object?>().ToList(),
            ["add_generation_prompt"] = options.AddGenerationPrompt,
            ["tools"] = options.Tools is { } tools ? TemplateValues.FromJson(tools) : null,
            ["documents"] = null,
        };
        if (options.BosToken != null) variables["bos_token"] = options.BosToken;
        if (options.EosToken != null) variables["eos_token"] = options.EosToken;
        if (options.Variables != null)
            foreach (var (k, v) in options.Variables) variables[k] = TemplateValues.From(v);
        return variables;
    }

    /// <summary>Renders with template values as they are (messages and tools already converted).</summary>
    internal string RenderValues(IReadOnlyDictionary<string, object?> variables, DateTime? now)
    {
        var scope = new Scope(Globals.Create());
        foreach (var (k, v) in variables) scope.Set(k, v);
        return new Renderer(now).Render(_body, scope);
    }

    /// <summary>
    /// A built-in template by name, or the template in a file: a .json file is read as a Hugging Face
    /// tokenizer_config.json (its "chat_template", a string or the "default" of a named list), anything
    /// else as Jinja source.
    /// </summary>
    public static ChatTemplate FromNameOrFile(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        if (BuiltInTemplates.TryGet(nameOrPath, out var builtIn)) return builtIn;
        if (!File.Exists(nameOrPath))
            throw new FileNotFoundException(
                $"'{nameOrPath}' is neither a built-in chat template ({string.Join(", ", BuiltInTemplates.Names)}) nor a file", nameOrPath);
        if (Path.GetExtension(nameOrPath).Equals(".json", StringComparison.OrdinalIgnoreCase))
        {
            return Parse(TemplateFromConfig(nameOrPath));
        }
        return Parse(File.ReadAllText(nameOrPath));
    }

    /// <summary>tokenizer_config.json's chat_template: a string, or a list of {name, template} (the "default" one, else the first).</summary>
    private static string TemplateFromConfig(string path)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("chat_template", out var t))
                throw new InvalidDataException($"{path}: has no \"chat_template\"");
            if (t.ValueKind == System.Text.Json.JsonValueKind.String) return t.GetString()!;
            if (t.ValueKind == System.Text.Json.JsonValueKind.Array)
            {
                string? first = null;
                foreach (var item in t.EnumerateArray())
                {
                    if (item.ValueKind != System.Text.Json.JsonValueKind.Object || !item.TryGetProperty("template", out var text)
                        || text.ValueKind != System.Text.Json.JsonValueKind.String) continue;
                    if (item.TryGetProperty("name", out var name) && name.ValueKind == System.Text.Json.JsonValueKind.String && name.GetString() == "default")
                        return text.GetString()!;
                    first ??= text.GetString();
                }
                if (first != null) return first;
            }
            throw new InvalidDataException($"{path}: \"chat_template\" is neither a string nor a list of {{name, template}}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }
}
