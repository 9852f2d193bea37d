using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;
using AwqRuntime.Quantization;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tests.Quantization;
using AwqRuntime.Tokenization;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Families;

/// <summary>
/// The three families end to end on their synthetic presets: the HF folder carries the family's
/// config, our FP32 logits agree with llama.cpp on the GGUF we export (KLD &lt; 1e-6 on the same ids),
/// and an AWQ g128 checkpoint has exactly AutoAWQ's tensor names and shapes for the family and, reloaded,
/// generates what the in-memory quantized model generates.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class FamilyTests(FamilyPresets presets, ITestOutputHelper output) : IClassFixture<FamilyPresets>
{
    /// <summary>Eval text ids, within the mistral preset's sliding window (llama.cpp attends over everything).</summary>
    private int[] Tokens(string preset, int count = 200) =>
        Tokenizer.FromFile(presets.Folder(preset)).Encode(File.ReadAllText(SharedData.EvalText), addBos: true)[..count];

    [Theory]
    [InlineData("llama3")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    public void Fp32_logits_agree_with_llama_cpp_to_a_kld_below_1e6(string preset)
    {
        using var src = CheckpointLoader.Open(presets.Folder(preset));
        Assert.Equal(preset == "llama3" ? "llama" : preset, src.Config.Family.Name);
        var ours = LlamaModel.FromWeights(src);
        var tokens = Tokens(preset);
        var v = ours.Config.VocabSize;
        var mine = new float[tokens.Length * v];
        ours.Forward(tokens, ours.CreateCache(tokens.Length), ours.CreateBuffers(tokens.Length), mine, LogitsMode.All);
        var theirs = presets.LlamaCpp(preset).EvaluateLogits(tokens);
        var cmp = new DistributionComparison();
        for (var p = 0; p + 1 < tokens.Length; p++)
            cmp.Add(mine.AsSpan(p * v, v), theirs.AsSpan(p * v, v), tokens[p + 1]);
        output.WriteLine($"{preset}: KLD mean {cmp.MeanKld:E2}, max {cmp.MaxKld:E2}, top-1 {cmp.Top1Agreement:P2}");
        Assert.True(cmp.MeanKld < 1e-6, $"{preset}: mean KLD {cmp.MeanKld:E2} against llama.cpp");
        Assert.Equal(1.0, cmp.Top1Agreement);
    }

    [Fact]
    public void The_llama3_preset_carries_rope_scaling_into_config_json_the_runtime_and_gguf()
    {
        var cfg = HfModelConfig.ReadFolder(presets.Folder("llama3")).Llama;
        Assert.Equal(new RopeScaling { Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 }, cfg.RopeScaling);
        Assert.Equal(500000f, cfg.RopeTheta);
        Assert.True(cfg.TieWordEmbeddings);
        using (var gguf = GgufFile.Open(presets.Gguf("llama3")))
        {
            Assert.True(gguf.TryGetTensor(GgufTensorNames.RopeFreqs, out var t));
            Assert.Equal(new long[] { 32 }, t.Shape);
        }
        // The factors cover all three regimes of Llama 3.1's formula for head_dim 64, theta 5e5.
        var f = cfg.RopeFreqFactors();
        Assert.Equal(1f, f[0]);
        Assert.Equal(8f, f[^1]);
        Assert.Contains(f, x => x is > 1f and < 8f);

        // The GGUF reads back with the same factors (as per-pair factors) and the same logits.
        using (var fromGguf = GgufWeightSource.Open(presets.Gguf("llama3")))
        {
            Assert.Equal(RopeScaling.PerPairFactors, fromGguf.Config.RopeScaling!.Type);
            Assert.Equal(f, fromGguf.Config.RopeFreqFactors());
            using var hf = CheckpointLoader.Open(presets.Folder("llama3"));
            Assert.True(ScaleFoldingTests.WorstRelativeL2(LlamaModel.FromWeights(hf), LlamaModel.FromWeights(fromGguf), Tokens("llama3", 64)) < 1e-6);
        }
        // The scaling changes the logits (llama.cpp agreeing above is then not vacuous).
        using var src = CheckpointLoader.Open(presets.Folder("llama3"));
        var scaled = LlamaModel.FromWeights(src);
        var plain = new LlamaModel(cfg with { RopeScaling = null }, scaled.Embedding, scaled.Blocks, scaled.FinalNorm, scaled.Output);
        var tokens = Tokens("llama3", 64);
        Assert.True(ScaleFoldingTests.WorstRelativeL2(scaled, plain, tokens) > 1e-3);
    }

    [Fact]
    public void Mistral_sliding_window_limits_attention_to_the_last_w_positions()
    {
        // One block: the last token's output then depends on exactly the last W tokens (RoPE is
        // relative, so those W tokens run alone from position 0 give the same logits).
        using var src = CheckpointLoader.Open(presets.Folder("mistral"));
        var full = LlamaModel.FromWeights(src);
        var c = full.Config with { NumLayers = 1, SlidingWindow = 16 };
        var windowed = new LlamaModel(c, full.Embedding, full.Blocks[..1], full.FinalNorm, full.Output);
        var tokens = Tokens("mistral", 40);
        var v = c.VocabSize;
        float[] Last(LlamaModel m, int[] ids)
        {
            var logits = new float[v];
            m.Forward(ids, m.CreateCache(ids.Length), m.CreateBuffers(ids.Length), logits, LogitsMode.Last);
            return logits;
        }
        var all = Last(windowed, tokens);
        var lastW = Last(windowed, tokens[^16..]);
        var worst = all.Zip(lastW, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-4, $"max |Δlogit| {worst}");
        var unwindowed = Last(new LlamaModel(c with { SlidingWindow = 0 }, full.Embedding, full.Blocks[..1], full.FinalNorm, full.Output), tokens);
        Assert.True(all.Zip(unwindowed, (a, b) => Math.Abs(a - b)).Max() > 1e-3, "the window made no difference");
        Assert.Equal(256, HfModelConfig.ReadFolder(presets.Folder("mistral")).Llama.SlidingWindow);
    }

    [Fact]
    public void Qwen2_biases_are_in_hf_and_gguf_and_change_the_output()
    {
        using var src = CheckpointLoader.Open(presets.Folder("qwen2"));
        var c = src.Config;
        Assert.Same(ModelFamilies.Qwen2, c.Family);
        foreach (var kind in new[] { LinearKind.QProj, LinearKind.KProj, LinearKind.VProj })
            Assert.Equal(new long[] { kind.Shape(c)[0] }, src.Info(LlamaTensorNames.Bias(0, kind)).Shape);
        Assert.False(src.Contains(LlamaTensorNames.Bias(0, LinearKind.OProj)));
        using (var gguf = GgufFile.Open(presets.Gguf("qwen2")))
        {
            Assert.Equal("qwen2", gguf.GetStringOrNull("general.architecture"));
            Assert.True(gguf.TryGetTensor("blk.1.attn_k.bias", out _));
        }
        // The GGUF reads back (qwen2 q/k rows in HF order there) to the same canonical tensors.
        using var back = GgufWeightSource.Open(presets.Gguf("qwen2"));
        foreach (var name in new[] { LlamaTensorNames.Linear(1, LinearKind.QProj), LlamaTensorNames.Bias(1, LinearKind.KProj), LlamaTensorNames.Bias(0, LinearKind.VProj) })
            Assert.Equal(src.ReadFloat32(name), back.ReadFloat32(name));
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    public void Awq_g128_checkpoint_has_autoawqs_names_and_shapes_and_reloads_to_the_same_greedy_text(string preset)
    {
        using var src = CheckpointLoader.Open(presets.Folder(preset));
        var c = src.Config;
        var result = AwqQuantizer.Quantize(src, ScaleFoldingTests.SmallCalibration(c.VocabSize, samples: 4, seqLen: 64), new AwqConfig { GroupSize = 128 });
        using var dir = new TempDir("family-awq");
        var folder = Path.Combine(dir.Path, preset);
        AwqCheckpointWriter.Write(result, folder);

        // AutoAWQ's WQLinear_GEMM: qweight [in, out/8] I32, qzeros [in/G, out/8] I32, scales [in/G, out] F16,
        // bias [out] F16 where the family has one; every other tensor F16 under its HF name; tied: no lm_head.
        var expected = new Dictionary<string, (TensorDType, long[])> { [LlamaTensorNames.Embedding] = (TensorDType.F16, [c.VocabSize, c.HiddenSize]) };
        for (var l = 0; l < c.NumLayers; l++)
        {
            expected[LlamaTensorNames.AttnNorm(l)] = (TensorDType.F16, [c.HiddenSize]);
            expected[LlamaTensorNames.FfnNorm(l)] = (TensorDType.F16, [c.HiddenSize]);
            foreach (var kind in LinearKinds.All)
            {
                var (n, k) = (kind.Shape(c)[0], kind.Shape(c)[1]);
                var m = LlamaTensorNames.LinearModule(l, kind);
                expected[m + ".qweight"] = (TensorDType.I32, [k, n / 8]);
                expected[m + ".qzeros"] = (TensorDType.I32, [k / 128, n / 8]);
                expected[m + ".scales"] = (TensorDType.F16, [k / 128, n]);
                if (c.Family.HasBias(kind)) expected[m + ".bias"] = (TensorDType.F16, [n]);
            }
        }
        expected[LlamaTensorNames.FinalNorm] = (TensorDType.F16, [c.HiddenSize]);
        if (!c.TieWordEmbeddings) expected[LlamaTensorNames.Output] = (TensorDType.F16, [c.VocabSize, c.HiddenSize]);
        using (var st = SafetensorsCheckpoint.OpenFolder(folder))
        {
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), st.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
            foreach (var t in st.Tensors)
            {
                Assert.Equal(expected[t.Name].Item1, t.DType);
                Assert.Equal(expected[t.Name].Item2, t.Shape);
            }
        }
        var hf = HfModelConfig.ReadFolder(folder);
        Assert.Same(c.Family, hf.Llama.Family);
        Assert.Equal(c.RopeScaling, hf.Llama.RopeScaling);
        Assert.Equal(c.SlidingWindow, hf.Llama.SlidingWindow);
        Assert.Null(hf.Quantization!.LayoutExtension);

        var (reloaded, _) = AwqCheckpointReader.Load(folder);
        var prompt = Tokens(preset, 12);
        Assert.Equal(Greedy(result.Model, prompt, 24), Greedy(reloaded, prompt, 24));
    }

    [Fact]
    public void A_qwen2_scale_fold_through_v_proj_divides_its_bias_and_keeps_the_function()
    {
        // MHA (v_proj and o_proj the same shape), so AWQ's v_proj→o_proj group runs and v's bias must follow its rows.
        var c = Synthetic.SyntheticModel.PresetConfig("qwen2", vocabSize: 512) with { NumKvHeads = 4, TieWordEmbeddings = false };
        using var src = new Synthetic.SyntheticWeightSource(c, seed: 5);
        var before = LlamaModel.FromWeights(src);
        var scaled = AwqQuantizer.ApplyScales(src, ScaleFoldingTests.SmallCalibration(c.VocabSize), new AwqConfig { GroupSize = 64 });
        Assert.Contains(scaled.Blocks[0].Scales, s => s.PrevOp.Name == "v_proj" && s.Scales.Any(x => Math.Abs(x - 1) > 0.05));
        Assert.NotEqual(LlamaModel.LoadBlock(src, 0).Bias(LinearKind.VProj), scaled.Model.Blocks[0].Bias(LinearKind.VProj));
        var tokens = ScaleFoldingTests.SmallCalibration(c.VocabSize, samples: 1, seqLen: 48, seed: 9).Samples[0];
        var err = ScaleFoldingTests.WorstRelativeL2(before, scaled.Model, tokens);
        Assert.True(err < 1e-4, $"folding changed the function: relative L2 {err:E2}");
    }

    [Fact]
    public void Hf_configs_of_each_family_read_back_what_they_wrote_and_refuse_what_they_cannot_run()
    {
        foreach (var preset in FamilyPresets.Names)
        {
            var cfg = HfModelConfig.ReadFolder(presets.Folder(preset));
            Assert.Equal(Synthetic.SyntheticModel.PresetConfig(preset) with { Name = cfg.Llama.Name }, cfg.Llama);
        }
        using var dir = new TempDir("family-cfg");
        string Write(string json)
        {
            var p = dir.File($"{Guid.NewGuid():N}.json");
            File.WriteAllText(p, json);
            return p;
        }
        const string common = "\"hidden_size\": 256, \"intermediate_size\": 768, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 1000";
        Assert.Contains("rope_scaling type 'yarn'",
            Assert.Throws<InvalidDataException>(() => HfModelConfig.Read(Write($"{{\"model_type\": \"llama\", {common}, \"rope_scaling\": {{\"rope_type\": \"yarn\", \"factor\": 4}}}}"))).Message);
        Assert.Contains("'low_freq_factor' is missing",
            Assert.Throws<InvalidDataException>(() => HfModelConfig.Read(Write($"{{\"model_type\": \"llama\", {common}, \"rope_scaling\": {{\"rope_type\": \"llama3\", \"factor\": 8}}}}"))).Message);
        Assert.Contains("use_sliding_window",
            Assert.Throws<InvalidDataException>(() => HfModelConfig.Read(Write($"{{\"model_type\": \"qwen2\", {common}, \"use_sliding_window\": true}}"))).Message);
        Assert.Contains("not a supported family",
            Assert.Throws<InvalidDataException>(() => HfModelConfig.Read(Write($"{{\"model_type\": \"gemma\", {common}}}"))).Message);
        Assert.Equal(4096, HfModelConfig.Read(Write($"{{\"architectures\": [\"MistralForCausalLM\"], {common}, \"sliding_window\": 4096}}")).Llama.SlidingWindow);
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    public void Awq_compare_puts_llama_cpps_f32_row_within_1e6_kld_of_ours(string preset)
    {
        var r = Acceptance.AwqCli.Succeed("compare", presets.Folder(preset), "--data", SharedData.EvalText, "--rows", "F32 (llama.cpp)",
            "--chunks", "2", "--ctx", "128", "--no-speed", "--json");
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var row = doc.RootElement.GetProperty("rows").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "F32 (llama.cpp)");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, row.GetProperty("error").ValueKind);
        Assert.True(row.GetProperty("mean_kld").GetDouble() < 1e-6, r.Stdout);
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    public void Export_hf_writes_the_family_back_tensor_for_tensor(string preset)
    {
        using var dir = new TempDir("family-hf");
        var outDir = Path.Combine(dir.Path, preset);
        Acceptance.AwqCli.Succeed("export-hf", presets.Folder(preset), "--out", outDir);
        using var a = HfWeightSource.Open(presets.Folder(preset));
        using var b = HfWeightSource.Open(outDir);
        Assert.Equal(a.Config with { Name = "" }, b.Config with { Name = "" });
        Assert.Equal(a.StoredTensors.Select(t => t.Name).Order(StringComparer.Ordinal), b.StoredTensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in a.StoredTensors) Assert.Equal(a.Checkpoint.ReadFloat32(t.Name), b.Checkpoint.ReadFloat32(t.Name));
        var json = File.ReadAllText(Path.Combine(outDir, "config.json"));
        Assert.Contains($"\"model_type\": \"{a.Config.Family.HfModelType}\"", json);
        Assert.Contains(a.Config.Family.HfArchitecture, json);
    }

    private static int[] Greedy(LlamaModel m, int[] prompt, int count)
    {
        var cache = m.CreateCache(prompt.Length + count);
        var buffers = m.CreateBuffers(prompt.Length);
        var logits = new float[m.Config.VocabSize];
        m.Forward(prompt, cache, buffers, logits, LogitsMode.Last);
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = Sampler.ArgMax(logits);
            if (i + 1 < count) m.Forward([result[i]], cache, buffers, logits, LogitsMode.Last);
        }
        return result;
    }
}
