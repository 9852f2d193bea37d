using System.Text.Json;
using System.Text.Unicode;

namespace AwqRuntime.Formats;

/// <summary>
/// What System.Text.Json lets through when it parses a document and this project refuses, checked
/// once after the parse so that readers may trust every key and string:
/// <list type="bullet">
/// <item>a key given twice in one object (RFC 8259 §4: names "SHOULD be unique"; readers disagree on
/// which value wins, so a duplicate is ambiguous, not a choice to make silently);</item>
/// <item>invalid UTF-8 inside a string (RFC 8259 §8.1 requires UTF-8). The parser accepts it and
/// GetString throws InvalidOperationException later, far from the file; here it is an error naming
/// the file and the key.</item>
/// </list>
/// </summary>
public static class StrictJson
{
    /// <summary>
    /// One refusal: what is wrong (naming the key) and the key's path ("messages[0].content",
    /// "quantization_config.version"); null when the fault is not inside one value (bytes outside any
    /// string, a key that is not UTF-8 in the top-level object).
    /// </summary>
    public sealed record Problem(string Message, string? Key);

    /// <summary>
    /// Parses <paramref name="utf8"/> and <see cref="Check"/>s it. A syntax error becomes one line naming
    /// <paramref name="path"/>: "{path}: {context}not valid JSON: {reason} (line L, byte B)", where the
    /// reason is System.Text.Json's with the offending text cut short (it can quote the rest of the file,
    /// newlines included).
    /// </summary>
    /// <param name="context">Words before "not valid JSON", e.g. "safetensors index: " (may be empty).</param>
    public static JsonDocument Parse(byte[] utf8, string path, JsonDocumentOptions options = default, string context = "")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {context}not valid JSON: {Reason(e)}", e);
        }
        try
        {
            Check(doc.RootElement, utf8, path);
        }
        catch
        {
            doc.Dispose();
            throw;
        }
        return doc;
    }

    /// <summary>A JsonException's message as one short line, with its position as "(line L, byte B)" (1-based line).</summary>
    public static string Reason(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        message = System.Text.RegularExpressions.Regex.Replace(message.ReplaceLineEndings(" "), "'([^']{40})[^']+'", "'$1…'");
        message = message.TrimEnd('.', ' ');
        if (message.Length > 200) message = message[..200] + "…";
        return e.LineNumber is { } line ? $"{message} (line {line + 1}, byte {e.BytePositionInLine + 1})" : message;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="path"/> and the key.</summary>
    /// <param name="utf8">The bytes <paramref name="root"/> was parsed from (UTF-8 is checked on them first, cheaply).</param>
    public static void Check(JsonElement root, ReadOnlySpan<byte> utf8, string path)
    {
        if (Find(root, utf8) is { } problem) throw new InvalidDataException($"{path}: {problem.Message}");
    }

    /// <summary>The first thing <see cref="Check"/> would refuse, or null.</summary>
    public static Problem? Find(JsonElement root, ReadOnlySpan<byte> utf8)
    {
        var checkStrings = !Utf8.IsValid(utf8);
        if (Walk(root, "", checkStrings) is { } problem) return problem;
        if (!checkStrings) return null;
        // The bad bytes are outside any string the document holds (the parser would have failed) —
        // report where they are.
        var at = 0;
        while (at < utf8.Length && System.Text.Rune.DecodeFromUtf8(utf8[at..], out _, out var n) == System.Buffers.OperationStatus.Done) at += n;
        return new Problem($"invalid UTF-8 at byte {at}", null);
    }

    private static string Child(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    private static Problem? Walk(JsonElement e, string at, bool checkStrings)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                HashSet<string>? seen = null;
                var i = 0;
                foreach (var p in e.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return new Problem($"invalid UTF-8 in key {i} of {(at.Length == 0 ? "the top-level object" : $"'{at}'")}", at.Length == 0 ? null : at);
                    }
                    seen ??= new HashSet<string>(StringComparer.Ordinal);
                    if (!seen.Add(name)) return new Problem($"key '{Child(at, name)}' appears more than once", Child(at, name));
                    if (Walk(p.Value, Child(at, name), checkStrings) is { } problem) return problem;
                    i++;
                }
                break;
            case JsonValueKind.Array:
                var k = 0;
                foreach (var x in e.EnumerateArray())
                    if (Walk(x, $"{at}[{k++}]", checkStrings) is { } problem) return problem;
                break;
            case JsonValueKind.String when checkStrings:
                try
                {
                    _ = e.GetString();
                }
                catch (InvalidOperationException)
                {
                    return new Problem($"invalid UTF-8 in the string at '{(at.Length == 0 ? "$" : at)}'", at.Length == 0 ? null : at);
                }
                break;
        }
        return null;
    }
}
