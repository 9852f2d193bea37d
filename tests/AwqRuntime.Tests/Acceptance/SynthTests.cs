using AwqRuntime.Synthetic;
using System.Text.Json;
using System.Text.RegularExpressions;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tokenization;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>
/// `awq synth --preset tiny --out DIR` (default tokenizer: ../shared/models/llama2-tokenizer), then
/// `awq export-gguf DIR --out Y.gguf`, and llama.cpp loading Y.gguf; once for the class.
/// </summary>
public sealed class SyntheticTinyModel : IDisposable
{
    private readonly TempDir _dir = new("synth");

    public SyntheticTinyModel()
    {
        Folder = Path.Combine(_dir.Path, "tiny");
        GgufPath = _dir.File("tiny.gguf");
        SynthCli = AwqCli.Succeed("synth", "--preset", "tiny", "--out", Folder);
        ExportCli = AwqCli.Succeed("export-gguf", Folder, "--out", GgufPath);
        Llama = LlamaCppModel.Load(GgufPath, LlamaCppFixture.F32Options with { ContextSize = 256 });
    }

    public string Folder { get; }
    public string GgufPath { get; }
    internal CliResult SynthCli { get; }
    internal CliResult ExportCli { get; }
    public LlamaCppModel Llama { get; }

    public void Dispose()
    {
        Llama.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// A synthetic LLaMA (random weights, HF layout with the
/// rotate_half permutation, GQA, the Llama 2 tokenizer) loads, runs, exports to GGUF, and llama.cpp on
/// that GGUF matches our runtime on the HF folder to a relative L2 error ≤ 1e-4 per position.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public partial class SynthTests(SyntheticTinyModel synth, ITestOutputHelper output) : IClassFixture<SyntheticTinyModel>
{
    [GeneratedRegex(@"(\d+) generated")]
    private static partial Regex GeneratedCount();

    [Fact]
    public void The_tiny_preset_is_a_gqa_llama_in_hf_layout_with_the_llama2_tokenizer()
    {
        Assert.Contains("tiny, 2 layers", synth.SynthCli.Stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(synth.Folder, "config.json")));
        var c = doc.RootElement;
        Assert.Equal("llama", c.GetProperty("model_type").GetString());
        Assert.Equal("float16", c.GetProperty("torch_dtype").GetString());
        Assert.Equal((4, 2), (c.GetProperty("num_attention_heads").GetInt32(), c.GetProperty("num_key_value_heads").GetInt32()));
        Assert.Equal(32000, c.GetProperty("vocab_size").GetInt32());
        Assert.False(c.GetProperty("tie_word_embeddings").GetBoolean());

        var llama2 = SentencePieceModelReader.Read(Path.Combine(SharedData.Llama2TokenizerDir, "tokenizer.model"));
        using var model = AwqModel.FromPretrained(synth.Folder);
        Assert.Equal(llama2.Tokens, model.Tokenizer.Spec.Tokens);
        Assert.True(File.Exists(Path.Combine(synth.Folder, "tokenizer.json")));
    }

    [Theory]
    [InlineData("q_proj", 4)]
    [InlineData("k_proj", 2)]
    public void Q_and_k_are_stored_rotate_half_and_loaded_back_interleaved(string kind, int heads)
    {
        // The CLI's defaults: seed 1, f16, the tokenizer's vocabulary.
        using var canonical = SyntheticModel.Create(new SyntheticModelOptions { Preset = "tiny", Seed = 1, VocabSize = 32000 });
        using var st = SafetensorsFile.Open(Path.Combine(synth.Folder, "model.safetensors"));
        using var loaded = CheckpointLoader.Open(synth.Folder);
        const int headDim = 32, hidden = 128;
        for (var layer = 0; layer < 2; layer++)
        {
            var name = $"model.layers.{layer}.self_attn.{kind}.weight";
            Assert.Equal(TensorDType.F16, st.Get(name).DType);
            var interleaved = canonical.ReadFloat32(name).Select(Fp16.Round).ToArray();
            var stored = st.ReadFloat32(name);
            for (var r = 0; r < heads * headDim; r++)
                Assert.Equal(interleaved.AsSpan(r * hidden, hidden).ToArray(),
                    stored.AsSpan(RopePermutation.HfRowOfInterleavedRow(r, headDim) * hidden, hidden).ToArray());
            Assert.NotEqual(interleaved, stored);
            Assert.Equal(interleaved, loaded.ReadFloat32(name));
        }
    }

    [Fact]
    public void It_runs_through_the_cli()
    {
        var r = AwqCli.Succeed("generate", synth.Folder, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--ignore-eos");
        Assert.StartsWith("Once upon a time", r.Stdout);
        Assert.True(r.Stdout.Length > "Once upon a time\n".Length, r.ToString());
        Assert.Equal("8", GeneratedCount().Match(r.StderrLines[^1]).Groups[1].Value);
    }

    [Fact]
    public void Llama_cpp_reads_the_exported_gguf_as_the_same_model()
    {
        Assert.StartsWith("wrote ", synth.ExportCli.Stdout);
        var m = synth.Llama;
        Assert.Equal((32000, 2, 4, 2, 128), (m.VocabSize, m.LayerCount, m.HeadCount, m.KvHeadCount, m.EmbeddingLength));
        Assert.Equal("352", m.Metadata["llama.feed_forward_length"]);
        // The embedded Llama 2 vocabulary tokenizes in llama.cpp as ours does from the folder.
        var text = File.ReadAllText(SharedData.EvalText)[..5000];
        var ours = Tokenizer.FromFile(synth.Folder).Encode(text, addBos: true);
        TokenizerVersusLlamaCppTests.AssertSameIds(m.Tokenize(text, addBos: true), ours, "eval text with the Llama 2 vocabulary");
    }

    [Fact]
    public void Logits_match_llama_cpp_to_1e4_relative_l2_at_every_position()
    {
        using var src = CheckpointLoader.Open(synth.Folder);
        var ours = LlamaModel.FromWeights(src);
        var tokens = Tokenizer.FromFile(synth.Folder).Encode(File.ReadAllText(SharedData.EvalText), addBos: true)[..128];
        var errors = RuntimeComparison.RelativeL2PerPosition(ours, synth.Llama, tokens);
        var worst = errors.Max();
        output.WriteLine($"relative L2 error: max {worst:E2}, mean {errors.Average():E2} over {errors.Length} positions");
        Assert.True(worst <= 1e-4, $"worst relative L2 error {worst:E2} at position {Array.IndexOf(errors, worst)}");
    }

    [Fact]
    public void The_tinyllama_preset_has_tinyllama_shapes_and_takes_a_layer_override()
    {
        var c = SyntheticModel.PresetConfig("tinyllama-1.1b");
        Assert.Equal((22, 2048, 5632, 32, 4, 32000), (c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKvHeads, c.VocabSize));
        Assert.Equal((64, 256), (c.EffectiveHeadDim, c.KvDim));
        Assert.False(c.TieWordEmbeddings);
        // TinyLlama-1.1B's published parameter count (transformers' num_parameters()).
        Assert.Equal(1_100_048_384, LlamaWeightShapes.ParameterCount(c));

        var two = SyntheticModel.PresetConfig("tinyllama-1.1b", numLayers: 2);
        Assert.Equal(c with { NumLayers = 2 }, two);
    }

    [Fact]
    public void The_cli_layer_override_reaches_config_json()
    {
        using var tmp = new TempDir("synth-layers");
        var dir = Path.Combine(tmp.Path, "one-layer");
        var r = AwqCli.Succeed("synth", "--preset", "tiny", "--layers", "1", "--dtype", "f32", "--out", dir, "--json");
        using var json = JsonDocument.Parse(r.Stdout);
        Assert.Equal(1, json.RootElement.GetProperty("layers").GetInt32());
        using var cfg = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal(1, cfg.RootElement.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal("float32", cfg.RootElement.GetProperty("torch_dtype").GetString());
    }

    [Theory]
    [InlineData("--preset huge", "huge")]
    [InlineData("--preset tinyllama-1.1b --layers 0", "layer")]
    [InlineData("--preset tiny --dtype int8", "int8")]
    public void Bad_synth_arguments_are_one_error_line_and_write_nothing(string args, string mustMention)
    {
        using var tmp = new TempDir("synth-bad");
        var dir = Path.Combine(tmp.Path, "out");
        AwqCli.FailWithOneLine(mustMention, ["synth", .. args.Split(' '), "--out", dir]);
        Assert.Empty(Directory.GetFileSystemEntries(tmp.Path));
    }
}
