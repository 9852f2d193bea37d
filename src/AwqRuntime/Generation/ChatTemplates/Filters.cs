using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// The filters (<c>value | name(args)</c>) chat templates use, with the behaviour of Jinja's built-ins
/// (pallets/jinja src/jinja2/filters.py) and transformers' <c>tojson</c>. Filters Jinja has but this
/// interpreter does not (groupby, format, truncate, …) are rejected when the template is parsed.
/// </summary>
internal static partial class Filters
{
    private delegate object? Filter(Renderer renderer, object? value, CallArgs args);

    private static readonly Dictionary<string, Filter> Table = new(StringComparer.Ordinal)
    {
        ["abs"] = (_, v, a) =>
        {
            a.Check(0);
            return v switch
            {
                bool b => (object)(b ? 1L : 0L),
                long l => (object)Math.Abs(l),
                double d => (object)Math.Abs(d),
                Undefined u => throw u.Fail(),
                _ => throw new TemplateError($"bad operand type for abs(): '{PyOps.TypeName(v)}'"),
            };
        },
        ["attr"] = (_, v, a) => Members.GetAttr(v, Members.AsString(a.Check(1).Get(0, "name"), "attr")),
        ["capitalize"] = (_, v, a) => { a.Check(0); return Members.Capitalize(PyOps.Str(v)); },
        ["center"] = (_, v, a) =>
        {
            var s = PyOps.Str(v);
            var width = (int)PyOps.AsLong(a.Check(1, "width").Get(0, "width", 80L));
            if (width <= s.Length) return s;
            var total = width - s.Length;
            var left = total / 2 + (total & width & 1);
            return new string(' ', left) + s + new string(' ', total - left);
        },
        ["count"] = Length,
        ["default"] = Default,
        ["d"] = Default,
        ["dictsort"] = DictSort,
        ["escape"] = Escape,
        ["e"] = Escape,
        ["forceescape"] = Escape,
        ["first"] = (_, v, a) =>
        {
            a.Check(0);
            var items = PyOps.Iterate(v);
            return items.Count > 0 ? items[0] : Undefined.Because("no first item, the sequence was empty");
        },
        ["last"] = (_, v, a) =>
        {
            a.Check(0);
            var items = PyOps.Iterate(v);
            return items.Count > 0 ? items[^1] : Undefined.Because("no last item, the sequence was empty");
        },
        ["float"] = (_, v, a) => ToFloat(v) ?? a.Check(1, "default").Get(0, "default", 0.0),
        ["indent"] = Indent,
        ["int"] = (_, v, a) =>
        {
            a.Check(2, "default", "base");
            return ToInt(v, (int)PyOps.AsLong(a.Get(1, "base", 10L))) ?? a.Get(0, "default", 0L);
        },
        ["items"] = (_, v, a) =>
        {
            a.Check(0);
            return v switch
            {
                Undefined => new List<object?>(),
                DictValue d => d.Select(kv => (object?)new[] { DictValue.FromKey(kv.Key), kv.Value }).ToList(),
                _ => throw new TemplateError($"can only get item pairs from a mapping, not '{PyOps.TypeName(v)}'"),
            };
        },
        ["join"] = (_, v, a) =>
        {
            a.Check(2, "d", "attribute");
            var separator = PyOps.Str(a.Get(0, "d", ""));
            var items = PyOps.Iterate(v);
            if (a.Get(1, "attribute") is { } attribute) items = items.Select(x => Attribute(x, attribute)).ToList();
            return string.Join(separator, items.Select(PyOps.Str));
        },
        ["length"] = Length,
        ["list"] = (_, v, a) => { a.Check(0); return PyOps.Iterate(v).ToList(); },
        ["lower"] = (_, v, a) => { a.Check(0); return PyOps.Str(v).ToLowerInvariant(); },
        ["upper"] = (_, v, a) => { a.Check(0); return PyOps.Str(v).ToUpperInvariant(); },
        ["map"] = Map,
        ["max"] = (_, v, a) => MinMax(v, a, max: true),
        ["min"] = (_, v, a) => MinMax(v, a, max: false),
        ["select"] = (r, v, a) => Select(r, v, a, attribute: false, keep: true),
        ["reject"] = (r, v, a) => Select(r, v, a, attribute: false, keep: false),
        ["selectattr"] = (r, v, a) => Select(r, v, a, attribute: true, keep: true),
        ["rejectattr"] = (r, v, a) => Select(r, v, a, attribute: true, keep: false),
        ["replace"] = (_, v, a) =>
        {
            a.Check(3, "old", "new", "count");
            return Members.Replace(PyOps.Str(v), PyOps.Str(a.Get(0, "old")), PyOps.Str(a.Get(1, "new")),
                a.Get(2, "count") is { } count ? PyOps.AsLong(count) : -1);
        },
        ["reverse"] = (_, v, a) =>
        {
            a.Check(0);
            if (v is string s) return string.Concat(PyOps.CodePoints(s).AsEnumerable().Reverse().Cast<string>());
            var items = PyOps.Iterate(v).ToList();
            items.Reverse();
            return items;
        },
        ["round"] = (_, v, a) =>
        {
            a.Check(2, "precision", "method");
            var precision = (int)PyOps.AsLong(a.Get(0, "precision", 0L));
            var method = PyOps.Str(a.Get(1, "method", "common"));
            if (v is long or bool && precision >= 0 && method == "common") return PyOps.AsLong(v);
            var x = PyOps.AsDouble(v);
            var scale = Math.Pow(10, precision);
            return method switch
            {
                "common" => Math.Round(x, Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
                "ceil" => Math.Ceiling(x * scale) / scale,
                "floor" => Math.Floor(x * scale) / scale,
                _ => throw new TemplateError("round: method must be 'common', 'ceil' or 'floor'"),
            };
        },
        ["safe"] = (_, v, a) => { a.Check(0); return PyOps.Str(v); },
        ["sort"] = (_, v, a) =>
        {
            a.Check(3, "reverse", "case_sensitive", "attribute");
            var items = PyOps.Iterate(v).ToList();
            var key = SortKey(a.Get(1, "case_sensitive", false), a.Get(2, "attribute"));
            var sorted = items.OrderBy(key, ValueComparer.Instance).ToList();
            if (PyOps.Truthy(a.Get(0, "reverse", false))) sorted.Reverse();
            return sorted;
        },
        ["string"] = (_, v, a) => { a.Check(0); return PyOps.Str(v); },
        ["sum"] = (_, v, a) =>
        {
            a.Check(2, "attribute", "start");
            var items = PyOps.Iterate(v);
            if (a.Get(0, "attribute") is { } attribute) items = items.Select(x => Attribute(x, attribute)).ToList();
            return items.Aggregate(a.Get(1, "start", 0L), (acc, x) => PyOps.Arithmetic("+", acc, x));
        },
        ["title"] = (_, v, a) => { a.Check(0); return JinjaTitle(PyOps.Str(v)); },
        ["tojson"] = (_, v, a) =>
        {
            a.Check(1, "ensure_ascii", "indent", "separators", "sort_keys");
            (string, string)? separators = null;
            if (a.Get(99, "separators") is { } seps)
            {
                var pair = seps as IReadOnlyList<object?> ?? throw new TemplateError("tojson: separators must be a pair of strings");
                if (pair.Count != 2) throw new TemplateError("tojson: separators must be a pair of strings");
                separators = (PyOps.Str(pair[0]), PyOps.Str(pair[1]));
            }
            return PyJson.Dumps(v, a.Get(0, "indent"), PyOps.Truthy(a.Get(99, "ensure_ascii", false)), separators, PyOps.Truthy(a.Get(99, "sort_keys", false)));
        },
        ["trim"] = (_, v, a) => Members.Strip(PyOps.Str(v), a.Check(1, "chars").Get(0, "chars"), true, true),
        ["unique"] = (_, v, a) =>
        {
            a.Check(2, "case_sensitive", "attribute");
            var key = SortKey(a.Get(0, "case_sensitive", false), a.Get(1, "attribute"));
            var seen = new List<object?>();
            var result = new List<object?>();
            foreach (var item in PyOps.Iterate(v))
            {
                var k = key(item);
                if (seen.Any(s => PyOps.Equal(s, k))) continue;
                seen.Add(k);
                result.Add(item);
            }
            return result;
        },
        ["wordcount"] = (_, v, a) => { a.Check(0); return (long)WordRegex().Matches(PyOps.Str(v)).Count; },
    };

    /// <summary>Every filter of Jinja 3.1, to tell "unsupported" (Jinja has it) from "unknown".</summary>
    private static readonly HashSet<string> JinjaBuiltins =
    [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "filesizeformat",
        "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join", "last", "length", "list",
        "lower", "map", "max", "min", "pprint", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
        "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
    ];

    public static bool IsSupported(string name) => Table.ContainsKey(name);

    public static bool IsJinjaBuiltin(string name) => JinjaBuiltins.Contains(name);

    public static object? Apply(Renderer renderer, string name, object? value, CallArgs args) =>
        Table.TryGetValue(name, out var filter) ? filter(renderer, value, args) : throw new TemplateError($"unknown filter '{name}'");

    private static object? Length(Renderer _, object? v, CallArgs a)
    {
        a.Check(0);
        return PyOps.Length(v);
    }

    private static object? Default(Renderer _, object? v, CallArgs a)
    {
        a.Check(2, "default_value", "boolean");
        var fallback = a.Get(0, "default_value", "");
        var boolean = PyOps.Truthy(a.Get(1, "boolean", false));
        return v is Undefined || (boolean && !PyOps.Truthy(v)) ? fallback : v;
    }

    private static object? Escape(Renderer _, object? v, CallArgs a)
    {
        a.Check(0);
        var s = PyOps.Str(v);
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
            sb.Append(c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&#34;", '\'' => "&#39;", _ => c.ToString() });
        return sb.ToString();
    }

    private static object? DictSort(Renderer _, object? v, CallArgs a)
    {
        a.Check(3, "case_sensitive", "by", "reverse");
        if (v is not DictValue d) throw new TemplateError($"dictsort needs a mapping, not '{PyOps.TypeName(v)}'");
        var byValue = PyOps.Str(a.Get(1, "by", "key")) switch
        {
            "key" => false,
            "value" => true,
            _ => throw new TemplateError("dictsort: you can only sort by either 'key' or 'value'"),
        };
        var caseSensitive = PyOps.Truthy(a.Get(0, "case_sensitive", false));
        var pairs = d.Select(kv => new[] { DictValue.FromKey(kv.Key), kv.Value }).ToList();
        var sorted = pairs.OrderBy(p => Fold(p[byValue ? 1 : 0], caseSensitive), ValueComparer.Instance).Select(p => (object?)p).ToList();
        if (PyOps.Truthy(a.Get(2, "reverse", false))) sorted.Reverse();
        return sorted;
    }

    private static object? Indent(Renderer _, object? v, CallArgs a)
    {
        a.Check(3, "width", "first", "blank");
        var width = a.Get(0, "width", 4L);
        var indentation = width is string w ? w : new string(' ', (int)Math.Max(0, PyOps.AsLong(width)));
        var text = PyOps.Str(v) + "\n";
        var lines = SplitLines(text);
        string result;
        if (PyOps.Truthy(a.Get(2, "blank", false))) result = string.Join("\n" + indentation, lines);
        else
        {
            result = lines.Count > 0 ? lines[0] : "";
            if (lines.Count > 1) result += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indentation + l : l));
        }
        return PyOps.Truthy(a.Get(1, "first", false)) ? indentation + result : result;
    }

    /// <summary>Python's str.splitlines for "\n", "\r\n" and "\r".</summary>
    private static List<string> SplitLines(string s)
    {
        var lines = s.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static object? Map(Renderer renderer, object? v, CallArgs a)
    {
        var items = PyOps.Iterate(v);
        var attribute = a.Keywords.FirstOrDefault(k => k.Name == "attribute");
        if (attribute.Name != null)
        {
            a.Check(0, "attribute", "default");
            var fallback = a.Get(99, "default");
            var hasDefault = a.Keywords.Any(k => k.Name == "default");
            return items.Select(x =>
            {
                var value = Attribute(x, attribute.Value);
                return value is Undefined && hasDefault ? fallback : value;
            }).ToList();
        }
        if (a.Positional.Count == 0) throw new TemplateError("map needs a filter name or attribute=");
        var name = Members.AsString(a.Positional[0], "map");
        if (!IsSupported(name)) throw new TemplateError($"map: unsupported filter '{name}'");
        var rest = new CallArgs(a.Positional.Skip(1).ToList(), a.Keywords, name);
        return items.Select(x => Apply(renderer, name, x, rest)).ToList();
    }

    private static object? Select(Renderer renderer, object? v, CallArgs a, bool attribute, bool keep)
    {
        var items = PyOps.Iterate(v);
        var index = 0;
        object? attr = null;
        if (attribute)
        {
            if (a.Positional.Count == 0) throw new TemplateError($"{a.Callee} needs an attribute name");
            attr = a.Positional[index++];
        }
        string? test = null;
        if (index < a.Positional.Count) test = Members.AsString(a.Positional[index++], a.Callee);
        var testArgs = new CallArgs(a.Positional.Skip(index).ToList(), a.Keywords, test ?? a.Callee);
        if (test != null && !TestFunctions.IsSupported(test)) throw new TemplateError($"{a.Callee}: unsupported test '{test}'");
        return items.Where(item =>
        {
            var subject = attribute ? Attribute(item, attr!) : item;
            var passed = test is null ? PyOps.Truthy(subject) : TestFunctions.Apply(renderer, test, subject, testArgs);
            return passed == keep;
        }).ToList();
    }

    private static object? MinMax(object? v, CallArgs a, bool max)
    {
        a.Check(0, "case_sensitive", "attribute");
        var items = PyOps.Iterate(v);
        if (items.Count == 0) return Undefined.Because("no aggregated item, the sequence was empty");
        var key = SortKey(a.Get(99, "case_sensitive", false), a.Get(99, "attribute"));
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            var c = PyOps.Compare(key(item), key(best));
            if (max ? c > 0 : c < 0) best = item;
        }
        return a.Get(99, "attribute") is { } attribute ? Attribute(best, attribute) : best;
    }

    private static Func<object?, object?> SortKey(object? caseSensitive, object? attribute)
    {
        var sensitive = PyOps.Truthy(caseSensitive);
        return item => Fold(attribute is null ? item : Attribute(item, attribute), sensitive);
    }

    private static object? Fold(object? v, bool caseSensitive) => !caseSensitive && v is string s ? s.ToLowerInvariant() : v;

    /// <summary>Jinja's make_attrgetter: "a.b.0" looks up each part as an item first, digits as integers.</summary>
    private static object? Attribute(object? item, object? attribute)
    {
        if (attribute is long or bool) return Members.GetItem(item, attribute);
        foreach (var part in Members.AsString(attribute, "attribute").Split('.'))
        {
            object? key = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : part;
            item = Members.GetItem(item, key);
        }
        return item;
    }

    private static long? ToInt(object? v, int numberBase)
    {
        switch (v)
        {
            case bool b: return b ? 1 : 0;
            case long l: return l;
            case double d when double.IsFinite(d): return (long)Math.Truncate(d);
            case string s:
                var t = s.Trim().Replace("_", "");
                try
                {
                    if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x)) return x;
                    if (numberBase != 10)
                    {
                        var negative = t.StartsWith('-');
                        var digits = t.TrimStart('+', '-');
                        if (numberBase == 16 && digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
                        if (numberBase == 8 && digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
                        if (numberBase == 2 && digits.StartsWith("0b", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
                        var value = Convert.ToInt64(digits, numberBase);
                        return negative ? -value : value;
                    }
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                {
                    return null;
                }
                // Jinja's quirk: "42.23"|int is 42.
                return ToFloat(s) is double f && double.IsFinite(f) ? (long)Math.Truncate(f) : null;
            default: return null;
        }
    }

    private static double? ToFloat(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        string s when double.TryParse(s.Trim().Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        string s when s.Trim().ToLowerInvariant() is "nan" or "+nan" or "-nan" => double.NaN,
        string s when s.Trim().ToLowerInvariant() is "inf" or "+inf" or "infinity" or "+infinity" => double.PositiveInfinity,
        string s when s.Trim().ToLowerInvariant() is "-inf" or "-infinity" => double.NegativeInfinity,
        _ => null,
    };

    /// <summary>Jinja's title filter: words begin after '-', whitespace, '(', '{', '[' or '&lt;'.</summary>
    private static string JinjaTitle(string s)
    {
        var parts = TitleSplitRegex().Split(s);
        var sb = new StringBuilder(s.Length);
        foreach (var p in parts)
            if (p.Length > 0) sb.Append(char.ToUpperInvariant(p[0])).Append(p[1..].ToLowerInvariant());
        return sb.ToString();
    }

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex TitleSplitRegex();

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRegex();

    /// <summary>Python ordering as an IComparer, for sort, dictsort and unique.</summary>
    private sealed class ValueComparer : IComparer<object?>
    {
        public static readonly ValueComparer Instance = new();

        public int Compare(object? x, object? y) => PyOps.Compare(x, y);
    }
}
