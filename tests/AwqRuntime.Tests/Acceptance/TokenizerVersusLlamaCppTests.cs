using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>
/// Our tokenizer and llama.cpp's (through LLamaSharp), both reading the
/// vocabulary embedded in stories260K.gguf, give identical ids over the whole evaluation text, so the
/// token streams fed to both runtimes elsewhere can come from ours.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class TokenizerVersusLlamaCppTests(LlamaCppFixture fixture)
{
    private static readonly Lazy<ITokenizer> Ours = new(() => Tokenizer.FromFile(SharedData.Stories260KGguf));

    /// <summary>The eval text as our stories260K.gguf tokenizer encodes it, BOS first.</summary>
    internal static int[] OurEvalTokens() => OurEvalTokensLazy.Value;

    private static readonly Lazy<int[]> OurEvalTokensLazy = new(() => Ours.Value.Encode(File.ReadAllText(SharedData.EvalText), addBos: true));

    [Fact]
    public void The_whole_eval_text_tokenizes_identically()
    {
        var ours = OurEvalTokens();
        var theirs = fixture.Model.Tokenize(File.ReadAllText(SharedData.EvalText), addBos: true);
        Assert.True(ours.Length > 100_000, $"only {ours.Length} tokens");
        AssertSameIds(theirs, ours, "eval text");
    }

    [Fact]
    public void Each_line_tokenizes_identically_without_bos()
    {
        // Line by line puts every line at a text start (the dummy-prefix space), a case the whole
        // text exercises only once.
        var lines = File.ReadAllLines(SharedData.EvalText).Where(l => l.Length > 0).Take(400).ToArray();
        Assert.True(lines.Length >= 100);
        foreach (var line in lines)
            AssertSameIds(fixture.Model.Tokenize(line, addBos: false), Ours.Value.Encode(line, addBos: false), line);
    }

    [Fact]
    public void Decoding_agrees_with_llama_detokenize()
    {
        var ids = OurEvalTokens().AsSpan(1, 5000);
        Assert.Equal(fixture.Model.Detokenize(ids), Ours.Value.Decode(ids));
    }

    internal static void AssertSameIds(int[] expected, int[] actual, string what)
    {
        var n = Math.Min(expected.Length, actual.Length);
        for (var i = 0; i < n; i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{what}: first difference at token {i}: llama.cpp {expected[i]}, ours {actual[i]} " +
                    $"(llama.cpp [{string.Join(' ', expected.Skip(Math.Max(0, i - 3)).Take(8))}], ours [{string.Join(' ', actual.Skip(Math.Max(0, i - 3)).Take(8))}])");
        Assert.True(expected.Length == actual.Length, $"{what}: llama.cpp gives {expected.Length} tokens, ours {actual.Length}");
    }
}
