using System.Globalization;
using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// Character classes as llama.cpp's pre-tokenizers see them (src/unicode.cpp, unicode-data.cpp):
/// \p{L} = Lu|Ll|Lt|Lm|Lo, \p{N} = Nd|Nl|No, \p{P} = Pc|Pd|Ps|Pe|Pi|Pf|Po, and whitespace = the
/// Unicode White_Space property (Python's `regex` \s, which its tables were generated from).
/// Categories come from .NET's tables, so they follow .NET's Unicode version; llama.cpp's tables are
/// from a Python of similar vintage, and the two differ only on code points assigned very recently.
/// </summary>
internal static class UnicodeClasses
{
    public static bool IsLetter(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        _ => false,
    };

    public static bool IsNumber(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp) switch
    {
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    public static bool IsPunctuation(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp) switch
    {
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => true,
        _ => false,
    };

    /// <summary>The Unicode White_Space property (25 code points).</summary>
    public static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>
    /// The code points of a string. Lone surrogates (which have no UTF-8 form) become U+FFFD, the
    /// same thing llama.cpp does with invalid UTF-8 in its input.
    /// </summary>
    public static int[] CodePoints(ReadOnlySpan<char> s)
    {
        var result = new int[s.Length];
        var n = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result[n++] = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            else
            {
                result[n++] = char.IsSurrogate(c) ? 0xFFFD : c;
            }
        }
        return n == result.Length ? result : result[..n];
    }

    /// <summary>Replaces lone surrogates by U+FFFD so the string has an exact UTF-8 form.</summary>
    public static string Sanitize(string s)
    {
        var i = 0;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            break;
        }
        if (i == s.Length) return s;

        var sb = new StringBuilder(s.Length);
        sb.Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(c).Append(s[i + 1]);
                i++;
            }
            else
            {
                sb.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return sb.ToString();
    }
}
