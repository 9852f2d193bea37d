namespace AwqRuntime.Generation.ChatTemplates;

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
