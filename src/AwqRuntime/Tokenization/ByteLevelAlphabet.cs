namespace AwqRuntime.Tokenization;

/// <summary>
/// GPT-2's bytes_to_unicode: every byte gets a printable character so byte strings can be vocabulary
/// strings. Printable Latin-1 bytes (0x21–0x7E, 0xA1–0xAC, 0xAE–0xFF) map to themselves; the other 68
/// bytes map, in byte order, to U+0100, U+0101, ... (so a space becomes 'Ġ' U+0120, a newline 'Ċ' U+010A).
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildForward();
    private static readonly Dictionary<char, byte> CharToByte = BuildReverse();

    private static char[] BuildForward()
    {
        var map = new char[256];
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + n++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildReverse()
    {
        var d = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++) d[ByteToChar[b]] = (byte)b;
        return d;
    }

    public static char Encode(byte b) => ByteToChar[b];

    public static bool TryDecode(char c, out byte b) => CharToByte.TryGetValue(c, out b);

    /// <summary>The byte-level string for some UTF-8 bytes (one character per byte).</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++) span[i] = ByteToChar[src[i]];
        });
    }

    /// <summary>
    /// Bytes of a byte-level token. A character outside the alphabet (possible only in a malformed
    /// vocabulary) is kept as its own UTF-8 rather than dropped.
    /// </summary>
    public static byte[] Decode(string token)
    {
        var result = new List<byte>(token.Length);
        Span<byte> buf = stackalloc byte[4];
        for (var i = 0; i < token.Length; i++)
        {
            if (TryDecode(token[i], out var b))
            {
                result.Add(b);
                continue;
            }
            var len = char.IsHighSurrogate(token[i]) && i + 1 < token.Length
                ? System.Text.Encoding.UTF8.GetBytes(token.AsSpan(i++, 2), buf)
                : System.Text.Encoding.UTF8.GetBytes(token.AsSpan(i, 1), buf);
            for (var k = 0; k < len; k++) result.Add(buf[k]);
        }
        return result.ToArray();
    }
}
