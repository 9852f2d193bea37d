using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>stories260K.bin written as a Hugging Face folder by `awq export-hf` (F32), once for the class.</summary>
public sealed class Stories260KHfFolder : IDisposable
{
    private readonly TempDir _dir = new("export-hf");

    public Stories260KHfFolder()
    {
        Folder = Path.Combine(_dir.Path, "stories260K-hf");
        Cli = AwqCli.Succeed("export-hf", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--out", Folder);
    }

    public string Folder { get; }
    internal CliResult Cli { get; }

    public string File(string name) => Path.Combine(Folder, name);

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// `awq export-hf` writes safetensors with HF names and HF's
/// rotate_half Q/K layout, config.json, and a tokenizer.json built from tok512's pieces and scores;
/// loading that folder reproduces llama2.c's published greedy story exactly.
/// </summary>
public class HfExportTests(Stories260KHfFolder hf) : IClassFixture<Stories260KHfFolder>
{
    private const int Dim = 64, KvDim = 32, HeadDim = 8, Layers = 5, Vocab = 512;

    [Fact]
    public void The_folder_holds_the_files_transformers_expects()
    {
        Assert.StartsWith("wrote ", hf.Cli.Stdout);
        string[] expected = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
        Assert.Equal(expected, Directory.GetFiles(hf.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(hf.File("config.json")));
        var c = doc.RootElement;
        Assert.Equal("LlamaForCausalLM", c.GetProperty("architectures")[0].GetString());
        Assert.Equal("llama", c.GetProperty("model_type").GetString());
        Assert.Equal("float32", c.GetProperty("torch_dtype").GetString());
        Assert.Equal(Dim, c.GetProperty("hidden_size").GetInt32());
        Assert.Equal(172, c.GetProperty("intermediate_size").GetInt32());
        Assert.Equal(Layers, c.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(8, c.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(4, c.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(Vocab, c.GetProperty("vocab_size").GetInt32());
        Assert.Equal(512, c.GetProperty("max_position_embeddings").GetInt32());
        Assert.True(c.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal(1e-5, c.GetProperty("rms_norm_eps").GetDouble(), 12);
        Assert.Equal(10000.0, c.GetProperty("rope_theta").GetDouble());
        Assert.Equal((1, 2), (c.GetProperty("bos_token_id").GetInt32(), c.GetProperty("eos_token_id").GetInt32()));
    }

    [Fact]
    public void The_safetensors_hold_every_hf_tensor_in_f32()
    {
        using var st = SafetensorsFile.Open(hf.File("model.safetensors"));
        var names = new List<string> { "model.embed_tokens.weight", "model.norm.weight" }; // tied: no lm_head.weight
        for (var l = 0; l < Layers; l++)
            names.AddRange(
            [
                $"model.layers.{l}.input_layernorm.weight", $"model.layers.{l}.post_attention_layernorm.weight",
                $"model.layers.{l}.self_attn.q_proj.weight", $"model.layers.{l}.self_attn.k_proj.weight",
                $"model.layers.{l}.self_attn.v_proj.weight", $"model.layers.{l}.self_attn.o_proj.weight",
                $"model.layers.{l}.mlp.gate_proj.weight", $"model.layers.{l}.mlp.up_proj.weight", $"model.layers.{l}.mlp.down_proj.weight",
            ]);
        Assert.Equal(names.Order(StringComparer.Ordinal), st.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(st.Tensors, t => Assert.Equal(TensorDType.F32, t.DType));
        Assert.Equal([Vocab, Dim], st.Get("model.embed_tokens.weight").Shape);
        Assert.Equal([KvDim, Dim], st.Get("model.layers.0.self_attn.k_proj.weight").Shape);
        Assert.Equal([Dim, 172], st.Get("model.layers.4.mlp.down_proj.weight").Shape);
    }

    [Theory]
    [InlineData("q_proj", 8)]
    [InlineData("k_proj", 4)]
    public void Q_and_k_rows_are_permuted_to_rotate_half(string kind, int heads)
    {
        using var st = SafetensorsFile.Open(hf.File("model.safetensors"));
        var rows = heads * HeadDim;
        for (var layer = 0; layer < Layers; layer++)
        {
            var written = st.ReadFloat32($"model.layers.{layer}.self_attn.{kind}.weight");
            var original = BinAttentionWeight(kind, layer);
            Assert.Equal(rows * Dim, written.Length);
            var moved = 0;
            for (var r = 0; r < rows; r++)
            {
                var hfRow = RopePermutation.HfRowOfInterleavedRow(r, HeadDim);
                Assert.Equal(original.AsSpan(r * Dim, Dim).ToArray(), written.AsSpan(hfRow * Dim, Dim).ToArray());
                if (hfRow != r && !original.AsSpan(r * Dim, Dim).SequenceEqual(written.AsSpan(r * Dim, Dim))) moved++;
            }
            // Only rows 0 and d−1 of each head stay in place.
            Assert.Equal(heads * (HeadDim - 2), moved);
        }
        // The permutation itself, written out for one head of 8: HF row j·4 + i holds interleaved row 2i + j.
        Assert.Equal([0, 4, 1, 5, 2, 6, 3, 7], Enumerable.Range(0, 8).Select(r => RopePermutation.HfRowOfInterleavedRow(r, 8)));
    }

    [Fact]
    public void The_tokenizer_json_is_tok512_with_merges_ordered_by_score()
    {
        var tok512 = Llama2cTokenizerReader.Read(SharedData.Tok512, Vocab);
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(hf.File("tokenizer.json")));
        var model = doc.RootElement.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.True(model.GetProperty("byte_fallback").GetBoolean());
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(Vocab, vocab.Count);
        for (var id = 0; id < Vocab; id++) Assert.Equal(id, vocab[tok512.Tokens[id]]);

        // Every merge joins two pieces into a third, and merges come in order of the merged piece's
        // score, highest first (transformers' SentencePieceExtractor).
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.ValueKind == JsonValueKind.Array
            ? (m[0].GetString()!, m[1].GetString()!) : (m.GetString()!.Split(' ')[0], m.GetString()!.Split(' ')[1])).ToArray();
        Assert.True(merges.Length > 100, $"{merges.Length} merges");
        var previous = float.PositiveInfinity;
        foreach (var (a, b) in merges)
        {
            Assert.True(vocab.ContainsKey(a) && vocab.ContainsKey(b) && vocab.ContainsKey(a + b), $"merge {a} {b}");
            var score = tok512.Scores![vocab[a + b]];
            Assert.True(score <= previous, $"merge {a} {b} (score {score}) after a lower score {previous}");
            previous = score;
        }

        // Read back, it encodes the evaluation text exactly as tok512.bin does.
        var fromFolder = Tokenizer.FromFile(hf.Folder);
        var text = File.ReadAllText(SharedData.EvalText);
        Assert.Equal(Tokenizer.FromSpec(tok512).Encode(text, addBos: true), fromFolder.Encode(text, addBos: true));
    }

    [Fact]
    public void Loading_the_folder_reproduces_the_published_greedy_story()
    {
        var reference = Stories260KReference.Load();
        using var model = AwqModel.FromPretrained(hf.Folder);
        Assert.Equal(CheckpointFormat.HuggingFace, model.Format);
        Assert.Equal(Vocab, model.Tokenizer.Spec.VocabSize);
        var result = model.CreateGenerator().Generate("", new GenerationOptions { MaxTokens = 256, Sampling = SamplingOptions.Greedy });
        Assert.Equal(reference.GreedyFromBos, result.Tokens);
        Assert.Equal(reference.GreedyText, result.Text);

        // And through the CLI, as a user would run it.
        var cli = AwqCli.Succeed("generate", hf.Folder, "-n", "256", "--temp", "0", "-q");
        Assert.Equal(reference.GreedyText + "\n", cli.Stdout);
    }

    /// <summary>wq / wk of one layer read straight from the llama2.c file (legacy layout, see run.c).</summary>
    private static float[] BinAttentionWeight(string kind, int layer)
    {
        var bytes = System.IO.File.ReadAllBytes(SharedData.Stories260KBin);
        Assert.Equal(new[] { Dim, 172, Layers, 8, 4, Vocab, 512 }, Enumerable.Range(0, 7).Select(i => BitConverter.ToInt32(bytes, 4 * i)));
        long floats = Vocab * Dim + Layers * Dim; // token embedding, rms_att
        if (kind == "k_proj") floats += Layers * Dim * Dim; // after every layer's wq
        var rows = kind == "q_proj" ? Dim : KvDim;
        floats += (long)layer * rows * Dim;
        var result = new float[rows * Dim];
        Buffer.BlockCopy(bytes, checked((int)(28 + 4 * floats)), result, 0, result.Length * 4);
        return result;
    }
}
