using System.Text.RegularExpressions;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>
/// The hand-written pre-tokenizers against .NET's regex engine running the original patterns, an
/// independent implementation. .NET regexes see UTF-16, so only texts whose supplementary characters
/// are neither letters nor numbers are compared (for those both views agree).
/// </summary>
public class PreTokenizerTests
{
    private static IEnumerable<string> Samples()
    {
        foreach (var (text, _) in TokenizerTestData.Vectors("ggml-vocab-llama-spm.gguf")) yield return text;
        foreach (var s in RoundTripTests.Tricky) yield return s;
        yield return "It's 'S 'RE 'Ll 'vE don't I'D we'VE 12345678 3.14159 a  b   c    \n\n  \t x";
        yield return "trailing spaces   ";
        yield return "  \u00A0\u2003\u3000 unicode spaces\u2028between\u0085lines  ";
        yield return "¡Hola! ¿Qué tal? «quotes» — dashes… ‘single’ “double” ＡＢＣ　ｄｅｆ！";
        var eval = TokenizerTestData.EvalText;
        for (var i = 0; i < 20; i++) yield return eval.Substring(i * 10_000, 2_000);
    }

    private static bool SafeForUtf16Regex(string s) =>
        UnicodeClasses.CodePoints(s).All(cp => cp < 0x10000 || !(UnicodeClasses.IsLetter(cp) || UnicodeClasses.IsNumber(cp)));

    /// <summary>llama.cpp's splitting with one regex: matches and the gaps between them are pieces.</summary>
    private static List<string> RegexSplit(IEnumerable<string> pieces, Regex regex)
    {
        var result = new List<string>();
        foreach (var piece in pieces)
        {
            var pos = 0;
            foreach (Match m in regex.Matches(piece))
            {
                if (m.Length == 0) continue;
                if (m.Index > pos) result.Add(piece[pos..m.Index]);
                result.Add(m.Value);
                pos = m.Index + m.Length;
            }
            if (pos < piece.Length) result.Add(piece[pos..]);
        }
        return result;
    }

    [Theory]
    [InlineData("llama-bpe", ByteLevelPreTokenizer.Llama3Pattern)]
    [InlineData("gpt-2", ByteLevelPreTokenizer.Gpt2Pattern)]
    public void Single_regex_pre_tokenizers_match_dotnet_regex(string name, string pattern)
    {
        var pre = ByteLevelPreTokenizer.ForName(name);
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var compared = 0;
        foreach (var s in Samples().Where(SafeForUtf16Regex))
        {
            var expected = RegexSplit([s], regex);
            Assert.Equal(expected, pre.SplitToStrings(s));
            compared++;
        }
        Assert.True(compared > 60, $"only {compared} samples compared");
    }

    [Fact]
    public void DeepSeek_llm_stages_match_dotnet_regex()
    {
        var pre = ByteLevelPreTokenizer.ForName("deepseek-llm");
        // std::wregex sees non-ASCII whitespace as '\v' (llama.cpp rewrites it), so do the same here
        // for the literal-class stages; \p{N}+ runs on the original text.
        static string StdView(string s) => new(s.Select(c => c > 0x7F && UnicodeClasses.IsWhitespace(c) ? '\v' : c).ToArray());
        var letters = @"\s?[" + BmpClassBody(ByteLevelPreTokenizer.DeepSeekLetters) + "]+";
        var punct = @"\s?[" + BmpClassBody(ByteLevelPreTokenizer.DeepSeekPunctuation) + "]+";
        var stages = new[]
        {
            new Regex("[\r\n]"), new Regex(letters), new Regex(punct), new Regex(@"\s+\z"),
            new Regex("[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+"),
        };
        var compared = 0;
        foreach (var s in Samples().Where(SafeForUtf16Regex))
        {
            // Split the std view (same length as s) and map the pieces back onto the original text.
            var view = StdView(s);
            IEnumerable<string> pieces = [view];
            foreach (var r in stages) pieces = RegexSplit(pieces, r);
            var lengths = pieces.Select(p => p.Length).ToList();
            var original = new List<string>();
            var at = 0;
            foreach (var len in lengths) { original.Add(s.Substring(at, len)); at += len; }
            var expected = RegexSplit(original, new Regex(@"\p{N}+"));
            Assert.Equal(expected, pre.SplitToStrings(s));
            compared++;
        }
        Assert.True(compared > 60, $"only {compared} samples compared");
    }

    private static string BmpClassBody(CodePointRanges ranges)
    {
        // Drop supplementary ranges (\uD800-style pairs cannot sit in a .NET class); samples have no such letters.
        var body = ranges.ToRegexClassBody();
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < body.Length; i++)
        {
            if (char.IsHighSurrogate(body[i]))
            {
                // skip "X-Y" where X and Y are surrogate pairs
                i += 1;
                if (i + 1 < body.Length && body[i + 1] == '-') i += 3;
                continue;
            }
            sb.Append(body[i]);
        }
        return sb.ToString();
    }

    [Fact]
    public void Unsupported_pre_tokenizer_names_are_refused_clearly()
    {
        var e = Assert.Throws<NotSupportedException>(() => ByteLevelPreTokenizer.ForName("qwen2"));
        Assert.Contains("qwen2", e.Message);
    }

    [Fact]
    public void Llama3_splits_numbers_in_threes_and_keeps_contractions()
    {
        var pre = ByteLevelPreTokenizer.ForName("llama-bpe");
        Assert.Equal(["I", "'VE", " got", " ", "123", "456", "7", " apples", "!\n\n", "  ", " Ok"],
            pre.SplitToStrings("I'VE got 1234567 apples!\n\n   Ok"));
    }
}
