using System.Globalization;
using System.Text;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// The <c>tojson</c> filter as transformers defines it (utils/chat_template_utils.py replaces Jinja's
/// HTML-escaping one): Python's json.dumps(x, ensure_ascii=False, indent=None, separators=None,
/// sort_keys=False). Without indent the separators are ", " and ": "; with indent "," and ": ", one
/// item per line. Floats print as Python's repr (NaN, Infinity); dict keys that are not strings
/// become strings as in json.dumps.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, object? indent = null, bool ensureAscii = false, (string Item, string Key)? separators = null, bool sortKeys = false)
    {
        string? indentText = indent switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(0, n)),
            bool b => new string(' ', b ? 1 : 0),
            string s => s,
            _ => throw new TemplateError($"tojson: indent must be an integer or a string, not '{PyOps.TypeName(indent)}'"),
        };
        var seps = separators ?? (indentText is null ? (", ", ": ") : (",", ": "));
        var sb = new StringBuilder();
        Write(sb, value, indentText, 0, ensureAscii, seps, sortKeys);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, string? indent, int level, bool ascii, (string Item, string Key) seps, bool sortKeys)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyOps.FloatRepr(d));
                break;
            case string s: WriteString(sb, s, ascii); break;
            case List<object?> or object?[]:
                var items = (IReadOnlyList<object?>)v;
                if (items.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (var i = 0; i < items.Count; i++)
                {
                    if (i > 0) sb.Append(seps.Item);
                    NewLine(sb, indent, level + 1);
                    Write(sb, items[i], indent, level + 1, ascii, seps, sortKeys);
                }
                NewLine(sb, indent, level);
                sb.Append(']');
                break;
            case DictValue d:
                if (d.Count == 0) { sb.Append("{}"); break; }
                IEnumerable<KeyValuePair<object, object?>> pairs = d;
                if (sortKeys) pairs = pairs.OrderBy(kv => KeyText(kv.Key), Comparer<string>.Create(PyOps.CompareCodePoints));
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in pairs)
                {
                    if (!first) sb.Append(seps.Item);
                    first = false;
                    NewLine(sb, indent, level + 1);
                    WriteString(sb, KeyText(key), ascii);
                    sb.Append(seps.Key);
                    Write(sb, value, indent, level + 1, ascii, seps, sortKeys);
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                break;
            default:
                throw new TemplateError($"Object of type {PyOps.TypeName(v)} is not JSON serializable");
        }
    }

    private static string KeyText(object key) => DictValue.FromKey(key) switch
    {
        string s => s,
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyOps.FloatRepr(d),
        var other => throw new TemplateError($"keys must be str, int, float, bool or None, not {PyOps.TypeName(other)}"),
    };

    private static void NewLine(StringBuilder sb, string? indent, int level)
    {
        if (indent is null) return;
        sb.Append('\n');
        for (var i = 0; i < level; i++) sb.Append(indent);
    }

    /// <summary>json.dumps string escaping: quote, backslash, \b \f \n \r \t, other controls as \u00XX.</summary>
    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7E)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
