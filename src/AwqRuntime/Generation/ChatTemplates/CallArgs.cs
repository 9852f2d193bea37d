namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>Evaluated call arguments, with Python-style lookup of "argument at position or by name".</summary>
internal sealed class CallArgs(List<object?> positional, List<(string Name, object? Value)> keywords, string callee)
{
    public static CallArgs Empty(string callee) => new([], [], callee);

    public List<object?> Positional { get; } = positional;
    public List<(string Name, object? Value)> Keywords { get; } = keywords;
    public string Callee { get; } = callee;

    public bool Has(int index, string name) => index < Positional.Count || Keywords.Any(k => k.Name == name);

    public object? Get(int index, string name, object? defaultValue = null)
    {
        var hasKeyword = false;
        object? keyword = null;
        foreach (var (n, v) in Keywords)
            if (n == name) { hasKeyword = true; keyword = v; }
        if (index < Positional.Count)
        {
            if (hasKeyword) throw new TemplateError($"{Callee} got multiple values for argument '{name}'");
            return Positional[index];
        }
        return hasKeyword ? keyword : defaultValue;
    }

    /// <summary>Fails on more positional arguments than <paramref name="maxPositional"/> or unknown keywords.</summary>
    public CallArgs Check(int maxPositional, params string[] keywordNames)
    {
        if (Positional.Count > maxPositional)
            throw new TemplateError($"{Callee} takes at most {maxPositional} argument{(maxPositional == 1 ? "" : "s")} ({Positional.Count} given)");
        foreach (var (n, _) in Keywords)
            if (!keywordNames.Contains(n)) throw new TemplateError($"{Callee} got an unexpected keyword argument '{n}'");
        return this;
    }
}
