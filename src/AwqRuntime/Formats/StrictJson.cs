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
    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="path"/> and the key.</summary>
    /// <param name="utf8">The bytes <paramref name="root"/> was parsed from (UTF-8 is checked on them first, cheaply).</param>
    public static void Check(JsonElement root, ReadOnlySpan<byte> utf8, string path)
    {
        var checkStrings = !Utf8.IsValid(utf8);
        Walk(root, "", path, checkStrings);
        if (checkStrings)
        {
            // The bad bytes are outside any string the document holds (the parser would have failed) —
            // report where they are.
            var at = 0;
            while (at < utf8.Length && System.Text.Rune.DecodeFromUtf8(utf8[at..], out _, out var n) == System.Buffers.OperationStatus.Done) at += n;
            throw new InvalidDataException($"{path}: invalid UTF-8 at byte {at}");
        }
    }

    private static string Child(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    private static void Walk(JsonElement e, string at, string path, bool checkStrings)
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
                        throw new InvalidDataException($"{path}: invalid UTF-8 in key {i} of {(at.Length == 0 ? "the top-level object" : $"'{at}'")}");
                    }
                    seen ??= new HashSet<string>(StringComparer.Ordinal);
                    if (!seen.Add(name))
                        throw new InvalidDataException($"{path}: key '{Child(at, name)}' appears more than once");
                    Walk(p.Value, Child(at, name), path, checkStrings);
                    i++;
                }
                break;
            case JsonValueKind.Array:
                var k = 0;
                foreach (var x in e.EnumerateArray()) Walk(x, $"{at}[{k++}]", path, checkStrings);
                break;
            case JsonValueKind.String when checkStrings:
                try
                {
                    _ = e.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new InvalidDataException($"{path}: invalid UTF-8 in the string at '{(at.Length == 0 ? "$" : at)}'");
                }
                break;
        }
    }
}
