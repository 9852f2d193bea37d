namespace AwqRuntime.Generation.ChatTemplates;

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
