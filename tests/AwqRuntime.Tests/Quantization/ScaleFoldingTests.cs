using AwqRuntime.Synthetic;
using AwqRuntime.Formats;
using AwqRuntime.Model;
using AwqRuntime.Quantization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// Issue 4: folding AWQ scales into the previous op is exact — the FP32 model's logits are unchanged
/// (≤ 1e-4 relative) after scales are folded and before any rounding.
/// </summary>
public class ScaleFoldingTests
{
    internal static CalibrationSet SmallCalibration(int vocab, int samples = 4, int seqLen = 64, int seed = 3)
    {
        var rng = new Random(seed);
        var s = Enumerable.Range(0, samples).Select(_ => Enumerable.Range(0, seqLen).Select(i => i == 0 ? 1 : rng.Next(3, vocab)).ToArray()).ToArray();
        return new CalibrationSet(s, seqLen, "random tokens", samples);
    }

    internal static double WorstRelativeL2(LlamaModel a, LlamaModel b, int[] tokens)
    {
        var v = a.Config.VocabSize;
        var la = new float[tokens.Length * v];
        var lb = new float[tokens.Length * v];
        a.Forward(tokens, a.CreateCache(tokens.Length), a.CreateBuffers(tokens.Length), la, LogitsMode.All);
        b.Forward(tokens, b.CreateCache(tokens.Length), b.CreateBuffers(tokens.Length), lb, LogitsMode.All);
        double worst = 0;
        for (var p = 0; p < tokens.Length; p++)
        {
            double num = 0, den = 0;
            for (var i = 0; i < v; i++)
            {
                double d = la[p * v + i] - lb[p * v + i];
                num += d * d;
                den += (double)la[p * v + i] * la[p * v + i];
            }
            worst = Math.Max(worst, Math.Sqrt(num / den));
        }
        return worst;
    }

    private static void AssertFoldingIsExact(IWeightSource src, int groupSize)
    {
        var calib = SmallCalibration(src.Config.VocabSize);
        var before = LlamaModel.FromWeights(src);
        var scaled = AwqQuantizer.ApplyScales(src, calib, new AwqConfig { GroupSize = groupSize });
        // The scales must actually be non-trivial, or the test proves nothing.
        var scales = scaled.Blocks.SelectMany(b => b.Scales).ToList();
        Assert.NotEmpty(scales);
        Assert.Contains(scales, s => s.Scales.Max() / s.Scales.Min() > 1.5);
        Assert.NotEqual(before.Blocks[0].AttnNorm, scaled.Model.Blocks[0].AttnNorm);
        var tokens = SmallCalibration(src.Config.VocabSize, 1, 48, seed: 11).Samples[0];
        var err = WorstRelativeL2(before, scaled.Model, tokens);
        Assert.True(err <= 1e-4, $"relative L2 change of the logits after folding: {err}");
    }

    [Fact]
    public void Folding_leaves_stories260K_logits_unchanged()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        AssertFoldingIsExact(src, 32);
    }

    [Fact]
    public void Folding_all_four_groups_of_a_non_GQA_model_is_exact()
    {
        // heads == kv heads, so v_proj and o_proj have the same shape and group 2 (v→o) is searched too.
        var config = SyntheticModel.PresetConfig("tiny", vocabSize: 512) with { NumKvHeads = 4, NumHeads = 4, Name = "tiny-mha" };
        using var src = new SyntheticWeightSource(config, seed: 5);
        var calib = SmallCalibration(512);
        var scaled = AwqQuantizer.ApplyScales(src, calib, new AwqConfig { GroupSize = 32 });
        Assert.All(scaled.Blocks, b => Assert.Equal(4, b.Scales.Count));
        Assert.Contains(scaled.Blocks[0].Scales, s => s.PrevOp.Name == "v_proj");
        AssertFoldingIsExact(src, 32);
    }

    [Fact]
    public void Folding_the_scales_of_a_quantization_run_equals_searching_again()
    {
        // awq compare's AWQ-scaled rows reuse the AWQ row's scales: the result must be the model
        // ApplyScales (search, no clip) would have made, weight for weight.
        var config = SyntheticModel.PresetConfig("tiny", vocabSize: 512) with { NumKvHeads = 4, NumHeads = 4, Name = "tiny-mha" };
        using var src = new SyntheticWeightSource(config, seed: 9);
        var calib = SmallCalibration(512);
        var quantized = AwqQuantizer.Quantize(src, calib, new AwqConfig { GroupSize = 32 });
        var folded = AwqQuantizer.FoldScales(src, quantized.Blocks);
        var searched = AwqQuantizer.ApplyScales(src, calib, new AwqConfig { GroupSize = 32 }).Model;
        for (var l = 0; l < config.NumLayers; l++)
        {
            Assert.Equal(searched.Blocks[l].AttnNorm, folded.Blocks[l].AttnNorm);
            Assert.Equal(searched.Blocks[l].FfnNorm, folded.Blocks[l].FfnNorm);
            foreach (var kind in LinearKinds.All)
                Assert.Equal(((FloatLinear)searched.Blocks[l][kind]).Weight, ((FloatLinear)folded.Blocks[l][kind]).Weight);
        }
        Assert.NotEqual(LlamaModel.FromWeights(src).Blocks[0].AttnNorm, folded.Blocks[0].AttnNorm);
        Assert.Throws<ArgumentException>(() => AwqQuantizer.FoldScales(src, quantized.Blocks.Take(1).ToList()));
    }

    [Fact]
    public void Quantizing_with_the_scales_of_an_earlier_run_equals_searching_again()
    {
        // awq compare's "down_proj fp16" row reuses the AWQ row's search: the search ignores
        // modules_to_not_convert and clipping, so the model must come out the same.
        var config = SyntheticModel.PresetConfig("tiny", vocabSize: 512) with { NumKvHeads = 4, NumHeads = 4, Name = "tiny-mha" };
        using var src = new SyntheticWeightSource(config, seed: 13);
        var calib = SmallCalibration(512);
        var first = AwqQuantizer.Quantize(src, calib, new AwqConfig { GroupSize = 32 });
        var variant = new AwqConfig { GroupSize = 32, ModulesToNotConvert = ["down_proj"] };
        var searched = AwqQuantizer.Quantize(src, calib, variant);
        var reused = AwqQuantizer.Quantize(src, calib, variant, first.Blocks);
        var tokens = SmallCalibration(512, 1, 48, seed: 17).Samples[0];
        Assert.Equal(0, WorstRelativeL2(searched.Model, reused.Model, tokens));
        Assert.NotEqual(0, WorstRelativeL2(first.Model, reused.Model, tokens)); // down_proj really is fp16 here
        Assert.Equal(searched.Blocks.SelectMany(b => b.Scales).Select(r => r.BestAlpha), reused.Blocks.SelectMany(b => b.Scales).Select(r => r.BestAlpha));
        Assert.Throws<ArgumentException>(() => AwqQuantizer.Quantize(src, calib, variant with { Method = QuantMethod.Rtn }, first.Blocks));
        Assert.Throws<ArgumentException>(() => AwqQuantizer.Quantize(src, calib, variant, first.Blocks.Skip(1).ToList()));
    }

    [Fact]
    public void Gqa_models_skip_the_v_to_o_group_and_say_so()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var r = AwqQuantizer.ApplyScales(src, SmallCalibration(512, 2, 32), new AwqConfig { GroupSize = 32 });
        Assert.All(r.Blocks, b =>
        {
            Assert.Equal(3, b.Scales.Count);
            Assert.Contains(b.SkippedGroups, s => s.Contains("v_proj"));
        });
    }

    [Fact]
    public void Candidate_scales_follow_autoawq_formula()
    {
        float[] x = [1f, 4f, 0.25f];
        float[] w = [0.5f, 0.5f, 1f];
        var s = ScaleSearch.CandidateScales(x, w, 0.5, duo: true);
        // independent: s = x^a / (w^(1-a) + 1e-4), then / sqrt(max*min)
        var raw = x.Select((xi, i) => Math.Max(Math.Pow(xi, 0.5) / (Math.Pow(w[i], 0.5) + 1e-4), 1e-4)).ToArray();
        var norm = Math.Sqrt(raw.Max() * raw.Min());
        for (var i = 0; i < 3; i++) Assert.Equal(raw[i] / norm, s[i], 1e-6 * raw[i] / norm);
        var plain = ScaleSearch.CandidateScales(x, w, 0.5, duo: false);
        var rawPlain = x.Select(xi => Math.Pow(xi, 0.5)).ToArray();
        var normPlain = Math.Sqrt(rawPlain.Max() * rawPlain.Min());
        for (var i = 0; i < 3; i++) Assert.Equal(rawPlain[i] / normPlain, plain[i], 1e-6 * rawPlain[i] / normPlain);
        // α = 0 without duo scaling: all ones (the RTN point of the grid)
        Assert.All(ScaleSearch.CandidateScales(x, w, 0, duo: false), v => Assert.Equal(1.0, v, 1e-6));
    }
}
