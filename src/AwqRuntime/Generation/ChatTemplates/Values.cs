namespace AwqRuntime.Generation.ChatTemplates;

// Runtime values. A template value is one of: null (Python None), bool, long (int), double (float),
// string, List<object?> (list), object?[] (tuple), DictValue (dict), Undefined, Namespace,
// LoopContext or ICallable (macros, globals, bound methods). PyOps gives them Python's semantics.

/// <summary>
/// Jinja's default Undefined (what transformers renders with): falsy, prints as "", iterates as empty,
/// has length 0, equals only another Undefined; attribute access, item access, arithmetic, ordering
/// and calls on it fail with <see cref="Description"/>.
/// </summary>
internal sealed class Undefined
{
    private Undefined(string description) => Description = description;

    /// <summary>Jinja's wording: "'x' is undefined" or "'dict object' has no attribute 'y'".</summary>
    public string Description { get; }

    public static Undefined Named(string name) => new($"'{name}' is undefined");

    public static Undefined Missing(object? owner, string attribute) =>
        new($"'{PyOps.TypeName(owner)} object' has no attribute '{attribute}'");

    public static Undefined Because(string description) => new(description);

    public TemplateError Fail() => new(Description);
}

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality (1 == 1.0 == True).</summary>
internal sealed class DictValue() : OrderedDictionary<object, object?>(PyKeyComparer.Instance)
{
    public static object KeyOf(object? key) =>
        key switch
        {
            null => NoneKey.Instance,
            List<object?> or DictValue => throw new TemplateError($"unhashable type: '{PyOps.TypeName(key)}'"),
            Undefined u => throw u.Fail(),
            _ => key,
        };

    public static object? FromKey(object key) => key is NoneKey ? null : key;

    /// <summary>Stands in for a None key (dictionary keys cannot be null).</summary>
    internal sealed class NoneKey
    {
        public static readonly NoneKey Instance = new();
    }
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) =>
        x is DictValue.NoneKey || y is DictValue.NoneKey ? ReferenceEquals(x, y) : PyOps.Equal(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d when double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => ((long)d).GetHashCode(),
        double d => d.GetHashCode(),
        string s => StringComparer.Ordinal.GetHashCode(s),
        object?[] t => t.Aggregate(17, (h, e) => h * 31 + (e is null ? 0 : GetHashCode(DictValue.KeyOf(e)))),
        _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj),
    };
}

/// <summary>The mutable object <c>namespace(...)</c> returns; <c>{% set ns.x = … %}</c> writes to it.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Anything a template can call.</summary>
internal interface ICallable
{
    string Name { get; }

    object? Call(Renderer renderer, CallArgs args);
}

/// <summary>A global function or a bound method implemented in C#.</summary>
internal sealed class BuiltinFunction(string name, Func<Renderer, CallArgs, object?> body) : ICallable
{
    public string Name { get; } = name;

    public object? Call(Renderer renderer, CallArgs args) => body(renderer, args);
}

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

/// <summary>
/// The <c>loop</c> variable of a for loop: index, index0, revindex, revindex0, first, last, length,
/// previtem, nextitem, depth, depth0 and cycle(…), as in Jinja's LoopContext.
/// </summary>
internal sealed class LoopContext(IReadOnlyList<object?> items, int index0)
{
    public int Index0 { get; } = index0;

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Because("there is no previous item"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : Undefined.Because("there is no next item"),
        "cycle" => new BuiltinFunction("loop.cycle", (_, a) =>
            a.Positional.Count == 0 ? throw new TemplateError("loop.cycle needs at least one argument") : a.Positional[Index0 % a.Positional.Count]),
        _ => Undefined.Missing(this, name),
    };
}
