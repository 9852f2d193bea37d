namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// The tests of <c>value is [not] name(args)</c>: all of Jinja's built-ins (pallets/jinja
/// src/jinja2/tests.py). Python's types decide: bool counts as a number but not as an integer, and
/// strings are iterable sequences.
/// </summary>
internal static class TestFunctions
{
    private delegate bool Test(Renderer renderer, object? value, CallArgs args);

    private static readonly Dictionary<string, Test> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (_, v, a) => { a.Check(0); return v is not Undefined; },
        ["undefined"] = (_, v, a) => { a.Check(0); return v is Undefined; },
        ["none"] = (_, v, a) => { a.Check(0); return v is null; },
        ["boolean"] = (_, v, a) => { a.Check(0); return v is bool; },
        ["true"] = (_, v, a) => { a.Check(0); return v is true; },
        ["false"] = (_, v, a) => { a.Check(0); return v is false; },
        ["integer"] = (_, v, a) => { a.Check(0); return v is long; },
        ["float"] = (_, v, a) => { a.Check(0); return v is double; },
        ["number"] = (_, v, a) => { a.Check(0); return PyOps.IsNumber(v); },
        ["string"] = (_, v, a) => { a.Check(0); return v is string; },
        ["mapping"] = (_, v, a) => { a.Check(0); return v is DictValue; },
        ["iterable"] = (_, v, a) => { a.Check(0); return PyOps.IsIterable(v); },
        ["sequence"] = (_, v, a) => { a.Check(0); return v is string or List<object?> or object?[] or DictValue or Undefined; },
        ["callable"] = (_, v, a) => { a.Check(0); return v is ICallable; },
        ["escaped"] = (_, _, a) => { a.Check(0); return false; },
        ["sameas"] = (_, v, a) =>
        {
            var other = a.Check(1).Get(0, "other");
            return v is null || v is bool ? PyOps.Equal(v, other) && other?.GetType() == v?.GetType() : ReferenceEquals(v, other);
        },
        ["odd"] = (_, v, a) => { a.Check(0); return PyOps.AsLong(v) % 2 != 0; },
        ["even"] = (_, v, a) => { a.Check(0); return PyOps.AsLong(v) % 2 == 0; },
        ["divisibleby"] = (_, v, a) =>
        {
            var n = PyOps.AsLong(a.Check(1).Get(0, "num"));
            if (n == 0) throw new TemplateError("integer division or modulo by zero");
            return PyOps.AsLong(v) % n == 0;
        },
        ["eq"] = Eq, ["equalto"] = Eq, ["=="] = Eq,
        ["ne"] = (_, v, a) => !PyOps.Equal(v, a.Check(1).Get(0, "other")), ["!="] = (_, v, a) => !PyOps.Equal(v, a.Check(1).Get(0, "other")),
        ["lt"] = Lt, ["lessthan"] = Lt, ["<"] = Lt,
        ["le"] = (_, v, a) => PyOps.Compare(v, a.Check(1).Get(0, "other"), "<=") <= 0,
        ["<="] = (_, v, a) => PyOps.Compare(v, a.Check(1).Get(0, "other"), "<=") <= 0,
        ["gt"] = Gt, ["greaterthan"] = Gt, [">"] = Gt,
        ["ge"] = (_, v, a) => PyOps.Compare(v, a.Check(1).Get(0, "other"), ">=") >= 0,
        [">="] = (_, v, a) => PyOps.Compare(v, a.Check(1).Get(0, "other"), ">=") >= 0,
        ["in"] = (_, v, a) => PyOps.Contains(a.Check(1).Get(0, "seq"), v),
        ["lower"] = (_, v, a) => { a.Check(0); return v is string s && s.Any(char.IsLetter) && !s.Any(char.IsUpper); },
        ["upper"] = (_, v, a) => { a.Check(0); return v is string s && s.Any(char.IsLetter) && !s.Any(char.IsLower); },
        ["filter"] = (_, v, a) => { a.Check(0); return v is string s && Filters.IsSupported(s); },
        ["test"] = (_, v, a) => { a.Check(0); return v is string s && IsSupported(s); },
    };

    public static bool IsSupported(string name) => Table.ContainsKey(name);

    public static bool Apply(Renderer renderer, string name, object? value, CallArgs args) =>
        Table.TryGetValue(name, out var test) ? test(renderer, value, args) : throw new TemplateError($"unknown test '{name}'");

    private static bool Eq(Renderer _, object? v, CallArgs a) => PyOps.Equal(v, a.Check(1).Get(0, "other"));

    private static bool Lt(Renderer _, object? v, CallArgs a) => PyOps.Compare(v, a.Check(1).Get(0, "other")) < 0;

    private static bool Gt(Renderer _, object? v, CallArgs a) => PyOps.Compare(v, a.Check(1).Get(0, "other"), ">") > 0;
}
