using AwqRuntime.Tests.Tokenization;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// tokenizer.json ids are bounded and dense: id 2^31−1 used to wrap the vocabulary count (max + 1)
/// and escape as an OverflowException; a folder's tokenizer is checked against the model's vocab_size.
/// </summary>
public sealed class TokenizerIdBoundsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"awq-tokid-{Guid.NewGuid():N}");
    private readonly string _json;
    private readonly string _original;

    public TokenizerIdBoundsTests()
    {
        HfTokenizerWriter.Write(TokenizerTestData.Tok512.Spec, _dir);
        _json = Path.Combine(_dir, "tokenizer.json");
        _original = File.ReadAllText(_json);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Expect(string content, params string[] fragments)
    {
        File.WriteAllText(_json, content);
        var e = Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(_dir));
        Assert.Contains(_json, e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    [Fact]
    public void An_id_of_int_max_in_model_vocab_is_rejected_naming_the_key()
    {
        Assert.Contains("\"<0x00>\": 3", _original);
        Expect(_original.Replace("\"<0x00>\": 3", "\"<0x00>\": 2147483647"), "model.vocab[", "2147483647", "outside");
        Expect(_original.Replace("\"<0x00>\": 3", "\"<0x00>\": -4"), "model.vocab[", "-4");
    }

    [Fact]
    public void An_id_of_int_max_in_added_tokens_is_rejected_naming_the_key()
    {
        Assert.Contains("\"id\": 0,", _original);
        Expect(_original.Replace("\"id\": 0,", "\"id\": 2147483647,"), "added_tokens[0].id", "2147483647");
    }

    [Fact]
    public void Sparse_ids_are_rejected_unless_the_model_vocab_size_vouches_for_them()
    {
        Expect(_original.Replace("\"<0x00>\": 3", "\"<0x00>\": 1000000"), "model.vocab", "not dense");
    }

    [Fact]
    public void A_folder_tokenizer_is_checked_against_the_model_vocab_size()
    {
        // Larger than the tokenizer: padded with unused tokens, as llama.cpp's converter does.
        Assert.Equal(520, TokenizerFiles.Read(_dir, 520).VocabSize);
        Assert.Equal(512, TokenizerFiles.Read(_dir, 512).VocabSize);
        // Smaller: the tokenizer names ids the model has no row for.
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFiles.Read(_dir, 400));
        Assert.Contains(_json, e.Message);
        Assert.Contains("400", e.Message);
    }
}
