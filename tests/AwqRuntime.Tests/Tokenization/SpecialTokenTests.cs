using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

public class SpecialTokenTests
{
    [Fact]
    public void Spm_control_texts_map_to_ids_only_with_parse_special()
    {
        var tokenizer = TokenizerTestData.LlamaSpm;
        // After a special token the next text fragment gets the dummy-prefix space again (llama.cpp).
        Assert.Equal(new[] { 1, 15043, 2 }, tokenizer.Encode("<s>Hello</s>", addBos: false, parseSpecial: true));
        Assert.Equal(new[] { 1, 1, 15043, 2 }, tokenizer.Encode("<s>Hello</s>", addBos: true, parseSpecial: true));
        var asText = tokenizer.Encode("<s>Hello</s>", addBos: false, parseSpecial: false);
        Assert.DoesNotContain(1, asText);
        Assert.DoesNotContain(2, asText);
        Assert.Equal("<s>Hello</s>", tokenizer.Decode(asText));
        // <unk> is matched too (llama.cpp treats UNKNOWN like CONTROL here); the text after it gets a prefix space again.
        var withUnk = tokenizer.Encode("Hello<unk> world", addBos: false, parseSpecial: true);
        Assert.Equal(15043, withUnk[0]);
        Assert.Equal(0, withUnk[1]);
        Assert.Equal(tokenizer.Encode(" world", addBos: false), withUnk[2..]);
    }

    [Fact]
    public void Byte_level_control_texts_map_to_ids_only_with_parse_special()
    {
        var tokenizer = TokenizerTestData.DeepSeek;
        const string bos = "<｜begin▁of▁sentence｜>";
        var parsed = tokenizer.Encode(bos + "Hello", addBos: false, parseSpecial: true);
        Assert.Equal(100000, parsed[0]);
        Assert.Equal(tokenizer.Encode("Hello", addBos: false), parsed[1..]);
        Assert.DoesNotContain(100000, tokenizer.Encode(bos + "Hello", addBos: false, parseSpecial: false));
        Assert.Equal(bos + "Hello", tokenizer.Decode(tokenizer.Encode(bos + "Hello", addBos: false), atSequenceStart: true, renderSpecial: false));
    }

    [Fact]
    public void User_defined_tokens_are_always_matched_whole()
    {
        // DeepSeek's vocabulary has single characters such as 'ü' (100014) as user-defined tokens.
        var tokenizer = TokenizerTestData.DeepSeek;
        Assert.Equal(TokenType.UserDefined, tokenizer.Spec.Types[100014]);
        Assert.Equal("ü", tokenizer.Spec.Tokens[100014]);
        Assert.Contains(100014, tokenizer.Encode("Führer", addBos: false, parseSpecial: false));
        Assert.Equal("Führer", tokenizer.Decode(tokenizer.Encode("Führer", addBos: false)));
    }

    [Fact]
    public void Longer_special_tokens_win_over_shorter_ones_they_contain()
    {
        var spec = SmallByteLevel("gpt-2", extraTokens: [("<a>", TokenType.Control), ("<a><b>", TokenType.Control)]);
        var tokenizer = Tokenizer.FromSpec(spec);
        var ab = Array.IndexOf(spec.Tokens, "<a><b>");
        var a = Array.IndexOf(spec.Tokens, "<a>");
        Assert.Equal(new[] { ab, a }, tokenizer.Encode("<a><b><a>", addBos: false, parseSpecial: true));
    }

    [Fact]
    public void Llama3_ignore_merges_emits_whole_words_that_are_tokens()
    {
        // "Ġhello" is a token, but no merge builds it: llama-bpe emits it whole, gpt-2 cannot reach it.
        var llama3 = Tokenizer.FromSpec(SmallByteLevel("llama-bpe", extraTokens: [("Ġhello", TokenType.Normal)]));
        var gpt2 = Tokenizer.FromSpec(SmallByteLevel("gpt-2", extraTokens: [("Ġhello", TokenType.Normal)]));
        var hello = Array.IndexOf(llama3.Spec.Tokens, "Ġhello");
        Assert.Equal(new[] { Array.IndexOf(llama3.Spec.Tokens, "hi"), hello }, llama3.Encode("hi hello", addBos: false));
        var viaMerges = gpt2.Encode("hi hello", addBos: false);
        Assert.DoesNotContain(hello, viaMerges);
        Assert.Equal("hi hello", gpt2.Decode(viaMerges));
        Assert.Equal("hi hello", llama3.Decode(llama3.Encode("hi hello", addBos: false)));
    }

    [Fact]
    public void Byte_level_merges_apply_lowest_rank_first()
    {
        var tokenizer = Tokenizer.FromSpec(SmallByteLevel("gpt-2"));
        var t = tokenizer.Spec.Tokens;
        // "hhi": merges "h i" (rank 0) beats "h h" (rank 2), so h + hi.
        Assert.Equal(new[] { Array.IndexOf(t, "h"), Array.IndexOf(t, "hi") }, tokenizer.Encode("hhi", addBos: false));
        Assert.Equal(new[] { Array.IndexOf(t, "Ġhi") }, tokenizer.Encode(" hi", addBos: false));
    }

    /// <summary>All 256 byte characters, a few merges and optional extra tokens.</summary>
    internal static TokenizerSpec SmallByteLevel(string pre, (string Text, TokenType Type)[]? extraTokens = null)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.Encode((byte)b).ToString()).ToList();
        var types = Enumerable.Repeat(TokenType.Normal, 256).ToList();
        string[] merges = ["h i", "Ġ hi", "h h"];
        foreach (var m in merges) { tokens.Add(m.Replace(" ", "")); types.Add(TokenType.Normal); }
        foreach (var (text, type) in extraTokens ?? []) { tokens.Add(text); types.Add(type); }
        return new TokenizerSpec
        {
            Kind = TokenizerKind.ByteLevelBpe,
            Tokens = tokens.ToArray(),
            Types = types.ToArray(),
            Merges = merges,
            BosId = -1,
            EosId = -1,
            UnkId = -1,
            AddBos = false,
            AddSpacePrefix = false,
            PreTokenizer = pre,
        };
    }
}
