using System.Text.Json;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

public class WriterTests
{
    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"awq-tok-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void Gguf_metadata_has_the_exact_types_llama_cpp_checks()
    {
        var meta = GgufTokenizerWriter.ToMetadata(TokenizerTestData.Tok512.Spec);
        void Is(string key, GgufValueType type, GgufValueType element = GgufValueType.UInt8)
        {
            Assert.True(meta.ContainsKey(key), key);
            Assert.Equal(type, meta[key].Type);
            if (type == GgufValueType.Array) Assert.Equal(element, meta[key].ElementType);
        }
        Is("tokenizer.ggml.model", GgufValueType.String);
        Is("tokenizer.ggml.pre", GgufValueType.String);
        Is("tokenizer.ggml.tokens", GgufValueType.Array, GgufValueType.String);
        Is("tokenizer.ggml.scores", GgufValueType.Array, GgufValueType.Float32);
        Is("tokenizer.ggml.token_type", GgufValueType.Array, GgufValueType.Int32);
        Is("tokenizer.ggml.bos_token_id", GgufValueType.UInt32);
        Is("tokenizer.ggml.eos_token_id", GgufValueType.UInt32);
        Is("tokenizer.ggml.unknown_token_id", GgufValueType.UInt32);
        Is("tokenizer.ggml.add_bos_token", GgufValueType.Bool);
        Is("tokenizer.ggml.add_eos_token", GgufValueType.Bool);
        Is("tokenizer.ggml.add_space_prefix", GgufValueType.Bool);
        Assert.False(meta.ContainsKey("tokenizer.ggml.merges"));
        Assert.False(meta.ContainsKey("tokenizer.ggml.padding_token_id")); // none
        Assert.Equal("llama", meta["tokenizer.ggml.model"].Value);
        Assert.IsType<string[]>(meta["tokenizer.ggml.tokens"].Value);
        Assert.IsType<float[]>(meta["tokenizer.ggml.scores"].Value);
        Assert.IsType<int[]>(meta["tokenizer.ggml.token_type"].Value);
        Assert.Equal(1u, meta["tokenizer.ggml.bos_token_id"].Value);
        Assert.Equal(6, ((int[])meta["tokenizer.ggml.token_type"].Value)[3]); // <0x00> is a BYTE token

        var bpe = GgufTokenizerWriter.ToMetadata(TokenizerTestData.DeepSeek.Spec);
        Assert.Equal("gpt2", bpe["tokenizer.ggml.model"].Value);
        Assert.Equal("deepseek-llm", bpe["tokenizer.ggml.pre"].Value);
        Assert.Equal((GgufValueType.Array, GgufValueType.String), (bpe["tokenizer.ggml.merges"].Type, bpe["tokenizer.ggml.merges"].ElementType));
        Assert.Equal(GgufValueType.UInt32, bpe["tokenizer.ggml.padding_token_id"].Type);
        Assert.False(bpe.ContainsKey("tokenizer.ggml.add_space_prefix"));
    }

    [Fact]
    public void Gguf_metadata_reads_back_through_the_gguf_reader_into_the_same_vocabulary()
    {
        var dir = TempDir();
        try
        {
            foreach (var (name, tokenizer) in new[] { ("tok512", TokenizerTestData.Tok512), ("deepseek", TokenizerTestData.DeepSeek) })
            {
                var path = Path.Combine(dir, name + ".gguf");
                MetadataOnlyGguf.Write(path, GgufTokenizerWriter.ToMetadata(tokenizer.Spec));
                var back = GgufTokenizerReader.Read(path);
                var original = tokenizer.Spec;
                Assert.Equal(original.Tokens, back.Tokens);
                Assert.Equal(original.Types, back.Types);
                Assert.Equal(original.Scores, back.Scores);
                Assert.Equal(original.Merges, back.Merges);
                Assert.Equal((original.BosId, original.EosId, original.UnkId, original.PadId), (back.BosId, back.EosId, back.UnkId, back.PadId));
                Assert.Equal((original.AddBos, original.AddEos, original.AddSpacePrefix), (back.AddBos, back.AddEos, back.AddSpacePrefix));
                var text = TokenizerTestData.EvalText[..30_000];
                Assert.Equal(tokenizer.Encode(text, true), Tokenizer.FromSpec(back).Encode(text, true));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Sentencepiece_merges_follow_the_hf_converter()
    {
        // tok512: merged pieces have distinct scores -(id-259), so merges come out in id order of their piece.
        var merges = HfTokenizerWriter.SentencePieceMerges(TokenizerTestData.Tok512.Spec);
        var spec = TokenizerTestData.Tok512.Spec;
        Assert.Equal(("\u2581", "t"), merges[0]);              // piece 259 "▁t"
        Assert.Equal(spec.Tokens[260], merges[1].Left + merges[1].Right);
        foreach (var (l, r) in merges)
        {
            Assert.Contains(l, spec.Tokens);
            Assert.Contains(r, spec.Tokens);
        }
    }

    public static TheoryData<string> SpmVocabularies => new() { "tok512", "llama2" };

    [Theory]
    [MemberData(nameof(SpmVocabularies))]
    public void Tokenizer_json_round_trip_encodes_identically(string vocabulary)
    {
        var tokenizer = vocabulary == "tok512" ? TokenizerTestData.Tok512 : TokenizerTestData.Llama2Model;
        var dir = TempDir();
        try
        {
            HfTokenizerWriter.Write(tokenizer.Spec, dir);
            var back = HfTokenizerReader.Read(dir);
            var original = tokenizer.Spec;
            Assert.Equal(TokenizerKind.SentencePieceBpe, back.Kind);
            Assert.Equal(original.Tokens, back.Tokens);
            Assert.Equal(original.Types, back.Types);
            Assert.Equal((original.BosId, original.EosId, original.UnkId), (back.BosId, back.EosId, back.UnkId));
            Assert.Equal((original.AddBos, original.AddEos, original.AddSpacePrefix), (back.AddBos, back.AddEos, back.AddSpacePrefix));

            var reread = Tokenizer.FromSpec(back);
            var text = TokenizerTestData.EvalText;
            Assert.Equal(tokenizer.Encode(text, true), reread.Encode(text, true));
            foreach (var (input, _) in TokenizerTestData.Vectors("ggml-vocab-llama-spm.gguf"))
                Assert.Equal(tokenizer.Encode(input, false), reread.Encode(input, false));
            foreach (var s in RoundTripTests.Tricky)
                Assert.Equal(tokenizer.Encode(s, true), reread.Encode(s, true));
            // Runs of spaces: the only pieces of Llama 2 whose scores tie (all -1e9).
            for (var n = 1; n <= 40; n++)
            {
                var spaces = new string(' ', n);
                Assert.Equal(tokenizer.Encode(spaces, false), reread.Encode(spaces, false));
                Assert.Equal(tokenizer.Encode("a" + spaces + "b" + spaces, false), reread.Encode("a" + spaces + "b" + spaces, false));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Llama2_tokenizer_json_matches_the_llama_cpp_vectors()
    {
        var dir = TempDir();
        try
        {
            HfTokenizerWriter.Write(TokenizerTestData.Llama2Model.Spec, dir);
            var tokenizer = Tokenizer.FromFile(dir);
            foreach (var (text, ids) in TokenizerTestData.Vectors("ggml-vocab-llama-spm.gguf"))
                Assert.Equal(ids, tokenizer.Encode(text, addBos: false));

            // The JSON is shaped like transformers' legacy Llama 2 tokenizer.json.
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")));
            var root = doc.RootElement;
            Assert.Equal("BPE", root.GetProperty("model").GetProperty("type").GetString());
            Assert.True(root.GetProperty("model").GetProperty("byte_fallback").GetBoolean());
            Assert.Equal("Prepend", root.GetProperty("normalizer").GetProperty("normalizers")[0].GetProperty("type").GetString());
            Assert.Equal(32000, root.GetProperty("model").GetProperty("vocab").EnumerateObject().Count());
            Assert.Equal(3, root.GetProperty("added_tokens").GetArrayLength());
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")));
            Assert.Equal("<s>", config.RootElement.GetProperty("bos_token").GetString());
            Assert.True(config.RootElement.GetProperty("add_bos_token").GetBoolean());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Byte_level_tokenizer_json_round_trip_matches_the_vectors()
    {
        var dir = TempDir();
        try
        {
            HfTokenizerWriter.Write(TokenizerTestData.DeepSeek.Spec, dir);
            var back = HfTokenizerReader.Read(dir);
            Assert.Equal(TokenizerKind.ByteLevelBpe, back.Kind);
            Assert.Equal("deepseek-llm", back.PreTokenizer);
            Assert.Equal(TokenizerTestData.DeepSeek.Spec.Merges, back.Merges);
            Assert.Equal(TokenizerTestData.DeepSeek.Spec.Types, back.Types);
            Assert.Equal(100000, back.BosId);
            Assert.True(back.AddBos);
            var tokenizer = Tokenizer.FromSpec(back);
            foreach (var (text, ids) in TokenizerTestData.Vectors("ggml-vocab-deepseek-llm.gguf"))
                Assert.Equal(ids, tokenizer.Encode(text, addBos: false));
        }
        finally { Directory.Delete(dir, true); }
    }
}
