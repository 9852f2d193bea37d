using System.Text.Json.Nodes;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>The shapes tokenizer.json and its config files take in the wild.</summary>
public sealed class HfTokenizerReaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"awq-hf-{Guid.NewGuid():N}");

    public HfTokenizerReaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Json => Path.Combine(_dir, "tokenizer.json");
    private string Config => Path.Combine(_dir, "tokenizer_config.json");

    private JsonObject WriteTok512()
    {
        HfTokenizerWriter.Write(TokenizerTestData.Tok512.Spec, _dir);
        return JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
    }

    private void Save(JsonObject root) => File.WriteAllText(Json, root.ToJsonString());

    [Fact]
    public void Metaspace_pre_tokenizer_is_read_like_the_legacy_normalizer()
    {
        var root = WriteTok512();
        root["normalizer"] = null;
        root["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = "first", ["split"] = false };
        Save(root);
        var spec = HfTokenizerReader.Read(_dir);
        Assert.True(spec.AddSpacePrefix);
        var text = TokenizerTestData.EvalText[..20_000];
        Assert.Equal(TokenizerTestData.Tok512.Encode(text, true), Tokenizer.FromSpec(spec).Encode(text, true));

        root["pre_tokenizer"]!["prepend_scheme"] = "never";
        Save(root);
        Assert.False(HfTokenizerReader.Read(_dir).AddSpacePrefix);
    }

    [Fact]
    public void Tokenizer_config_tokens_flags_and_template_lists_are_understood()
    {
        WriteTok512();
        File.WriteAllText(Config, """
            {
              "add_bos_token": false,
              "add_eos_token": true,
              "bos_token": { "__type": "AddedToken", "content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false },
              "eos_token": "</s>",
              "unk_token": "<unk>",
              "pad_token": null,
              "chat_template": [ { "name": "tool_use", "template": "T" }, { "name": "default", "template": "D" } ]
            }
            """);
        var spec = HfTokenizerReader.Read(_dir);
        Assert.Equal((1, 2, 0, -1), (spec.BosId, spec.EosId, spec.UnkId, spec.PadId));
        Assert.False(spec.AddBos);
        Assert.True(spec.AddEos);
        Assert.Equal("D", spec.ChatTemplate);
        var ids = Tokenizer.FromSpec(spec).EncodeWithDefaults("Zoo");
        Assert.Equal(new[] { 410, 469, 347, 2 }, ids);
    }

    [Fact]
    public void Generation_config_supplies_ids_when_the_tokenizer_config_does_not()
    {
        WriteTok512();
        File.Delete(Config);
        File.WriteAllText(Path.Combine(_dir, "generation_config.json"), """{ "bos_token_id": 1, "eos_token_id": [2, 0] }""");
        File.WriteAllText(Path.Combine(_dir, "chat_template.jinja"), "{{ messages }}");
        var spec = HfTokenizerReader.Read(_dir);
        Assert.Equal((1, 2), (spec.BosId, spec.EosId));
        Assert.True(spec.AddBos); // from the TemplateProcessing post-processor
        Assert.Equal("{{ messages }}", spec.ChatTemplate);
    }

    [Fact]
    public void Missing_ids_up_to_the_model_vocab_size_become_unused_pad_tokens()
    {
        WriteTok512();
        var spec = HfTokenizerReader.Read(_dir, vocabSize: 520);
        Assert.Equal(520, spec.VocabSize);
        Assert.Equal("[PAD515]", spec.Tokens[515]);
        Assert.Equal(TokenType.Unused, spec.Types[515]);
        Assert.Throws<InvalidDataException>(() => HfTokenizerReader.Read(_dir, vocabSize: 100));
    }

    [Fact]
    public void Llama3_style_byte_level_json_is_read_with_its_template_bos()
    {
        var spec = SpecialTokenTests.SmallByteLevel("llama-bpe",
            [("<|begin_of_text|>", TokenType.Control), ("<|end_of_text|>", TokenType.Control), ("<|reserved|>", TokenType.UserDefined)]);
        var bos = spec.VocabSize - 3;
        var vocab = new JsonObject();
        for (var id = 0; id < spec.VocabSize - 3; id++) vocab[spec.Tokens[id]] = id;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = bos, ["content"] = "<|begin_of_text|>", ["special"] = true },
                new JsonObject { ["id"] = bos + 1, ["content"] = "<|end_of_text|>", ["special"] = true },
                new JsonObject { ["id"] = bos + 2, ["content"] = "<|reserved|>", ["special"] = false }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = ByteLevelPreTokenizer.Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["processors"] = new JsonArray(
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                    new JsonObject
                    {
                        ["type"] = "TemplateProcessing",
                        ["single"] = new JsonArray(
                            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                        ["special_tokens"] = new JsonObject
                        {
                            ["<|begin_of_text|>"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["ids"] = new JsonArray(bos), ["tokens"] = new JsonArray("<|begin_of_text|>") },
                        },
                    }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["ignore_merges"] = true,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(spec.Merges!.Select(m => (JsonNode)new JsonArray(m.Split(' ')[0], m.Split(' ')[1])).ToArray()),
            },
        };
        Save(root);
        var read = HfTokenizerReader.Read(Json);
        Assert.Equal(TokenizerKind.ByteLevelBpe, read.Kind);
        Assert.Equal("llama-bpe", read.PreTokenizer);
        Assert.Equal(spec.Tokens, read.Tokens);
        Assert.Equal(spec.Types, read.Types);
        Assert.Equal(spec.Merges, read.Merges);
        Assert.Equal(bos, read.BosId);
        Assert.True(read.AddBos);
        Assert.False(read.AddEos);
        Assert.False(read.AddSpacePrefix);
        var tokenizer = Tokenizer.FromSpec(read);
        Assert.Equal(new[] { bos, Array.IndexOf(spec.Tokens, "hi"), Array.IndexOf(spec.Tokens, "Ġhi") }, tokenizer.Encode("hi hi", addBos: true));
        Assert.Equal(new[] { bos + 2 }, tokenizer.Encode("<|reserved|>", addBos: false));
        Assert.Equal(new[] { bos }, tokenizer.Encode("<|begin_of_text|>", addBos: false, parseSpecial: true));
    }

    [Fact]
    public void Unsupported_tokenizer_models_are_refused_clearly()
    {
        File.WriteAllText(Json, """{ "model": { "type": "Unigram", "vocab": [] } }""");
        Assert.Contains("Unigram", Assert.Throws<NotSupportedException>(() => HfTokenizerReader.Read(_dir)).Message);
        File.WriteAllText(Json, """{ "model": { "type": "BPE", "vocab": { "a": 0 }, "merges": [] } }""");
        Assert.Throws<NotSupportedException>(() => HfTokenizerReader.Read(_dir)); // neither byte-level nor SentencePiece-style
        File.WriteAllText(Json, """
            { "pre_tokenizer": { "type": "Split", "pattern": { "Regex": "\\d+" }, "behavior": "Isolated" },
              "decoder": null,
              "model": { "type": "BPE", "vocab": { "a": 0 }, "merges": [] } }
            """);
        Assert.Throws<NotSupportedException>(() => HfTokenizerReader.Read(_dir));
    }
}
