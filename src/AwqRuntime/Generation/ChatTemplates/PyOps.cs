using System.Globalization;
using System.Text;

namespace AwqRuntime.Generation.ChatTemplates;

// Runtime values. A template value is one of: null (Python None), bool, long (int), double (float),
// string, List<object?> (list), object?[] (tuple), DictValue (dict), Undefined, Namespace,
// LoopContext or ICallable (macros, globals, bound methods). PyOps gives them Python's semantics.

/// <summary>
/// Python semantics for template values, since Jinja evaluates templates as Python expressions:
/// truthiness, str() and repr(), ==, ordering, iteration, len(), and the arithmetic operators
/// (int/float promotion, bool as int, floor division and modulo with the divisor's sign, str and
/// list concatenation and repetition). Errors use Python's wording.
/// </summary>
internal static class PyOps
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        DictValue => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        ICallable => "function",
        _ => v.GetType().Name,
    };

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        object?[] t => t.Length > 0,
        DictValue d => d.Count > 0,
        Undefined => false,
        _ => true,
    };

    // ---- str() / repr() ----

    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        _ => Repr(v),
    };

    public static string Repr(object? v)
    {
        switch (v)
        {
            case string s: return StringRepr(s);
            case List<object?> list: return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case object?[] tuple: return tuple.Length == 1 ? $"({Repr(tuple[0])},)" : "(" + string.Join(", ", tuple.Select(Repr)) + ")";
            case DictValue dict: return "{" + string.Join(", ", dict.Select(kv => Repr(DictValue.FromKey(kv.Key)) + ": " + Repr(kv.Value))) + "}";
            case Namespace ns: return "<Namespace " + string.Join(", ", ns.Attributes.Select(kv => kv.Key + "=" + Repr(kv.Value))) + ">";
            case LoopContext: return "<LoopContext>";
            case ICallable c: return $"<function {c.Name}>";
            default: return Str(v);
        }
    }

    /// <summary>Python's repr of a str: single quotes unless the text has ' and no ", escapes for the unprintable.</summary>
    public static string StringRepr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (var rune in s.EnumerateRunes())
        {
            var c = rune.Value;
            if (c == quote || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (IsPrintable(rune)) sb.Append(rune.ToString());
            else if (c <= 0xFF) sb.Append(CultureInfo.InvariantCulture, $"\\x{c:x2}");
            else if (c <= 0xFFFF) sb.Append(CultureInfo.InvariantCulture, $"\\u{c:x4}");
            else sb.Append(CultureInfo.InvariantCulture, $"\\U{c:x8}");
        }
        return sb.Append(quote).ToString();
    }

    /// <summary>Python's str.isprintable for one character: not a control, format, separator (but space) or unassigned.</summary>
    private static bool IsPrintable(Rune r)
    {
        if (r.Value == ' ') return true;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.SpaceSeparator => false,
            _ => true,
        };
    }

    /// <summary>
    /// Python's repr of a float: the shortest digits that round-trip, fixed notation for decimal
    /// exponents -4 ≤ e &lt; 16 (with ".0" when integral), otherwise "d.ddde±XX".
    /// </summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r.StartsWith('-');
        if (negative) r = r[1..];
        // Split into significant digits and the exponent of the first digit.
        string mantissa;
        var exponent = 0;
        var e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            mantissa = r[..e];
            exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        }
        else mantissa = r;
        var dot = mantissa.IndexOf('.');
        var intPart = dot < 0 ? mantissa : mantissa[..dot];
        var fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        var pointExponent = exponent + intPart.Length - 1 - leadingZeros; // exponent of the first significant digit
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        string body;
        if (pointExponent is >= -4 and < 16)
        {
            if (pointExponent >= 0)
            {
                var whole = digits.Length > pointExponent + 1 ? digits[..(pointExponent + 1)] : digits.PadRight(pointExponent + 1, '0');
                var frac = digits.Length > pointExponent + 1 ? digits[(pointExponent + 1)..] : "0";
                body = whole + "." + frac;
            }
            else body = "0." + new string('0', -pointExponent - 1) + digits;
        }
        else
        {
            body = digits[..1] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + (pointExponent < 0 ? "-" : "+")
                + Math.Abs(pointExponent).ToString("00", CultureInfo.InvariantCulture);
        }
        return negative ? "-" + body : body;
    }

    // ---- equality and ordering ----

    public static bool IsNumber(object? v) => v is bool or long or double;

    public static double AsDouble(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        _ => throw new TemplateError($"expected a number, got '{TypeName(v)}'"),
    };

    public static bool Equal(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return AsDouble(a) == AsDouble(b);
            return AsLong(a) == AsLong(b);
        }
        switch (a)
        {
            case string sa: return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
            case Undefined: return b is Undefined;
            case List<object?> la: return b is List<object?> lb && SequenceEqual(la, lb);
            case object?[] ta: return b is object?[] tb && SequenceEqual(ta, tb);
            case DictValue da:
                if (b is not DictValue db || da.Count != db.Count) return false;
                foreach (var (k, v) in da)
                    if (!db.TryGetValue(k, out var other) || !Equal(v, other)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    private static bool SequenceEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
            if (!Equal(a[i], b[i])) return false;
        return true;
    }

    /// <summary>Python's &lt; / &gt; ordering: numbers, strings, and lists or tuples lexicographically.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? AsDouble(a).CompareTo(AsDouble(b)) : AsLong(a).CompareTo(AsLong(b));
        if (a is string sa && b is string sb) return CompareCodePoints(sa, sb);
        if ((a is List<object?> && b is List<object?>) || (a is object?[] && b is object?[]))
        {
            var la = (IReadOnlyList<object?>)a;
            var lb = (IReadOnlyList<object?>)b;
            for (var i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (Equal(la[i], lb[i])) continue;
                return Compare(la[i], lb[i], op);
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw new TemplateError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    /// <summary>Ordinal comparison by code point (UTF-16 order differs above the surrogates).</summary>
    public static int CompareCodePoints(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            var ha = ea.MoveNext();
            var hb = eb.MoveNext();
            if (!ha || !hb) return ha ? 1 : hb ? -1 : 0;
            var c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }

    // ---- iteration and length ----

    /// <summary>What a for loop or a filter iterates: list/tuple items, dict keys, string characters; Undefined is empty.</summary>
    public static IReadOnlyList<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        object?[] t => t,
        DictValue d => d.Keys.Select(DictValue.FromKey).ToList(),
        string s => CodePoints(s),
        Undefined => [],
        Namespace ns => ns.Attributes.Keys.Select(k => (object?)k).ToList(),
        _ => throw new TemplateError($"'{TypeName(v)}' object is not iterable"),
    };

    public static bool IsIterable(object? v) => v is List<object?> or object?[] or DictValue or string or Undefined;

    public static long Length(object? v) => v switch
    {
        string s => CodePointCount(s),
        List<object?> l => l.Count,
        object?[] t => t.Length,
        DictValue d => d.Count,
        Undefined => 0,
        Namespace ns => ns.Attributes.Count,
        _ => throw new TemplateError($"object of type '{TypeName(v)}' has no len()"),
    };

    public static bool HasSurrogates(string s)
    {
        foreach (var c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    public static int CodePointCount(string s) => HasSurrogates(s) ? s.EnumerateRunes().Count() : s.Length;

    /// <summary>The characters of a string as Python sees them (code points, not UTF-16 units).</summary>
    public static List<object?> CodePoints(string s)
    {
        var list = new List<object?>(s.Length);
        foreach (var r in s.EnumerateRunes()) list.Add(r.ToString());
        return list;
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub) throw new TemplateError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return s.Contains(sub, StringComparison.Ordinal);
            case List<object?> or object?[]:
                return ((IReadOnlyList<object?>)container).Any(x => Equal(x, item));
            case DictValue d:
                return d.ContainsKey(DictValue.KeyOf(item));
            case Namespace ns:
                return item is string name && ns.Attributes.ContainsKey(name);
            case Undefined:
                return false;
            default:
                throw new TemplateError($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    // ---- arithmetic ----

    public static long AsLong(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        _ => throw new TemplateError($"expected an integer, got '{TypeName(v)}'"),
    };

    private static bool IsInt(object? v) => v is bool or long;

    public static object? Arithmetic(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b)) return Numeric(op, a!, b!);
        switch (op)
        {
            case "+" when a is string sa && b is string sb: return sa + sb;
            case "+" when a is List<object?> la && b is List<object?> lb: return la.Concat(lb).ToList();
            case "+" when a is object?[] ta && b is object?[] tb: return ta.Concat(tb).ToArray();
            case "*" when a is string s && IsInt(b): return Repeat(s, AsLong(b));
            case "*" when IsInt(a) && b is string s2: return Repeat(s2, AsLong(a));
            case "*" when a is List<object?> l && IsInt(b): return Enumerable.Repeat(l, (int)Math.Max(0, AsLong(b))).SelectMany(x => x).ToList();
            case "%" when a is string:
                throw new TemplateError("unsupported printf-style string formatting ('…' % value)");
        }
        throw new TemplateError($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static string Repeat(string s, long n)
    {
        if (n <= 0) return "";
        if (n * s.Length > 1 << 26) throw new TemplateError("string repetition is too large");
        return string.Concat(Enumerable.Repeat(s, (int)n));
    }

    private static object Numeric(string op, object a, object b)
    {
        if (IsInt(a) && IsInt(b) && op != "/")
        {
            long x = AsLong(a), y = AsLong(b);
            try
            {
                checked
                {
                    switch (op)
                    {
                        case "+": return x + y;
                        case "-": return x - y;
                        case "*": return x * y;
                        case "//":
                            if (y == 0) throw new TemplateError("integer division or modulo by zero");
                            return FloorDiv(x, y);
                        case "%":
                            if (y == 0) throw new TemplateError("integer division or modulo by zero");
                            return x - FloorDiv(x, y) * y;
                        case "**":
                            if (y < 0) return Math.Pow(x, y);
                            long result = 1;
                            for (var i = 0L; i < y; i++) result *= x;
                            return result;
                    }
                }
            }
            catch (OverflowException)
            {
                // Python's ints do not overflow; a float is the closest this interpreter gets.
                return Numeric(op, (double)x, (double)y);
            }
        }
        double p = AsDouble(a), q = AsDouble(b);
        switch (op)
        {
            case "+": return p + q;
            case "-": return p - q;
            case "*": return p * q;
            case "/":
                if (q == 0) throw new TemplateError("division by zero");
                return p / q;
            case "//":
                if (q == 0) throw new TemplateError("float floor division by zero");
                return Math.Floor(p / q);
            case "%":
                if (q == 0) throw new TemplateError("float modulo");
                var m = p % q;
                return m != 0 && (m < 0) != (q < 0) ? m + q : m;
            case "**": return Math.Pow(p, q);
        }
        throw new TemplateError($"unknown operator '{op}'");
    }

    private static long FloorDiv(long x, long y)
    {
        var q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    public static object? Negate(object? v) => v switch
    {
        bool b => (object)(b ? -1L : 0L),
        long l => (object)(-l),
        double d => (object)(-d),
        Undefined u => throw u.Fail(),
        _ => throw new TemplateError($"bad operand type for unary -: '{TypeName(v)}'"),
    };

    public static object? Plus(object? v) => v switch
    {
        bool b => (object)(b ? 1L : 0L),
        long or double => v,
        Undefined u => throw u.Fail(),
        _ => throw new TemplateError($"bad operand type for unary +: '{TypeName(v)}'"),
    };
}
