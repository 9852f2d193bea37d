using AwqRuntime.Formats.Gguf;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>Truncated, corrupt or mistyped vocabulary files fail with InvalidDataException naming the file; nothing else escapes.</summary>
public sealed class CorruptInputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"awq-corrupt-{Guid.NewGuid():N}");

    public CorruptInputTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertNamesFile(string path, Action read)
    {
        var e = Assert.Throws<InvalidDataException>(read);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Every_truncation_of_tok512_bin_fails_when_the_vocab_size_is_known()
    {
        var bytes = File.ReadAllBytes(SharedData.Tok512);
        for (var len = 0; len < bytes.Length; len++)
        {
            var path = WriteFile("tok.bin", bytes[..len]);
            AssertNamesFile(path, () => Llama2cTokenizerReader.Read(path, expectedVocabSize: 512));
        }
        Assert.Equal(512, Llama2cTokenizerReader.Read(WriteFile("tok.bin", bytes), 512).VocabSize);
    }

    [Fact]
    public void Truncations_inside_a_token_fail_even_without_a_vocab_size()
    {
        var bytes = File.ReadAllBytes(SharedData.Tok512);
        var failures = 0;
        for (var len = 0; len < bytes.Length; len++)
        {
            var path = WriteFile("tok.bin", bytes[..len]);
            try
            {
                // Cutting exactly between two tokens leaves a shorter but well-formed vocabulary.
                var spec = Llama2cTokenizerReader.Read(path);
                Assert.Equal(TokenizerTestData.Tok512.Spec.Tokens[..spec.VocabSize], spec.Tokens);
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message);
                failures++;
            }
        }
        Assert.True(failures > bytes.Length - 600, $"{failures} of {bytes.Length} truncations failed");
    }

    [Fact]
    public void Llama2c_header_and_length_fields_are_validated()
    {
        var good = File.ReadAllBytes(SharedData.Tok512);
        byte[] With(int offset, int value)
        {
            var b = (byte[])good.Clone();
            BitConverter.GetBytes(value).CopyTo(b, offset);
            return b;
        }
        foreach (var (name, bytes) in new[]
        {
            ("zero-max", With(0, 0)),
            ("negative-max", With(0, -5)),
            ("negative-len", With(8, -1)),            // token 0's length
            ("len-over-max", With(8, 100)),
            ("huge-len", With(8, int.MaxValue)),
            ("nan-score", With(4, BitConverter.SingleToInt32Bits(float.NaN))),
        })
        {
            var path = WriteFile(name + ".bin", bytes);
            AssertNamesFile(path, () => Llama2cTokenizerReader.Read(path));
        }
        var invalidUtf8 = (byte[])good.Clone();
        invalidUtf8[4 + 8] = 0xFF; // first byte of "<unk>"
        var p = WriteFile("utf8.bin", invalidUtf8);
        AssertNamesFile(p, () => Llama2cTokenizerReader.Read(p));
        AssertNamesFile(WriteFile("count.bin", good), () => Llama2cTokenizerReader.Read(Path.Combine(_dir, "count.bin"), 513));
    }

    [Fact]
    public void Truncated_or_corrupt_sentencepiece_models_fail_clearly()
    {
        var bytes = File.ReadAllBytes(Path.Combine(SharedData.Llama2TokenizerDir, "tokenizer.model"));
        var rng = new Random(1234);
        var lengths = Enumerable.Range(0, 300).Select(_ => rng.Next(bytes.Length))
            .Concat(Enumerable.Range(bytes.Length - 400, 400)).Append(0).Append(1);
        foreach (var len in lengths)
        {
            var path = WriteFile("tok.model", bytes[..len]);
            try
            {
                // Only a cut exactly after the trainer_spec (before the optional normalizer_spec) is well-formed.
                var spec = SentencePieceModelReader.Read(path);
                Assert.Equal(32000, spec.VocabSize);
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message);
            }
        }
        // Cut in the middle of the pieces: the trainer_spec is missing, so the model type is unknown.
        var mid = WriteFile("mid.model", bytes[..200_000]);
        AssertNamesFile(mid, () => SentencePieceModelReader.Read(mid));

        // Random bit flips never produce anything but a clean error or a model.
        for (var i = 0; i < 200; i++)
        {
            var copy = (byte[])bytes.Clone();
            for (var k = 0; k < 8; k++) copy[rng.Next(copy.Length)] ^= (byte)(1 << rng.Next(8));
            var path = WriteFile("flip.model", copy);
            try { SentencePieceModelReader.Read(path); }
            catch (InvalidDataException e) { Assert.Contains(path, e.Message); }
            catch (NotSupportedException e) { Assert.Contains(path, e.Message); }
        }
    }

    [Fact]
    public void A_unigram_sentencepiece_model_is_refused_as_unsupported()
    {
        var bytes = File.ReadAllBytes(Path.Combine(SharedData.Llama2TokenizerDir, "tokenizer.model")).ToList();
        // Append a second trainer_spec (later fields win in protobuf) with model_type = UNIGRAM (1).
        bytes.AddRange(new byte[] { 0x12, 0x02, 0x18, 0x01 });
        var path = WriteFile("unigram.model", bytes.ToArray());
        var e = Assert.Throws<NotSupportedException>(() => SentencePieceModelReader.Read(path));
        Assert.Contains("UNIGRAM", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Bad_tokenizer_json_fails_with_the_file_and_json_path()
    {
        var dir = Path.Combine(_dir, "hf");
        HfTokenizerWriter.Write(TokenizerTestData.Tok512.Spec, dir);
        var json = Path.Combine(dir, "tokenizer.json");
        var original = File.ReadAllText(json);

        void Expect(string content, string fragment)
        {
            File.WriteAllText(json, content);
            var e = Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(dir));
            Assert.Contains(json, e.Message);
            Assert.Contains(fragment, e.Message);
        }

        Expect("{", "not valid JSON");
        Expect("[]", "$");
        Expect(original[..(original.Length / 2)], "not valid JSON");
        Expect(original.Replace("\"vocab\": {", "\"vocab\": 5, \"vocab_moved\": {"), "model.vocab");
        Expect(original.Replace("\"<0x00>\": 3", "\"<0x00>\": \"three\""), "model.vocab");
        Expect(original.Replace("\"merges\": [", "\"merges\": [ 17,"), "model.merges[0]");
        Expect(original.Replace("\"merges\": [", "\"merges\": [ \"nospace\","), "model.merges[0]");
        Expect(original.Replace("\"id\": 0,", "\"id\": \"zero\","), "added_tokens[0].id");
        Expect(original.Replace("\"model\": {", "\"modelx\": {"), "model");

        File.WriteAllText(json, original);
        var config = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(config, "{\"bos_token\": 5}");
        var ce = Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(dir));
        Assert.Contains(config, ce.Message);
        File.WriteAllText(config, "{\"bos_token\": \"<nope>\"}");
        ce = Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(dir));
        Assert.Contains("<nope>", ce.Message);
        File.WriteAllText(config, "{\"add_bos_token\": \"yes\"}");
        ce = Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(dir));
        Assert.Contains("add_bos_token", ce.Message);
        File.WriteAllText(config, "not json");
        ce = Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(dir));
        Assert.Contains(config, ce.Message);
    }

    [Fact]
    public void Gguf_tokenizer_keys_with_wrong_types_or_sizes_fail_clearly()
    {
        var good = GgufTokenizerWriter.ToMetadata(TokenizerTestData.Tok512.Spec);
        void Expect(string name, Action<Dictionary<string, GgufValue>> change, string fragment)
        {
            var meta = new Dictionary<string, GgufValue>(good);
            change(meta);
            var path = Path.Combine(_dir, name + ".gguf");
            MetadataOnlyGguf.Write(path, meta);
            var e = Assert.Throws<InvalidDataException>(() => GgufTokenizerReader.Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains(fragment, e.Message);
        }
        Expect("no-model", m => m.Remove("tokenizer.ggml.model"), "tokenizer.ggml.model");
        Expect("tokens-int", m => m["tokenizer.ggml.tokens"] = GgufValue.Of(new int[512]), "tokenizer.ggml.tokens");
        Expect("scores-short", m => m["tokenizer.ggml.scores"] = GgufValue.Of(new float[10]), "tokenizer.ggml.scores");
        Expect("types-bad", m => m["tokenizer.ggml.token_type"] = GgufValue.Of(Enumerable.Repeat(9, 512).ToArray()), "tokenizer.ggml.token_type");
        Expect("model-int", m => m["tokenizer.ggml.model"] = GgufValue.Of(3u), "tokenizer.ggml.model");
        Expect("add-bos-int", m => m["tokenizer.ggml.add_bos_token"] = GgufValue.Of(1u), "add_bos_token");

        var bpe = GgufTokenizerWriter.ToMetadata(TokenizerTestData.DeepSeek.Spec);
        bpe.Remove("tokenizer.ggml.merges");
        var noMerges = Path.Combine(_dir, "no-merges.gguf");
        MetadataOnlyGguf.Write(noMerges, bpe);
        AssertNamesFile(noMerges, () => GgufTokenizerReader.Read(noMerges));

        var unknown = new Dictionary<string, GgufValue>(good) { ["tokenizer.ggml.model"] = GgufValue.Of("t5") };
        var t5 = Path.Combine(_dir, "t5.gguf");
        MetadataOnlyGguf.Write(t5, unknown);
        Assert.Contains("t5", Assert.Throws<NotSupportedException>(() => GgufTokenizerReader.Read(t5)).Message);
    }

    [Fact]
    public void Random_bytes_never_crash_any_reader()
    {
        var rng = new Random(42);
        for (var i = 0; i < 100; i++)
        {
            var bytes = new byte[rng.Next(0, 2000)];
            rng.NextBytes(bytes);
            foreach (var ext in new[] { ".bin", ".model", ".json", ".gguf" })
            {
                var path = WriteFile("random" + ext, bytes);
                try { TokenizerFiles.Read(path); }
                catch (InvalidDataException e) { Assert.Contains(path, e.Message); }
                catch (NotSupportedException e) { Assert.Contains(path, e.Message); }
            }
        }
    }
}
