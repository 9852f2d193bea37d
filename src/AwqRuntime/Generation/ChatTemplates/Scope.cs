namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>Variables of one scope, falling back to the enclosing ones; a missing name is Undefined.</summary>
internal sealed class Scope(Scope? parent = null)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public object? Lookup(string name)
    {
        for (var s = this; s != null; s = s.Parent)
            if (s._vars.TryGetValue(name, out var v)) return v;
        return Undefined.Named(name);
    }

    public void Set(string name, object? value) => _vars[name] = value;

    public Scope? Parent { get; } = parent;
}
