using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>
/// llama.cpp's own tokenizer test vectors (tests/test-tokenizer-0: add_special = false,
/// parse_special = false): every line must match exactly.
/// </summary>
public class TokenizerVectorTests
{
    public static TheoryData<string> SpmSources => new() { "gguf", "tokenizer.model", "tokenizer.bin" };

    private static ITokenizer SpmSource(string name) => name switch
    {
        "gguf" => TokenizerTestData.LlamaSpm,
        "tokenizer.model" => TokenizerTestData.Llama2Model,
        "tokenizer.bin" => TokenizerTestData.Llama2Bin,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(SpmSources))]
    public void Llama_spm_vectors_match_every_line(string source)
    {
        var tokenizer = SpmSource(source);
        var vectors = TokenizerTestData.Vectors("ggml-vocab-llama-spm.gguf");
        Assert.Equal(46, vectors.Length);
        var failures = new List<string>();
        for (var i = 0; i < vectors.Length; i++)
        {
            var (text, expected) = vectors[i];
            var actual = tokenizer.Encode(text, addBos: false);
            if (!actual.SequenceEqual(expected))
                failures.Add($"#{i} {Escape(text)}\n  expected {string.Join(' ', expected)}\n  actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void DeepSeek_llm_byte_level_vectors_match_every_line()
    {
        var tokenizer = TokenizerTestData.DeepSeek;
        var vectors = TokenizerTestData.Vectors("ggml-vocab-deepseek-llm.gguf");
        Assert.Equal(46, vectors.Length);
        var failures = new List<string>();
        for (var i = 0; i < vectors.Length; i++)
        {
            var (text, expected) = vectors[i];
            var actual = tokenizer.Encode(text, addBos: false);
            if (!actual.SequenceEqual(expected))
                failures.Add($"#{i} {Escape(text)}\n  expected {string.Join(' ', expected)}\n  actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    internal static string Escape(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
