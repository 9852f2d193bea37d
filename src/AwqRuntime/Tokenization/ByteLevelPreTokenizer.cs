namespace AwqRuntime.Tokenization;

/// <summary>
/// Splits text into words before byte-level BPE, reproducing llama.cpp's unicode_regex_split for a
/// tokenizer.ggml.pre name. llama.cpp applies a list of regexes in turn; each one splits every piece
/// left by the previous ones into matches and the gaps between them. The regexes used here are simple
/// enough to be written as hand matchers over code points, which avoids .NET Regex's UTF-16 view of
/// supplementary characters and reproduces llama.cpp's own quirks: its custom GPT-2 and Llama-3
/// splitters, and, for std::regex patterns, non-ASCII whitespace being seen as '\v' (so it is \s but
/// never a member of a character class).
/// </summary>
public sealed class ByteLevelPreTokenizer
{
    private delegate void Stage(int[] cps, int start, int end, List<int> lengths);

    private readonly Stage[] _stages;

    /// <summary>The pre-tokenizer name (tokenizer.ggml.pre) after resolving synonyms.</summary>
    public string Name { get; }

    /// <summary>llama.cpp's ignore_merges: a word that is itself a vocabulary token is emitted whole (Llama 3).</summary>
    public bool IgnoreMerges { get; }

    private ByteLevelPreTokenizer(string name, bool ignoreMerges, params Stage[] stages)
    {
        Name = name;
        IgnoreMerges = ignoreMerges;
        _stages = stages;
    }

    /// <summary>The names this implementation supports (llama.cpp's spellings).</summary>
    public static IReadOnlyList<string> SupportedNames { get; } =
        ["default", "gpt-2", "llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe", "deepseek-llm"];

    public static bool IsSupported(string? name) => name is null || SupportedNames.Contains(name);

    /// <summary>
    /// The pre-tokenizer llama.cpp uses for a tokenizer.ggml.pre value (null or missing = "default").
    /// Throws NotSupportedException for the many model-specific ones not implemented here.
    /// </summary>
    public static ByteLevelPreTokenizer ForName(string? name) => name switch
    {
        null or "default" => new("default", false,
            Run(IsDefaultPunctuation), Gpt2, Run(UnicodeClasses.IsNumber), ThreeAsciiDigits),
        "gpt-2" => new("gpt-2", false, Gpt2),
        "llama-bpe" or "llama3" or "llama-v3" => new("llama-bpe", true, Llama3),
        "dbrx" or "smaug-bpe" => new(name, false, Llama3),
        "deepseek-llm" => new("deepseek-llm", false,
            Newlines,
            OptionalSpaceThenRun(cp => StdRegexClassMember(cp, DeepSeekLetters)),
            OptionalSpaceThenRun(cp => StdRegexClassMember(cp, DeepSeekPunctuation)),
            TrailingWhitespace,
            Run(cp => StdRegexClassMember(cp, DeepSeekCjk)),
            Run(UnicodeClasses.IsNumber)),
        _ => throw new NotSupportedException(
            $"byte-level pre-tokenizer '{name}' is not supported (supported: {string.Join(", ", SupportedNames)})"),
    };

    /// <summary>Word boundaries as consecutive lengths in code points (they sum to cps.Length).</summary>
    public List<int> Split(int[] cps)
    {
        var lengths = new List<int> { cps.Length };
        if (cps.Length == 0) return [];
        foreach (var stage in _stages)
        {
            var next = new List<int>(lengths.Count * 2);
            var start = 0;
            foreach (var len in lengths)
            {
                stage(cps, start, start + len, next);
                start += len;
            }
            lengths = next;
        }
        return lengths;
    }

    /// <summary>Splits into words and returns them as strings (for tests and diagnostics).</summary>
    public List<string> SplitToStrings(string text)
    {
        var cps = UnicodeClasses.CodePoints(text);
        var words = new List<string>();
        var start = 0;
        foreach (var len in Split(cps))
        {
            var sb = new System.Text.StringBuilder();
            for (var i = start; i < start + len; i++) sb.Append(char.ConvertFromUtf32(cps[i]));
            words.Add(sb.ToString());
            start += len;
        }
        return words;
    }

    // ---- generic regex-iterator emulation: matches and the gaps between them become words ----

    private static void EmitMatches(int[] cps, int start, int end, List<int> lengths, Func<int[], int, int, int> matchAt)
    {
        var pos = start;
        while (pos < end)
        {
            var q = pos;
            var len = 0;
            while (q < end && (len = matchAt(cps, q, end)) == 0) q++;
            if (len == 0) break;
            if (q > pos) lengths.Add(q - pos);
            lengths.Add(len);
            pos = q + len;
        }
        if (pos < end) lengths.Add(end - pos);
    }

    /// <summary>[class]+</summary>
    private static Stage Run(Func<int, bool> member) => (cps, start, end, lengths) =>
        EmitMatches(cps, start, end, lengths, (c, q, e) =>
        {
            var p = q;
            while (p < e && member(c[p])) p++;
            return p - q;
        });

    /// <summary>\s?[class]+ (greedy optional whitespace, as ECMAScript backtracking resolves it).</summary>
    private static Stage OptionalSpaceThenRun(Func<int, bool> member) => (cps, start, end, lengths) =>
        EmitMatches(cps, start, end, lengths, (c, q, e) =>
        {
            var p = q;
            if (UnicodeClasses.IsWhitespace(c[p]) && p + 1 < e && member(c[p + 1])) p++;
            if (!member(c[p])) return 0;
            while (p < e && member(c[p])) p++;
            return p - q;
        });

    /// <summary>[\r\n]</summary>
    private static readonly Stage Newlines = (cps, start, end, lengths) =>
        EmitMatches(cps, start, end, lengths, (c, q, _) => c[q] is '\r' or '\n' ? 1 : 0);

    /// <summary>\s+$ — the whitespace run that ends the piece.</summary>
    private static readonly Stage TrailingWhitespace = (cps, start, end, lengths) =>
    {
        var t = end;
        while (t > start && UnicodeClasses.IsWhitespace(cps[t - 1])) t--;
        if (t > start) lengths.Add(t - start);
        if (t < end) lengths.Add(end - t);
    };

    /// <summary>[0-9][0-9][0-9]</summary>
    private static readonly Stage ThreeAsciiDigits = (cps, start, end, lengths) =>
        EmitMatches(cps, start, end, lengths, (c, q, e) =>
            q + 3 <= e && IsAsciiDigit(c[q]) && IsAsciiDigit(c[q + 1]) && IsAsciiDigit(c[q + 2]) ? 3 : 0);

    private static bool IsAsciiDigit(int cp) => cp is >= '0' and <= '9';

    /// <summary>[\p{P}\$\+&lt;=&gt;\^~\|] as llama.cpp's collapsed-category regex evaluates it.</summary>
    private static bool IsDefaultPunctuation(int cp) =>
        UnicodeClasses.IsPunctuation(cp) || cp is '$' or '+' or '<' or '=' or '>' or '^' or '~' or '|';

    /// <summary>
    /// Membership in a literal std::wregex class: llama.cpp rewrites non-ASCII whitespace to '\v'
    /// before matching, so such characters never match a class of non-ASCII ranges.
    /// </summary>
    private static bool StdRegexClassMember(int cp, CodePointRanges ranges) =>
        !(cp > 0x7F && UnicodeClasses.IsWhitespace(cp)) && ranges.Contains(cp);

    // ---- GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ ----

    private static readonly Stage Gpt2 = Pieces(static (cps, pos, end) =>
    {
        var cp = cps[pos];
        var contraction = ContractionLength(cps, pos, end, ignoreCase: false);
        if (contraction > 0) return pos + contraction;

        // " ?X+" where X is the class of the character after an optional leading space.
        var head = cp == ' ' ? pos + 1 : pos;
        if (head < end)
        {
            var cls = ClassOf(cps[head]);
            if (cls != CharClass.Whitespace)
            {
                pos = head;
                while (pos < end && ClassOf(cps[pos]) == cls) pos++;
                return pos;
            }
        }

        var ws = 0;
        while (pos + ws < end && UnicodeClasses.IsWhitespace(cps[pos + ws])) ws++;
        if (ws > 1 && pos + ws < end) return pos + ws - 1; // \s+(?!\S): leave the last space to the next word
        return pos + Math.Max(ws, 1);
    });

    private enum CharClass { Letter, Number, Whitespace, Other }

    private static CharClass ClassOf(int cp) =>
        UnicodeClasses.IsLetter(cp) ? CharClass.Letter
        : UnicodeClasses.IsNumber(cp) ? CharClass.Number
        : UnicodeClasses.IsWhitespace(cp) ? CharClass.Whitespace
        : CharClass.Other;

    // ---- Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ ----

    private static readonly Stage Llama3 = Pieces(static (cps, pos, end) =>
    {
        var cp = cps[pos];
        var contraction = ContractionLength(cps, pos, end, ignoreCase: true);
        if (contraction > 0) return pos + contraction;

        var cls = ClassOf(cp);

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cp is not ('\r' or '\n') && cls != CharClass.Number
            && (cls == CharClass.Letter || (pos + 1 < end && ClassOf(cps[pos + 1]) == CharClass.Letter)))
        {
            pos++;
            while (pos < end && ClassOf(cps[pos]) == CharClass.Letter) pos++;
            return pos;
        }

        // \p{N}{1,3}
        if (cls == CharClass.Number)
        {
            var runEnd = Math.Min(end, pos + 3);
            pos++;
            while (pos < runEnd && ClassOf(cps[pos]) == CharClass.Number) pos++;
            return pos;
        }

        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        var head = cp == ' ' ? pos + 1 : pos;
        if (head < end ? ClassOf(cps[head]) == CharClass.Other : cp == ' ')
        {
            pos = head;
            while (pos < end && ClassOf(cps[pos]) == CharClass.Other) pos++;
            while (pos < end && cps[pos] is '\r' or '\n') pos++;
            return pos;
        }

        var ws = 0;
        var afterLastNewline = -1;
        while (pos + ws < end && UnicodeClasses.IsWhitespace(cps[pos + ws]))
        {
            if (cps[pos + ws] is '\r' or '\n') afterLastNewline = pos + ws + 1;
            ws++;
        }
        if (afterLastNewline > 0) return afterLastNewline;       // \s*[\r\n]+
        if (ws > 1 && pos + ws < end) return pos + ws - 1;     // \s+(?!\S)
        return pos + Math.Max(ws, 1);                          // \s+, or one character nothing else matched
    });

    /// <summary>End of the piece that starts at pos (always past pos): one match of an alternation.</summary>
    private delegate int PieceEnd(int[] cps, int pos, int end);

    /// <summary>
    /// A stage for a pattern that matches everywhere (llama.cpp's custom GPT-2 and Llama 3 splitters):
    /// the span is cut into consecutive pieces, each where the previous one ended.
    /// </summary>
    private static Stage Pieces(PieceEnd next) => (cps, start, end, lengths) =>
    {
        for (var pos = start; pos < end;)
        {
            var to = next(cps, pos, end);
            lengths.Add(to - pos);
            pos = to;
        }
    };

    private static int AsciiLower(int cp) => cp is >= 'A' and <= 'Z' ? cp + 32 : cp;

    /// <summary>
    /// Length of the contraction ('s 't 'm 'd 're 've 'll) starting at <paramref name="pos"/>, or 0.
    /// GPT-2's pattern matches lower case only; Llama 3's (?i:...) any case.
    /// </summary>
    private static int ContractionLength(int[] cps, int pos, int end, bool ignoreCase)
    {
        if (cps[pos] != '\'' || pos + 1 >= end) return 0;
        var n1 = ignoreCase ? AsciiLower(cps[pos + 1]) : cps[pos + 1];
        if (n1 is 's' or 't' or 'm' or 'd') return 2;
        if (pos + 2 >= end) return 0;
        var n2 = ignoreCase ? AsciiLower(cps[pos + 2]) : cps[pos + 2];
        return (n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l') ? 3 : 0;
    }

    // ---- DeepSeek LLM character classes (llama.cpp LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM, from the model's tokenizer.json) ----

    /// <summary>
    /// \s?[A-Za-zµÀ-ÖØ-ö...]+ : the cased letters (Lu/Ll/Lt) as the model's regex enumerates them,
    /// written as code point ranges because several of its endpoints (U+1F7D, U+1FBE, U+1FD3, U+1FDB,
    /// U+2126, U+212A) are characters that Unicode normalization silently replaces by look-alikes.
    /// </summary>
    internal static readonly CodePointRanges DeepSeekLetters = new(
    [
        (0x0041, 0x005A), (0x0061, 0x007A), (0x00B5, 0x00B5), (0x00C0, 0x00D6), (0x00D8, 0x00F6),
        (0x00F8, 0x01BA), (0x01BC, 0x01BF), (0x01C4, 0x0293), (0x0295, 0x02AF), (0x0370, 0x0373),
        (0x0376, 0x0377), (0x037B, 0x037D), (0x037F, 0x037F), (0x0386, 0x0386), (0x0388, 0x038A),
        (0x038C, 0x038C), (0x038E, 0x03A1), (0x03A3, 0x03F5), (0x03F7, 0x0481), (0x048A, 0x052F),
        (0x0531, 0x0556), (0x10A0, 0x10C5), (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1C90, 0x1CBA),
        (0x1CBD, 0x1CBF), (0x1D00, 0x1D2B), (0x1D6B, 0x1D77), (0x1D79, 0x1D9A), (0x1E00, 0x1F15),
        (0x1F18, 0x1F1D), (0x1F20, 0x1F45), (0x1F48, 0x1F4D), (0x1F50, 0x1F57), (0x1F59, 0x1F59),
        (0x1F5B, 0x1F5B), (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D), (0x1F80, 0x1FB4), (0x1FB6, 0x1FBC),
        (0x1FBE, 0x1FBE), (0x1FC2, 0x1FC4), (0x1FC6, 0x1FCC), (0x1FD0, 0x1FD3), (0x1FD6, 0x1FDB),
        (0x1FE0, 0x1FEC), (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFC), (0x2102, 0x2102), (0x2107, 0x2107),
        (0x210A, 0x2113), (0x2115, 0x2115), (0x2119, 0x211D), (0x2124, 0x2124), (0x2126, 0x2126),
        (0x2128, 0x2128), (0x212A, 0x212D), (0x212F, 0x2134), (0x2139, 0x2139), (0x213C, 0x213F),
        (0x2145, 0x2149), (0x214E, 0x214E), (0x2183, 0x2184), (0x2C00, 0x2C7B), (0x2C7E, 0x2CE4),
        (0x2CEB, 0x2CEE), (0x2CF2, 0x2CF3), (0xA640, 0xA66D), (0xA680, 0xA69B), (0xA722, 0xA76F),
        (0xA771, 0xA787), (0xA78B, 0xA78E), (0xAB70, 0xABBF), (0xFB00, 0xFB06), (0xFB13, 0xFB17),
        (0xFF21, 0xFF3A), (0xFF41, 0xFF5A), (0x10400, 0x1044F), (0x104B0, 0x104D3), (0x104D8, 0x104FB),
        (0x10C80, 0x10CB2), (0x10CC0, 0x10CF2), (0x118A0, 0x118DF), (0x1E900, 0x1E943),
    ]);

    /// <summary>\s?[!-/:-~！-／：-～‘-‟　-。]+ (ASCII punctuation and letters, full-width forms, quotes, CJK full stop).</summary>
    internal static readonly CodePointRanges DeepSeekPunctuation = new(
    [
        (0x0021, 0x002F), (0x003A, 0x007E), (0x2018, 0x201F), (0x3000, 0x3002), (0xFF01, 0xFF0F), (0xFF1A, 0xFF5E),
    ]);

    /// <summary>[一-龥ࠀ-一가-퟿]+ (U+4E00–U+9FA5, U+0800–U+4E00, U+AC00–U+D7FF).</summary>
    internal static readonly CodePointRanges DeepSeekCjk = new([(0x0800, 0x9FA5), (0xAC00, 0xD7FF)]);

    /// <summary>The regexes llama.cpp's DeepSeek-LLM pre-tokenizer applies, in order, as regex source (for tokenizer.json).</summary>
    internal static string[] DeepSeekLlmPatterns() =>
    [
        "[\r\n]",
        @"\s?[" + DeepSeekLetters.ToRegexClassBody() + "]+",
        @"\s?[" + DeepSeekPunctuation.ToRegexClassBody() + "]+",
        @"\s+$",
        "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
        @"\p{N}+",
    ];

    internal const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
}

/// <summary>A sorted set of inclusive code point ranges.</summary>
internal sealed class CodePointRanges
{
    private readonly int[] _starts;
    private readonly int[] _ends;

    public CodePointRanges((int Start, int End)[] ranges)
    {
        var sorted = ranges.OrderBy(r => r.Start).ToArray();
        _starts = sorted.Select(r => r.Start).ToArray();
        _ends = sorted.Select(r => r.End).ToArray();
    }

    public bool Contains(int cp)
    {
        var i = Array.BinarySearch(_starts, cp);
        if (i < 0) i = ~i - 1;
        return i >= 0 && cp <= _ends[i];
    }

    /// <summary>The ranges as the body of a regex character class ("A-Za-z...").</summary>
    public string ToRegexClassBody()
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < _starts.Length; i++)
        {
            AppendLiteral(sb, _starts[i]);
            if (_ends[i] == _starts[i]) continue;
            if (_ends[i] > _starts[i] + 1) sb.Append('-');
            AppendLiteral(sb, _ends[i]);
        }
        return sb.ToString();
    }

    private static void AppendLiteral(System.Text.StringBuilder sb, int cp)
    {
        if (cp is '-' or ']' or '[' or '\\' or '^') sb.Append('\\');
        sb.Append(char.ConvertFromUtf32(cp));
    }
}
