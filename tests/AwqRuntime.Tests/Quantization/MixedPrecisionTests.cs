using System.Text.Json;
using AwqRuntime.Comparison;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// Mixed precision (a width per linear kind, `--w-bit-for`): every kind quantized and searched at its own width,
/// saved as compressed-tensors pack-quantized with one config group per width, loaded back to the same kinds and
/// logits, llm-compressor's ["Linear"] + pattern-override form read too, and bad settings refused in one line.
/// </summary>
public sealed class MixedPrecisionTests : IDisposable
{
    private readonly TempDir _dir = new("mixed");

    public void Dispose() => _dir.Dispose();

    private static readonly Lazy<QuantizationResult> Mixed = new(() =>
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        return AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 32, ModuleBits = ComparisonRowSpec.MixRecipe }.Validate());
    });

    private static readonly int[] Tokens = [1, 50, 200, 7, 300, 42, 99, 511, 3, 17, 260, 5];

    private static float[] Logits(LlamaModel m)
    {
        var y = new float[Tokens.Length * m.Config.VocabSize];
        m.Forward(Tokens, m.CreateCache(Tokens.Length), m.CreateBuffers(Tokens.Length), y, LogitsMode.All);
        return y;
    }

    private static void AssertWidths(LlamaModel m)
    {
        foreach (var b in m.Blocks)
            foreach (var kind in LinearKinds.All)
            {
                var q = Assert.IsAssignableFrom<IGroupQuantizedLinear>(b[kind]);
                Assert.Equal(kind is LinearKind.GateProj or LinearKind.UpProj ? 4 : 8, q.Bits);
                Assert.Equal(32, q.GroupSize);
            }
    }

    private string Save(QuantizationResult r, string name)
    {
        var dir = _dir.File(name);
        var spec = TokenizerFiles.Read(SharedData.Tok512, 512);
        AwqCheckpointWriter.Write(r, dir, d => HfTokenizerWriter.Write(spec, d));
        return dir;
    }

    [Fact]
    public void Each_kind_keeps_its_width_through_save_and_load_and_saves_again_byte_for_byte()
    {
        var r = Mixed.Value;
        AssertWidths(r.Model);
        var dir = Save(r, "mix");
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))))
        {
            var q = doc.RootElement.GetProperty("quantization_config");
            Assert.Equal("pack-quantized", q.GetProperty("format").GetString());
            var groups = q.GetProperty("config_groups").EnumerateObject().ToDictionary(g => g.Name, g => g.Value);
            Assert.Equal(["group_0", "group_1"], groups.Keys.Order());
            // narrowest first, each over its kinds' module patterns; no ["Linear"] group, so no module matches two
            Assert.Equal(4, groups["group_0"].GetProperty("weights").GetProperty("num_bits").GetInt32());
            Assert.Equal([@"re:.*\.gate_proj$", @"re:.*\.up_proj$"], groups["group_0"].GetProperty("targets").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal(8, groups["group_1"].GetProperty("weights").GetProperty("num_bits").GetInt32());
            Assert.Equal(5, groups["group_1"].GetProperty("targets").GetArrayLength());
        }
        using var loaded = AwqModel.FromQuantized(dir);
        AssertWidths(loaded.Model);
        Assert.True(loaded.PackQuantized!.Mixed);
        Assert.False(loaded.IsInt4);
        Assert.Equal(Logits(r.Model), Logits(loaded.Model));
        var again = Save(new QuantizationResult
        {
            Model = loaded.Model, Config = r.Config, Calibration = r.Calibration, Blocks = r.Blocks, ActivationStats = r.ActivationStats, Elapsed = r.Elapsed,
        }, "mix-again");
        foreach (var f in Directory.GetFiles(dir).Select(Path.GetFileName))
            Assert.True(File.ReadAllBytes(Path.Combine(dir, f!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, f!))), $"{f} differs when saved again");
    }

    [Fact]
    public void The_8_bit_kinds_bring_the_model_closer_to_fp32_than_4_bits_everywhere()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var fp32 = LlamaModel.FromWeights(src);
        var all4 = AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 32 }.Validate());
        var mixedErr = ScaleFoldingTests.WorstRelativeL2(fp32, Mixed.Value.Model, Tokens);
        var all4Err = ScaleFoldingTests.WorstRelativeL2(fp32, all4.Model, Tokens);
        Assert.True(mixedErr < 0.8 * all4Err, $"worst relative L2 of the logits: mixed {mixedErr:E3}, 4-bit everywhere {all4Err:E3}");
    }

    [Fact]
    public void The_scale_and_clip_searches_quantize_each_kind_at_its_own_width()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var calib = ScaleFoldingTests.SmallCalibration(512, samples: 4, seqLen: 64);
        var all4 = AwqQuantizer.Quantize(src, calib, new AwqConfig { GroupSize = 32 });
        var mixed = AwqQuantizer.Quantize(src, calib, new AwqConfig { GroupSize = 32, ModuleBits = new Dictionary<string, int> { ["down_proj"] = 8 } });
        for (var l = 0; l < all4.Blocks.Count; l++)
        {
            double Loss(QuantizationResult r, string group) => r.Blocks[l].Scales.Single(s => s.Group == group).UnscaledLoss;
            // an 8-bit down_proj rounds with 16 times finer steps: its search's loss is far lower; the MLP group's is the same
            Assert.True(Loss(mixed, "up_proj→down_proj") < 0.05 * Loss(all4, "up_proj→down_proj"), $"block {l}");
            Assert.Equal(Loss(all4, "post_attention_layernorm→gate,up"), Loss(mixed, "post_attention_layernorm→gate,up"));
            Assert.True(mixed.Blocks[l].ClipErrors["down_proj"] < 0.05 * all4.Blocks[l].ClipErrors["down_proj"], $"block {l}");
        }
        Assert.Equal(8, Assert.IsType<NBitLinear>(mixed.Model.Blocks[0].Down).Bits);
        Assert.IsType<Int4Linear>(mixed.Model.Blocks[0].Up);
    }

    [Fact]
    public void A_linear_group_with_pattern_overrides_as_llm_compressor_writes_it_loads_the_same()
    {
        var dir = Save(Mixed.Value, "linear-plus-patterns");
        var path = Path.Combine(dir, "config.json");
        var text = File.ReadAllText(path);
        // group_0 over every Linear at 4 bits; group_1's patterns take precedence for the modules they match
        var edited = text.Replace("\"re:.*\\\\.gate_proj$\",", "").Replace("\"re:.*\\\\.up_proj$\"", "\"Linear\"");
        Assert.NotEqual(text, edited);
        File.WriteAllText(path, edited);
        using var loaded = AwqModel.FromQuantized(dir);
        AssertWidths(loaded.Model);
        Assert.Equal(Logits(Mixed.Value.Model), Logits(loaded.Model));
    }

    [Theory]
    [InlineData("\"re:.*\\\\.up_proj$\"", "\"Embedding\"", "targets entry 'Embedding' is neither \"Linear\" nor a \"re:\" module pattern")]
    [InlineData("\"re:.*\\\\.up_proj$\"", "\"re:(\"", "is not a valid regular expression")]
    [InlineData("\"group_size\": 32", "\"group_size\": 0", "weights.group_size must be a positive integer")]
    public void Bad_config_groups_are_refused_in_one_line(string from, string to, string expected)
    {
        var dir = Save(Mixed.Value, "bad");
        var path = Path.Combine(dir, "config.json");
        var text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
        var e = Assert.Throws<InvalidDataException>(() => AwqModel.FromQuantized(dir).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Bad_widths_are_refused_up_front()
    {
        AwqConfig With(string kind, int bits, params string[] notConvert) =>
            new AwqConfig { GroupSize = 32, ModuleBits = new Dictionary<string, int> { [kind] = bits }, ModulesToNotConvert = notConvert }.Validate();
        Assert.Contains("'ffn' is not one of", Assert.Throws<ArgumentException>(() => With("ffn", 8)).Message);
        Assert.Contains("down_proj=5: group-wise weights are 2, 3, 4 or 8 bits", Assert.Throws<ArgumentException>(() => With("down_proj", 5)).Message);
        Assert.Contains("also kept in fp16", Assert.Throws<ArgumentException>(() => With("down_proj", 8, "down_proj")).Message);
        using var dir = new TempDir("mixed-cli");
        var model = Path.Combine(dir.Path, "tiny");
        Acceptance.AwqCli.Succeed("synth", "--preset", "tiny", "--out", model);
        foreach (var (args, message) in new[]
        {
            (new[] { "--w-bit-for", "down_proj" }, "--w-bit-for 'down_proj' is not KIND=BITS"),
            (["--w-bit-for", "down_proj=5"], "--w-bit-for 'down_proj=5': use 2, 3, 4 or 8 bits"),
            (["--w-bit-for", "down_proj=8", "--format", "awq"], "--format awq holds one width"),
            (["--w-bit-for", "down_proj=8", "--method", "w8a8-dynamic"], "--w-bit-for applies to"),
        })
        {
            var r = Acceptance.AwqCli.Run(["quantize", model, "--out", Path.Combine(dir.Path, "x"), .. args]);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(message, r.Stderr);
            Assert.Single(r.StderrLines);
        }
    }

    [Fact]
    public void Qat_trains_a_mixed_model_and_saves_each_width()
    {
        using var dir = new TempDir("mixed-qat");
        var model = Path.Combine(dir.Path, "tiny");
        Acceptance.AwqCli.Succeed("synth", "--preset", "tiny", "--out", model);
        var outDir = Path.Combine(dir.Path, "qat");
        var r = Acceptance.AwqCli.Succeed("quantize", model, "--method", "qat", "--qat-steps", "3", "--qat-batch", "2", "--qat-self", "0", "-g", "32",
            "--w-bit-for", "down_proj=8,v_proj=8", "--calib-samples", "8", "--calib-seqlen", "32", "--out", outDir, "--json");
        using var json = JsonDocument.Parse(r.Stdout);
        Assert.Equal(3, json.RootElement.GetProperty("qat").GetProperty("steps").GetInt32());
        using var loaded = AwqModel.FromQuantized(outDir);
        Assert.All(loaded.Model.Blocks, b =>
        {
            Assert.Equal(8, Assert.IsType<NBitLinear>(b.Down).Bits);
            Assert.Equal(8, Assert.IsType<NBitLinear>(b.V).Bits);
            Assert.Equal(4, Assert.IsType<Int4Linear>(b.Q).Bits);
        });
    }
}
