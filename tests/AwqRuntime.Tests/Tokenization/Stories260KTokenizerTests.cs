using System.Text.Json;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>The stories260K vocabulary (tok512.bin and the same 512 pieces embedded in stories260K.gguf).</summary>
public class Stories260KTokenizerTests
{
    private static JsonElement Reference(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(SharedData.ReferenceOutputs));
        return doc.RootElement.GetProperty(name).Clone();
    }

    private static int[] Ids(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Fact]
    public void Tok512_encodes_Zoo_like_llama2c()
    {
        var zoo = Reference("prompt_zoo");
        Assert.Equal("Zoo", zoo.GetProperty("prompt").GetString());
        var expected = Ids(zoo.GetProperty("encoded_prompt_ids"));
        Assert.Equal(new[] { 1, 410, 469, 347 }, expected);
        Assert.Equal(expected, TokenizerTestData.Tok512.Encode("Zoo", addBos: true));
        Assert.Equal(expected, TokenizerTestData.Stories260KGguf.Encode("Zoo", addBos: true));
    }

    [Fact]
    public void Tok512_reads_as_llama_cpp_converts_it()
    {
        var spec = TokenizerTestData.Tok512.Spec;
        Assert.Equal(512, spec.VocabSize);
        Assert.Equal(("<unk>", TokenType.Unknown), (spec.Tokens[0], spec.Types[0]));
        Assert.Equal(("<s>", TokenType.Control), (spec.Tokens[1], spec.Types[1]));
        Assert.Equal(("</s>", TokenType.Control), (spec.Tokens[2], spec.Types[2]));
        Assert.Equal(("<0x00>", TokenType.Byte), (spec.Tokens[3], spec.Types[3]));
        Assert.Equal(("<0xFF>", TokenType.Byte), (spec.Tokens[258], spec.Types[258]));
        Assert.Equal(("\u2581t", TokenType.Normal), (spec.Tokens[259], spec.Types[259]));
        Assert.Equal(-1f, spec.Scores![260]);
    }

    [Fact]
    public void Gguf_embedded_vocabulary_equals_tok512()
    {
        var bin = TokenizerTestData.Tok512.Spec;
        var gguf = TokenizerTestData.Stories260KGguf.Spec;
        Assert.Equal(bin.Tokens, gguf.Tokens);
        Assert.Equal(bin.Scores, gguf.Scores);
        Assert.Equal(bin.Types, gguf.Types);
        Assert.Equal((1, 2, 0, -1), (gguf.BosId, gguf.EosId, gguf.UnkId, gguf.PadId)); // padding 0xFFFFFFFF = none
    }

    [Fact]
    public void Gguf_and_tok512_give_identical_ids_over_the_eval_text()
    {
        var text = TokenizerTestData.EvalText;
        var fromBin = TokenizerTestData.Tok512.Encode(text, addBos: true);
        var fromGguf = TokenizerTestData.Stories260KGguf.Encode(text, addBos: true);
        Assert.True(fromBin.Length > 50_000, $"only {fromBin.Length} tokens");
        Assert.Equal(fromBin, fromGguf);
    }

    [Fact]
    public void Decoding_the_greedy_ids_reproduces_the_reference_text()
    {
        var greedy = Reference("greedy_from_bos");
        var ids = Ids(greedy.GetProperty("generated_ids"));
        var text = greedy.GetProperty("text").GetString();
        Assert.Equal(256, ids.Length);
        Assert.StartsWith("Once upon a time", text);
        Assert.Equal(text, TokenizerTestData.Tok512.Decode(ids));
        // With the BOS that started generation in front, the result is the same.
        Assert.Equal(text, TokenizerTestData.Tok512.Decode([1, .. ids]));

        var stream = new StreamingDecoder(TokenizerTestData.Tok512);
        var streamed = string.Concat(ids.Select(stream.Append)) + stream.Flush();
        Assert.Equal(text, streamed);
    }

    [Fact]
    public void Decoding_the_zoo_continuation_reproduces_the_reference_text()
    {
        var zoo = Reference("prompt_zoo");
        var ids = Ids(zoo.GetProperty("emitted_ids_including_prompt"));
        Assert.Equal(zoo.GetProperty("text").GetString(), TokenizerTestData.Tok512.Decode(ids));
    }

    [Fact]
    public void Encodes_the_perplexity_reference_prefix_exactly()
    {
        var reference = Reference("perplexity_reference");
        var expected = Ids(reference.GetProperty("token_ids"));
        Assert.Equal(512, expected.Length);
        // "the first 2000 characters (Python str, i.e. Unicode code points)" of the calibration text.
        var calib = File.ReadAllText(SharedData.CalibText);
        var cps = UnicodeClasses.CodePoints(calib).Take(2000).Select(char.ConvertFromUtf32);
        var ids = TokenizerTestData.Tok512.Encode(string.Concat(cps), addBos: true);
        Assert.Equal(expected, ids.Take(512));
    }
}
