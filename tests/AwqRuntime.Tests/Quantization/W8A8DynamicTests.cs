using System.Text.Json.Nodes;
using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Int8;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// --method w8a8-dynamic: INT8 weights saved and loaded bit for bit (compressed-tensors int-quantized
/// config), the model's logits those of a float64 evaluation of the same integer math, and close to FP32.
/// </summary>
public class W8A8DynamicTests(ITestOutputHelper output)
{
    private static QuantizationResult QuantizeStories(IWeightSource src) =>
        AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig { Method = QuantMethod.W8A8Dynamic });

    private static float[] Logits(LlamaModel m, int[] tokens)
    {
        var y = new float[tokens.Length * m.Config.VocabSize];
        m.Forward(tokens, m.CreateCache(tokens.Length), m.CreateBuffers(tokens.Length), y, LogitsMode.All);
        return y;
    }

    private static int[] EvalTokens(int n)
    {
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        return tok.Encode(File.ReadAllText(SharedData.EvalText)[..4000], addBos: true)[..n];
    }

    [Fact]
    public void Save_and_load_give_the_same_integers_scales_and_logits()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var q = QuantizeStories(src);
        using var dir = new TempDir("w8a8");
        AwqCheckpointWriter.Write(q, dir.Path, overwrite: true);
        Assert.False(AwqRuntime.Formats.HuggingFace.HfModelConfig.ReadFolder(dir.Path).Quantization != null);
        var (loaded, cfg) = Int8CheckpointReader.Load(dir.Path);
        Assert.Equal(["lm_head"], cfg.Ignore);
        for (var l = 0; l < loaded.Config.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
            {
                var a = (Int8Linear)q.Model.Blocks[l][kind];
                var b = Assert.IsType<Int8Linear>(loaded.Blocks[l][kind]);
                Assert.True(a.QWeight.SequenceEqual(b.QWeight), $"{l} {kind}: weights differ");
                Assert.True(a.WeightScales.SequenceEqual(b.WeightScales), $"{l} {kind}: scales differ");
            }
        var tokens = EvalTokens(200);
        Assert.Equal(Logits(q.Model, tokens), Logits(loaded, tokens));
        // Through the public entry point too, which detects the INT8 folder.
        using var m = AwqModel.Load(dir.Path, SharedData.Tok512);
        Assert.True(m.IsQuantized);
        Assert.NotNull(m.Int8Quantization);
        Assert.IsType<Int8Linear>(m.Model.Blocks[0].Q);
        // The stored tensors are what the config documents: I8 weight [out, in], F32 weight_scale [out, 1].
        using var st = SafetensorsFile.Open(dir.File("model.safetensors"));
        var w = st.Get("model.layers.0.mlp.down_proj.weight");
        Assert.Equal(TensorDType.I8, w.DType);
        Assert.Equal([64L, 172], w.Shape);
        Assert.Equal([64L, 1], st.Get("model.layers.0.mlp.down_proj.weight_scale").Shape);
    }

    /// <summary>The definition of a W8A8 dynamic linear, accumulated and scaled in float64.</summary>
    private sealed class Float64Reference(Int8Linear l) : ILinear
    {
        public int InFeatures => l.InFeatures;
        public int OutFeatures => l.OutFeatures;
        public long WeightBytes => 0;

        public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y)
        {
            int k = InFeatures, n = OutFeatures;
            var wq = l.QWeight;
            var ws = l.WeightScales;
            for (var r = 0; r < rows; r++)
            {
                var xr = x.Slice(r * k, k);
                // Asymmetric min/max over the row, the range widened to include 0 (PyTorch's MinMaxObserver).
                float lo = 0, hi = 0;
                foreach (var v in xr) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
                var s = (hi - lo) / 255f;
                if (s == 0) s = Math.Max(-lo, hi) is var a && a != 0 ? a : 1;
                var z = (int)Math.Clamp(MathF.Round(-lo / s, MidpointRounding.ToEven), 0, 255);
                var xq = new int[k];
                for (var i = 0; i < k; i++) xq[i] = (int)Math.Clamp(MathF.Round(xr[i] / s, MidpointRounding.ToEven), -z, 255 - z);
                for (var c = 0; c < n; c++)
                {
                    long acc = 0;
                    for (var i = 0; i < k; i++) acc += (long)xq[i] * wq[c * k + i];
                    y[r * n + c] = (float)((double)s * ws[c] * acc);
                }
            }
        }
    }

    [Fact]
    public void Logits_are_those_of_a_float64_evaluation_of_the_integer_math_and_near_fp32()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var q = QuantizeStories(src).Model;
        var reference = QuantizeStories(src).Model;
        foreach (var b in reference.Blocks)
            foreach (var kind in LinearKinds.All)
                b.SetLinear(kind, new Float64Reference((Int8Linear)b[kind]));
        var tokens = EvalTokens(128);
        var err = ScaleFoldingTests.WorstRelativeL2(reference, q, tokens);
        output.WriteLine($"worst relative L2 of the logits against the float64 definition: {err:E2}");
        Assert.True(err < 1e-5, $"relative L2 against the float64 definition: {err:E2}");

        var fp32 = LlamaModel.FromWeights(src);
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        var windows = EvalWindows.Build(tok.Encode(File.ReadAllText(SharedData.EvalText), addBos: true), 512, tok.Spec.BosId, maxChunks: 12);
        var m = Evaluator.Compare(new RuntimeLogitsSource(fp32, "fp32"), [new RuntimeLogitsSource(q, "w8a8")], windows)[0];
        output.WriteLine($"KLD against FP32 over 12 windows: {m.MeanKld:E3}");
        Assert.InRange(m.MeanKld, 1e-6, 5e-3);
    }

    [Theory]
    [InlineData("weights", "num_bits", "4", "weights.num_bits must be 8")]
    [InlineData("weights", "strategy", "\"group\"", "weights.strategy must be \"channel\"")]
    [InlineData("input_activations", "dynamic", "false", "input_activations.strategy must be \"tensor\"")] // static then, which is per tensor
    [InlineData("input_activations", "symmetric", "true", "input_activations.symmetric must be false")]
    public void A_config_with_another_scheme_is_refused_naming_the_field(string args, string field, string value, string message)
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        using var dir = new TempDir("w8a8-cfg");
        AwqCheckpointWriter.Write(QuantizeStories(src), dir.Path, overwrite: true);
        var path = dir.File("config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["quantization_config"]!["config_groups"]!["group_0"]![args]![field] = JsonNode.Parse(value);
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => Int8CheckpointReader.Load(dir.Path));
        Assert.Contains("config.json: quantization_config.config_groups.group_0." + message, e.Message);
    }

    [Fact]
    public void A_missing_or_mistyped_int8_tensor_is_named()
    {
        using var src = new Synthetic.SyntheticWeightSource(Synthetic.SyntheticModel.PresetConfig("tiny", vocabSize: 512), seed: 4);
        var q = AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig { Method = QuantMethod.W8A8Dynamic, ModulesToNotConvert = ["down_proj"] });
        using var dir = new TempDir("w8a8-bad");
        AwqCheckpointWriter.Write(q, dir.Path, overwrite: true);
        var (loaded, cfg) = Int8CheckpointReader.Load(dir.Path);
        Assert.IsType<HalfLinear>(loaded.Blocks[0].Down); // kept in fp16 through the "re:" ignore entry
        Assert.Contains("re:.*down_proj$", cfg.Ignore);

        // Rewrite the file with up_proj's scale missing, then with its weight stored as F32.
        var st = SafetensorsFile.Open(dir.File("model.safetensors"));
        var tensors = st.Tensors.Select(t => (t.Name, t.DType, t.Shape, Bytes: st.Bytes(t).ToArray())).ToList();
        st.Dispose();
        void Rewrite(IEnumerable<(string Name, TensorDType DType, long[] Shape, byte[] Bytes)> ts)
        {
            var list = ts.ToList();
            using var w = new SafetensorsWriter(dir.File("model.safetensors"), list.Select(t => new SafetensorsTensorSpec(t.Name, t.DType, t.Shape)).ToList());
            foreach (var t in list) w.WriteBytes(t.Name, t.Bytes);
            w.Commit();
        }
        Rewrite(tensors.Where(t => t.Name != "model.layers.0.mlp.up_proj.weight_scale"));
        Assert.Contains("INT8 tensor 'model.layers.0.mlp.up_proj.weight_scale' is missing",
            Assert.Throws<InvalidDataException>(() => Int8CheckpointReader.Load(dir.Path)).Message);
        Rewrite(tensors.Select(t => t.Name == "model.layers.0.mlp.up_proj.weight" ? (t.Name, TensorDType.F32, t.Shape, new byte[t.Bytes.Length * 4]) : t));
        Assert.Contains("model.layers.0.mlp.up_proj.weight is F32 [352, 128], expected I8 [352, 128]",
            Assert.Throws<InvalidDataException>(() => Int8CheckpointReader.Load(dir.Path)).Message);
    }

    [Fact]
    public void Quantize_cli_writes_an_int8_checkpoint_and_refuses_unknown_methods()
    {
        using var dir = new TempDir("w8a8-cli");
        var model = Path.Combine(dir.Path, "tiny");
        AwqCli.Succeed("synth", "--preset", "tiny", "--out", model);
        var outDir = Path.Combine(dir.Path, "int8");
        var r = AwqCli.Succeed("quantize", model, "--method", "w8a8-dynamic", "--calib", dir.File("missing.txt"), "--out", outDir);
        Assert.Contains("calibration: none", r.Stderr + r.Stdout);
        Assert.NotNull(HfModelConfig.ReadFolder(outDir).Int8Quantization);
        var bad = AwqCli.Run("quantize", model, "--method", "int3", "--out", Path.Combine(dir.Path, "x"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--method 'int3' is not one of awq, rtn, gptq, awq+gptq, w8a8-dynamic", bad.Stderr);
    }
}
