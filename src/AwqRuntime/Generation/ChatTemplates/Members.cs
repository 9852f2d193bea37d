using System.Text;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// Attribute, item and slice access, and the Python methods chat templates call on strings, dicts
/// and lists. <c>a.b</c> tries the attribute (a method) before the item and <c>a['b']</c> the item
/// before the attribute, as Jinja's environment.getattr / getitem do; a missing one is Undefined. Like
/// transformers' ImmutableSandboxedEnvironment, methods that modify a list or dict are refused.
/// </summary>
internal static class Members
{
    private static readonly HashSet<string> Mutators =
        ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear", "update", "setdefault", "popitem"];

    public static object? GetAttr(object? target, string name)
    {
        switch (target)
        {
            case Undefined u: throw u.Fail();
            case DictValue d:
                return (object?)Method(d, name) ?? (d.TryGetValue(name, out var v) ? v : Undefined.Missing(d, name));
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var a) ? a : Undefined.Missing(ns, name);
            case LoopContext loop:
                return loop.Get(name);
            default:
                return (object?)Method(target, name) ?? Undefined.Missing(target, name);
        }
    }

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Undefined u: throw u.Fail();
            case DictValue d:
                if (key is not (List<object?> or DictValue) && d.TryGetValue(DictValue.KeyOf(key), out var v)) return v;
                return key is string s ? (object?)Method(d, s) ?? Undefined.Missing(d, s) : Undefined.Because($"'dict object' has no item {PyOps.Repr(key)}");
            case List<object?> or object?[] or string when key is long or bool:
                var items = target is string str ? PyOps.CodePoints(str) : (IReadOnlyList<object?>)target;
                var i = PyOps.AsLong(key);
                if (i < 0) i += items.Count;
                return i >= 0 && i < items.Count ? items[(int)i] : Undefined.Because($"'{PyOps.TypeName(target)} object' has no element {key}");
            case Namespace or LoopContext when key is string name:
                return GetAttr(target, name);
            default:
                return key is string attr ? GetAttr(target, attr) : Undefined.Because($"'{PyOps.TypeName(target)} object' has no item {PyOps.Repr(key)}");
        }
    }

    /// <summary>Python slicing of lists, tuples and strings (negative indices and steps included).</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is Undefined u) throw u.Fail();
        if (target is not (List<object?> or object?[] or string)) return Undefined.Because($"'{PyOps.TypeName(target)}' object is not subscriptable");
        var items = target is string s ? PyOps.CodePoints(s) : (IReadOnlyList<object?>)target;
        var n = items.Count;
        long stepValue = step is null ? 1 : PyOps.AsLong(step);
        if (stepValue == 0) throw new TemplateError("slice step cannot be zero");
        long Bound(object? v, long whenMissing)
        {
            if (v is null) return whenMissing;
            var x = PyOps.AsLong(v);
            if (x < 0) x += n;
            return stepValue > 0 ? Math.Clamp(x, 0, n) : Math.Clamp(x, -1, n - 1);
        }
        var from = Bound(start, stepValue > 0 ? 0 : n - 1);
        var to = Bound(stop, stepValue > 0 ? n : -1);
        var picked = new List<object?>();
        for (var i = from; stepValue > 0 ? i < to : i > to; i += stepValue) picked.Add(items[(int)i]);
        return target switch
        {
            string => string.Concat(picked.Cast<string>()),
            object?[] => picked.ToArray(),
            _ => picked,
        };
    }

    /// <summary>A bound method of <paramref name="target"/>, or null when it has none by that name.</summary>
    private static BuiltinFunction? Method(object? target, string name)
    {
        if (target is List<object?> or DictValue && Mutators.Contains(name))
            return new BuiltinFunction($"{PyOps.TypeName(target)}.{name}", (_, _) =>
                throw new TemplateError($"{PyOps.TypeName(target)}.{name}() is not allowed: templates cannot modify values"));
        return target switch
        {
            string s => StringMethod(s, name),
            DictValue d => DictMethod(d, name),
            List<object?> or object?[] => ListMethod((IReadOnlyList<object?>)target!, name),
            _ => null,
        };
    }

    private static BuiltinFunction? DictMethod(DictValue d, string name) => name switch
    {
        "get" => new("dict.get", (_, a) =>
        {
            a.Check(2);
            var key = a.Get(0, "key");
            return d.TryGetValue(DictValue.KeyOf(key), out var v) ? v : a.Get(1, "default");
        }),
        "items" => new("dict.items", (_, a) =>
        {
            a.Check(0);
            return d.Select(kv => (object?)new[] { DictValue.FromKey(kv.Key), kv.Value }).ToList();
        }),
        "keys" => new("dict.keys", (_, a) => { a.Check(0); return d.Keys.Select(DictValue.FromKey).ToList(); }),
        "values" => new("dict.values", (_, a) => { a.Check(0); return d.Values.ToList(); }),
        "copy" => new("dict.copy", (_, a) =>
        {
            a.Check(0);
            var copy = new DictValue();
            foreach (var (k, v) in d) copy[k] = v;
            return copy;
        }),
        _ => null,
    };

    private static BuiltinFunction? ListMethod(IReadOnlyList<object?> list, string name) => name switch
    {
        "count" => new("list.count", (_, a) => { a.Check(1); return (long)list.Count(x => PyOps.Equal(x, a.Get(0, "value"))); }),
        "index" => new("list.index", (_, a) =>
        {
            a.Check(1);
            for (var i = 0; i < list.Count; i++)
                if (PyOps.Equal(list[i], a.Get(0, "value"))) return (long)i;
            throw new TemplateError($"{PyOps.Repr(a.Get(0, "value"))} is not in list");
        }),
        _ => null,
    };

    private static BuiltinFunction? StringMethod(string s, string name) => name switch
    {
        "strip" => new("str.strip", (_, a) => Strip(s, a.Check(1).Get(0, "chars"), true, true)),
        "lstrip" => new("str.lstrip", (_, a) => Strip(s, a.Check(1).Get(0, "chars"), true, false)),
        "rstrip" => new("str.rstrip", (_, a) => Strip(s, a.Check(1).Get(0, "chars"), false, true)),
        "upper" => new("str.upper", (_, a) => { a.Check(0); return s.ToUpperInvariant(); }),
        "lower" => new("str.lower", (_, a) => { a.Check(0); return s.ToLowerInvariant(); }),
        "title" => new("str.title", (_, a) => { a.Check(0); return PythonTitle(s); }),
        "capitalize" => new("str.capitalize", (_, a) => { a.Check(0); return Capitalize(s); }),
        "swapcase" => new("str.swapcase", (_, a) =>
        {
            a.Check(0);
            return string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));
        }),
        "startswith" => new("str.startswith", (_, a) => Affix(s, a.Check(3), start: true)),
        "endswith" => new("str.endswith", (_, a) => Affix(s, a.Check(3), start: false)),
        "split" => new("str.split", (_, a) => Split(s, a.Check(2, "sep", "maxsplit").Get(0, "sep"), a.Get(1, "maxsplit", -1L), fromRight: false)),
        "rsplit" => new("str.rsplit", (_, a) => Split(s, a.Check(2, "sep", "maxsplit").Get(0, "sep"), a.Get(1, "maxsplit", -1L), fromRight: true)),
        "splitlines" => new("str.splitlines", (_, a) =>
        {
            a.Check(1, "keepends");
            var lines = s.Split('\n').Select(l => (object?)l.TrimEnd('\r')).ToList();
            if (s.EndsWith('\n')) lines.RemoveAt(lines.Count - 1);
            return lines;
        }),
        "replace" => new("str.replace", (_, a) => Replace(s, AsString(a.Check(3, "count").Get(0, "old"), "str.replace"),
            AsString(a.Get(1, "new"), "str.replace"), PyOps.AsLong(a.Get(2, "count", -1L)))),
        "join" => new("str.join", (_, a) =>
            string.Join(s, PyOps.Iterate(a.Check(1).Get(0, "iterable")).Select(x =>
                x as string ?? throw new TemplateError($"sequence item: expected str instance, {PyOps.TypeName(x)} found")))),
        "find" => new("str.find", (_, a) => (long)CodePointIndex(s, s.IndexOf(AsString(a.Check(1).Get(0, "sub"), "str.find"), StringComparison.Ordinal))),
        "rfind" => new("str.rfind", (_, a) => (long)CodePointIndex(s, s.LastIndexOf(AsString(a.Check(1).Get(0, "sub"), "str.rfind"), StringComparison.Ordinal))),
        "count" => new("str.count", (_, a) => (long)CountOccurrences(s, AsString(a.Check(1).Get(0, "sub"), "str.count"))),
        "isdigit" or "isnumeric" or "isdecimal" => new($"str.{name}", (_, a) => { a.Check(0); return s.Length > 0 && s.All(char.IsDigit); }),
        "isalpha" => new("str.isalpha", (_, a) => { a.Check(0); return s.Length > 0 && s.All(char.IsLetter); }),
        "isalnum" => new("str.isalnum", (_, a) => { a.Check(0); return s.Length > 0 && s.All(char.IsLetterOrDigit); }),
        "isspace" => new("str.isspace", (_, a) => { a.Check(0); return s.Length > 0 && s.All(char.IsWhiteSpace); }),
        "islower" => new("str.islower", (_, a) => { a.Check(0); return s.Any(char.IsLetter) && !s.Any(char.IsUpper); }),
        "isupper" => new("str.isupper", (_, a) => { a.Check(0); return s.Any(char.IsLetter) && !s.Any(char.IsLower); }),
        "format" => new("str.format", (_, _) => throw new TemplateError("unsupported str.format()")),
        _ => null,
    };

    public static string AsString(object? v, string what) =>
        v as string ?? throw new TemplateError($"{what}: expected a string, got '{PyOps.TypeName(v)}'");

    /// <summary>str.strip / lstrip / rstrip: whitespace, or the characters in <paramref name="chars"/>.</summary>
    public static string Strip(string s, object? chars, bool left, bool right)
    {
        if (chars is not null and not string) throw new TemplateError($"strip arg must be None or str, not {PyOps.TypeName(chars)}");
        var set = chars as string;
        Func<char, bool> strip = set is null ? char.IsWhiteSpace : set.Contains;
        int a = 0, b = s.Length;
        if (left) while (a < b && strip(s[a])) a++;
        if (right) while (b > a && strip(s[b - 1])) b--;
        return s[a..b];
    }

    private static bool Affix(string s, CallArgs a, bool start)
    {
        var what = start ? "str.startswith" : "str.endswith";
        var affix = a.Get(0, "prefix");
        var text = a.Has(1, "start") || a.Has(2, "end") ? (string)Slice(s, a.Get(1, "start"), a.Get(2, "end"), null)! : s;
        IEnumerable<object?> options = affix is object?[] tuple ? tuple : [affix];
        foreach (var o in options)
        {
            var x = AsString(o, what);
            if (start ? text.StartsWith(x, StringComparison.Ordinal) : text.EndsWith(x, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static List<object?> Split(string s, object? sep, object? maxsplit, bool fromRight)
    {
        var max = PyOps.AsLong(maxsplit);
        var parts = new List<object?>();
        if (sep is null)
        {
            // Runs of whitespace separate; leading and trailing whitespace gives no empty parts.
            var words = new List<string>();
            var i = 0;
            var text = s;
            if (!fromRight)
            {
                while (true)
                {
                    while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
                    if (i >= text.Length) break;
                    if (max >= 0 && words.Count == max) { words.Add(text[i..]); break; }
                    var j = i;
                    while (j < text.Length && !char.IsWhiteSpace(text[j])) j++;
                    words.Add(text[i..j]);
                    i = j;
                }
            }
            else
            {
                var end = text.Length;
                while (true)
                {
                    while (end > 0 && char.IsWhiteSpace(text[end - 1])) end--;
                    if (end == 0) break;
                    if (max >= 0 && words.Count == max) { words.Add(text[..end]); break; }
                    var j = end;
                    while (j > 0 && !char.IsWhiteSpace(text[j - 1])) j--;
                    words.Add(text[j..end]);
                    end = j;
                }
                words.Reverse();
            }
            parts.AddRange(words);
            return parts;
        }
        var separator = AsString(sep, "str.split");
        if (separator.Length == 0) throw new TemplateError("empty separator");
        if (!fromRight)
        {
            var start = 0;
            while (max < 0 || parts.Count < max)
            {
                var at = s.IndexOf(separator, start, StringComparison.Ordinal);
                if (at < 0) break;
                parts.Add(s[start..at]);
                start = at + separator.Length;
            }
            parts.Add(s[start..]);
        }
        else
        {
            var end = s.Length;
            var reversed = new List<object?>();
            while (max < 0 || reversed.Count < max)
            {
                var at = end - separator.Length < 0 ? -1 : s.LastIndexOf(separator, end - 1, end, StringComparison.Ordinal);
                if (at < 0) break;
                reversed.Add(s[(at + separator.Length)..end]);
                end = at;
            }
            reversed.Add(s[..end]);
            reversed.Reverse();
            parts = reversed;
        }
        return parts;
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? InsertBetween(s, replacement, long.MaxValue) : s.Replace(old, replacement, StringComparison.Ordinal);
        if (old.Length == 0) return InsertBetween(s, replacement, count);
        var sb = new StringBuilder();
        var start = 0;
        for (var n = 0L; n < count; n++)
        {
            var at = s.IndexOf(old, start, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, start, at - start).Append(replacement);
            start = at + old.Length;
        }
        return sb.Append(s, start, s.Length - start).ToString();
    }

    /// <summary>Python's replace with an empty pattern: the replacement before every character and at the end.</summary>
    private static string InsertBetween(string s, string replacement, long count)
    {
        var sb = new StringBuilder();
        var n = 0L;
        foreach (var r in s.EnumerateRunes())
        {
            if (n++ < count) sb.Append(replacement);
            sb.Append(r.ToString());
        }
        if (n < count) sb.Append(replacement);
        return sb.ToString();
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return PyOps.CodePointCount(s) + 1;
        var n = 0;
        for (var i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static int CodePointIndex(string s, int utf16Index) =>
        utf16Index <= 0 || !PyOps.HasSurrogates(s) ? utf16Index : PyOps.CodePointCount(s[..utf16Index]);

    /// <summary>Python's str.capitalize: the first character upper case, the rest lower case.</summary>
    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Python's str.title: a letter after a non-letter is upper case, other letters lower case.</summary>
    public static string PythonTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousIsCased = false;
        foreach (var c in s)
        {
            if (char.IsLetter(c))
            {
                sb.Append(previousIsCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
                previousIsCased = true;
            }
            else
            {
                sb.Append(c);
                previousIsCased = false;
            }
        }
        return sb.ToString();
    }
}
