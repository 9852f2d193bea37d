using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AwqRuntime.Fuzz;

/// <summary>
/// Mutations of a JSON document. Structural ones (RFC 8259 values swapped for other types, extreme
/// numbers, removed or renamed keys, emptied arrays) keep it parseable so the loader's own checks are
/// reached; textual ones break the grammar (truncation, invalid UTF-8 inside strings, duplicate keys,
/// deep nesting, trailing garbage) to test the parser's error path.
/// </summary>
public static class JsonMutator
{
    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "2", "3", "1.5", "-0", "1e308", "-1e308", "1e-400", "1e400", "2147483647", "2147483648", "-2147483649",
        "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616", "65536", "16777216", "32", "128",
    ];

    private static readonly string[] OtherValues = ["null", "true", "false", "\"\"", "\"x\"", "[]", "{}", "[1, 2]", "{\"a\": 1}", "\"NaN\"", "\"-1\""];

    public static (byte[] Bytes, string Edit) Mutate(byte[] input, Random rng)
    {
        if (rng.Next(3) != 0)
        {
            try
            {
                // JsonNode materialises lazily: a duplicate key from an earlier stacked edit throws on first access, not in Parse.
                var root = JsonNode.Parse(input, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
                var nodes = new List<JsonNode>();
                if (root != null) Collect(root, nodes);
                if (nodes.Count > 1) return Structural(root!, nodes, rng);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
            {
                // a seed that no longer parses: mutate it as text
            }
        }
        return Textual(input, rng);
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        switch (node)
        {
            case JsonObject o: foreach (var (_, v) in o) if (v != null) Collect(v, into); break;
            case JsonArray a: foreach (var v in a) if (v != null) Collect(v, into); break;
        }
    }

    private static (byte[], string) Structural(JsonNode root, List<JsonNode> nodes, Random rng)
    {
        // Prefer scalars: they are the fields loaders check.
        var node = nodes[1 + rng.Next(nodes.Count - 1)];
        var path = node.GetPath();
        var parent = node.Parent!;
        string edit;
        switch (rng.Next(7))
        {
            case 0 or 1:
                var number = Numbers[rng.Next(Numbers.Length)];
                Replace(parent, node, JsonNode.Parse(number));
                edit = $"{path} = {number}";
                break;
            case 2:
                var other = OtherValues[rng.Next(OtherValues.Length)];
                Replace(parent, node, JsonNode.Parse(other));
                edit = $"{path} = {other}";
                break;
            case 3:
                Remove(parent, node);
                edit = $"{path} removed";
                break;
            case 4 when node is JsonArray a && a.Count > 0:
                if (rng.Next(2) == 0) { a.Clear(); edit = $"{path} emptied"; }
                else { a.Add(a[rng.Next(a.Count)]?.DeepClone()); edit = $"{path}: an element duplicated"; }
                break;
            case 5 when parent is JsonObject o:
                var key = o.First(kv => ReferenceEquals(kv.Value, node)).Key;
                o.Remove(key);
                o[key + "_"] = node;
                edit = $"{path} renamed";
                break;
            default:
                var s = rng.Next(3) switch { 0 => new string('a', 70_000), 1 => "\u0000\uFFFD\u202E", _ => "" };
                Replace(parent, node, JsonValue.Create(s));
                edit = $"{path} = a string of {s.Length} chars";
                break;
        }
        return (Encoding.UTF8.GetBytes(root.ToJsonString()), edit);
    }

    private static void Replace(JsonNode parent, JsonNode node, JsonNode? value)
    {
        switch (parent)
        {
            case JsonObject o:
                var key = o.First(kv => ReferenceEquals(kv.Value, node)).Key;
                o[key] = value;
                break;
            case JsonArray a:
                var i = a.IndexOf(node);
                a[i] = value;
                break;
        }
    }

    private static void Remove(JsonNode parent, JsonNode node)
    {
        switch (parent)
        {
            case JsonObject o: o.Remove(o.First(kv => ReferenceEquals(kv.Value, node)).Key); break;
            case JsonArray a: a.Remove(node); break;
        }
    }

    private static (byte[], string) Textual(byte[] b, Random rng)
    {
        var text = Encoding.UTF8.GetString(b);
        switch (rng.Next(6))
        {
            case 0:
                var len = rng.Next(b.Length + 1);
                return (b[..len], $"truncated to {len} of {b.Length} bytes");
            case 1:
            {
                // Invalid UTF-8 inside a string: a lone continuation byte, an overlong form, a surrogate, 0xFF.
                byte[][] bad = [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF], [0xC3]];
                var quote = IndexOfNth(b, (byte)'"', rng);
                var at = quote < 0 ? rng.Next(b.Length + 1) : quote + 1;
                var seq = bad[rng.Next(bad.Length)];
                return ([.. b.AsSpan(0, at), .. seq, .. b.AsSpan(at)], $"invalid UTF-8 {Convert.ToHexString(seq)} at byte {at}");
            }
            case 2:
            {
                // Duplicate a key: insert a second "key": value right after the object's opening brace.
                var keys = System.Text.RegularExpressions.Regex.Matches(text, "\"([A-Za-z_][A-Za-z0-9_.]*)\"\\s*:");
                if (keys.Count == 0) goto default;
                var k = keys[rng.Next(keys.Count)];
                var value = rng.Next(2) == 0 ? Numbers[rng.Next(Numbers.Length)] : OtherValues[rng.Next(OtherValues.Length)];
                var insert = $"{k.Value} {value}, ";
                return (Encoding.UTF8.GetBytes(text.Insert(k.Index, insert)), $"duplicate key {k.Groups[1].Value} = {value}");
            }
            case 3:
            {
                var depth = rng.Next(2) == 0 ? 100_000 : 300;
                var at = text.IndexOf(':', StringComparison.Ordinal);
                var deep = new string('[', depth) + new string(']', depth);
                if (at < 0) return (Encoding.UTF8.GetBytes(deep), $"replaced by {depth}-deep nesting");
                var end = text.IndexOfAny([',', '}'], at);
                if (end < 0) end = text.Length;
                return (Encoding.UTF8.GetBytes(text[..(at + 1)] + deep + text[end..]), $"a {depth}-deep array as a value");
            }
            case 4:
                return (Encoding.UTF8.GetBytes(text + (rng.Next(2) == 0 ? " {}" : "\u0000garbage")), "trailing garbage");
            default:
            {
                var at = rng.Next(b.Length + 1);
                const string syntax = "{}[]\",:\\/";
                byte[] junk = [(byte)syntax[rng.Next(syntax.Length)]];
                return ([.. b.AsSpan(0, at), .. junk, .. b.AsSpan(at)], $"'{(char)junk[0]}' inserted at byte {at}");
            }
        }
    }

    private static int IndexOfNth(byte[] b, byte value, Random rng)
    {
        var count = b.Count(x => x == value);
        if (count == 0) return -1;
        var n = rng.Next(count);
        for (var i = 0; i < b.Length; i++)
            if (b[i] == value && n-- == 0) return i;
        return -1;
    }
}
