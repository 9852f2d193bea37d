using System.Text;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>Decode(Encode(x)) == x and streaming decode, over real text and awkward Unicode.</summary>
public class RoundTripTests
{
    public static TheoryData<string> Vocabularies => new() { "tok512", "llama2", "deepseek" };

    private static ITokenizer Vocabulary(string name) => name switch
    {
        "tok512" => TokenizerTestData.Tok512,
        "llama2" => TokenizerTestData.Llama2Model,
        "deepseek" => TokenizerTestData.DeepSeek,
        _ => throw new ArgumentException(name),
    };

    public static readonly string[] Tricky =
    [
        "",
        " ",
        "   leading and trailing   ",
        "\n\n\tTabs\tand\r\nCRLF\r\n",
        "Emoji: 🦙🚀😶‍🌫️ ✅ 👩🏽‍💻 🇯🇵",
        "CJK: 我想在apple工作1314151天～ 日本語のテキスト 한국어 텍스트",
        "Combining: e\u0301 a\u0308 n\u0303 \u0915\u094D\u0937 \u1100\u1161\u11A8",
        "Cyrillic: нещо на Български; Greek: Καλημέρα κόσμε; Khmer: កាន់តែពិសេសអាចខលចេញ",
        "Math 𝔸𝔹ℂ ∑∫√ and supplementary CJK 𠀀𠀁",
        "Zero-width\u200B\u200C\u200Djoiners and NBSP\u00A0here, ideographic\u3000space",
        "Control chars \u0001\u0002\u001F\u007F",
        "<s> </s> <unk> <|begin_of_text|> look like specials but are text",
        "Führer ½ months w048 7tuijk dsdfhu 3..3 ------=======",
    ];

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Eval_text_round_trips_exactly(string vocabulary)
    {
        var tokenizer = Vocabulary(vocabulary);
        var text = TokenizerTestData.EvalText;
        var ids = tokenizer.Encode(text, addBos: true);
        Assert.Equal(tokenizer.Spec.BosId, ids[0]);
        Assert.True(ids.Length < text.Length, "tokenization should compress the text");
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Tricky_unicode_round_trips_with_and_without_bos(string vocabulary)
    {
        var tokenizer = Vocabulary(vocabulary);
        foreach (var s in Tricky)
        {
            Assert.Equal(s, tokenizer.Decode(tokenizer.Encode(s, addBos: true)));
            Assert.Equal(s, tokenizer.Decode(tokenizer.Encode(s, addBos: false)));
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Lone_surrogates_become_replacement_characters(string vocabulary)
    {
        var tokenizer = Vocabulary(vocabulary);
        Assert.Equal("a\uFFFDb\uFFFDc", tokenizer.Decode(tokenizer.Encode("a\uD800b\uDC00c", addBos: true)));
        Assert.Equal("\uFFFD", tokenizer.Decode(tokenizer.Encode("\uDBFF", addBos: false)));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Streaming_one_id_at_a_time_equals_decode_and_never_splits_characters(string vocabulary)
    {
        var tokenizer = Vocabulary(vocabulary);
        foreach (var s in Tricky.Append(TokenizerTestData.EvalText[..20_000]))
        {
            var ids = tokenizer.Encode(s, addBos: true);
            var decoder = new StreamingDecoder(tokenizer);
            var sb = new StringBuilder();
            foreach (var id in ids)
            {
                var chunk = decoder.Append(id);
                Assert.DoesNotContain('\uFFFD', chunk);
                // Each chunk is whole characters: no dangling half of a surrogate pair.
                Assert.Equal(chunk, UnicodeClasses.Sanitize(chunk));
                sb.Append(chunk);
            }
            Assert.False(decoder.HasPendingBytes);
            sb.Append(decoder.Flush());
            Assert.Equal(s, sb.ToString());
            Assert.Equal(tokenizer.Decode(ids), sb.ToString());
        }
    }

    [Fact]
    public void Byte_fallback_pieces_hold_back_a_character_until_its_last_byte()
    {
        var tokenizer = TokenizerTestData.LlamaSpm;
        // 🦙 is not a Llama-2 piece: it is emitted as 4 byte pieces <0xF0><0x9F><0xA6><0x99>.
        var ids = tokenizer.Encode("🦙", addBos: false);
        Assert.Equal(new[] { 29871, 243, 162, 169, 156 }, ids);
        var decoder = new StreamingDecoder(tokenizer, atSequenceStart: false);
        Assert.Equal(" ", decoder.Append(ids[0]));
        Assert.Equal("", decoder.Append(ids[1]));
        Assert.True(decoder.HasPendingBytes);
        Assert.Equal("", decoder.Append(ids[2]));
        Assert.Equal("", decoder.Append(ids[3]));
        Assert.Equal("🦙", decoder.Append(ids[4]));
        Assert.False(decoder.HasPendingBytes);
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void Streaming_flush_and_invalid_bytes_emit_replacement_characters()
    {
        var tokenizer = TokenizerTestData.LlamaSpm;
        int Byte(int b) => 3 + b; // <0xNN> pieces are ids 3..258
        var decoder = new StreamingDecoder(tokenizer, atSequenceStart: false);
        Assert.Equal("", decoder.Append(Byte(0xF0)));
        Assert.Equal("", decoder.Append(Byte(0x9F)));
        Assert.Equal("\uFFFD", decoder.Flush()); // an unfinished character at the end of the stream
        decoder.Reset(atSequenceStart: false);
        Assert.Equal("\uFFFDA", decoder.Append(Byte(0xFF)) + decoder.Append(Byte('A')));
        Assert.Equal("\uFFFDA", tokenizer.Decode([Byte(0xFF), Byte('A')], atSequenceStart: false, renderSpecial: false));
    }

    [Fact]
    public void Leading_space_is_dropped_only_at_the_start_of_a_sequence()
    {
        var tokenizer = TokenizerTestData.LlamaSpm;
        var hello = tokenizer.Encode("Hello world", addBos: true);
        Assert.Equal(new[] { 1, 15043, 3186 }, hello);
        Assert.Equal("Hello world", tokenizer.Decode(hello));
        Assert.Equal(" Hello world", tokenizer.Decode(hello, atSequenceStart: false, renderSpecial: false));
        Assert.Equal("<s> Hello world", tokenizer.Decode(hello, atSequenceStart: true, renderSpecial: true));

        // A continuation decoded on its own keeps its space.
        var stream = new StreamingDecoder(tokenizer, atSequenceStart: false);
        Assert.Equal(" world", stream.Append(3186));
    }

    [Fact]
    public void Control_tokens_decode_to_nothing_unless_rendered()
    {
        var tokenizer = TokenizerTestData.DeepSeek;
        var ids = tokenizer.Encode("Hi", addBos: true);
        Assert.Equal(100000, ids[0]);
        Assert.Equal("Hi", tokenizer.Decode(ids));
        Assert.Equal("<｜begin▁of▁sentence｜>Hi", tokenizer.Decode(ids, atSequenceStart: true, renderSpecial: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([102400]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }
}
