using AwqRuntime.Formats;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// The scale search's loss through the inputs' Gram matrix: the same number as running the
/// candidate over the tokens (float64 reference), used only where it is cheaper, and choosing the
/// same scales as the token forwards on a real model and on a synthetic one with a v_proj → o_proj group.
/// </summary>
public class InputGramTests(ITestOutputHelper output)
{
    [Fact]
    public void Gram_error_equals_the_float64_error_over_the_tokens()
    {
        var rng = new Random(21);
        const int tokens = 5000, k = 37, n = 11; // two chunks of tokens, the second short; odd widths
        var x = Enumerable.Range(0, tokens * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        for (var t = 0; t < tokens; t++) x[t * k + 5] *= 20; // an outlier channel, as AWQ's inputs have
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var wq = w.Select(v => v + (float)(rng.NextDouble() - 0.5) * 0.02f).ToArray();
        double expected = 0;
        for (var t = 0; t < tokens; t++)
            for (var r = 0; r < n; r++)
            {
                double e = 0;
                for (var c = 0; c < k; c++) e += ((double)wq[r * k + c] - w[r * k + c]) * x[t * k + c];
                expected += e * e;
            }
        var gram = InputGram.FromInputs(x, tokens, k);
        var got = gram.SumSquaredError(w, wq, n, new float[n * k], new float[n * k]);
        output.WriteLine($"gram {got:R}, float64 over the tokens {expected:R}");
        Assert.Equal(expected, got, expected * 1e-5);
        // G is symmetric and its diagonal is each channel's Σx²
        var g = gram.Matrix;
        Assert.Equal(g[3 * k + 9], g[9 * k + 3]);
        double diag = 0;
        for (var t = 0; t < tokens; t++) diag += (double)x[t * k + 5] * x[t * k + 5];
        Assert.Equal(diag, g[5 * k + 5], diag * 1e-6);
    }

    [Fact]
    public void The_gram_matrix_is_used_only_where_it_costs_less()
    {
        Assert.False(InputGram.Pays(tokens: 2048, k: 2048, n: 2048, candidates: 21)); // T ≤ K never pays
        Assert.True(InputGram.Pays(tokens: 128 * 512, k: 2048, n: 2048, candidates: 21)); // o_proj at AutoAWQ's calibration size
        Assert.True(InputGram.Pays(tokens: 128 * 512, k: 5632, n: 2048, candidates: 21)); // down_proj
        Assert.False(InputGram.Pays(tokens: 4 * 256, k: 5632, n: 2048, candidates: 21));
    }

    [Fact]
    public void Stories260K_scale_search_picks_the_same_scales_through_the_gram_matrix()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        // 2,048 tokens: more than down_proj's 172 inputs, so the up_proj → down_proj group uses G (this model has GQA, no v → o group)
        AssertSameSearch(src, ScaleFoldingTests.SmallCalibration(512, samples: 16, seqLen: 128), groupSize: 32, expectGram: ["up_proj→down_proj"]);
    }

    [Fact]
    public void A_model_without_gqa_scores_its_v_to_o_group_through_the_gram_matrix_too()
    {
        var c = SyntheticModel.PresetConfig("tiny", vocabSize: 256) with { HiddenSize = 64, IntermediateSize = 96, NumHeads = 4, NumKvHeads = 4, NumLayers = 2 };
        using var src = new SyntheticWeightSource(c.Validate("test"), seed: 8);
        AssertSameSearch(src, ScaleFoldingTests.SmallCalibration(256, samples: 6, seqLen: 96), groupSize: 32, expectGram: ["v_proj→o_proj", "up_proj→down_proj"]);
    }

    private void AssertSameSearch(IWeightSource src, CalibrationSet calib, int groupSize, string[] expectGram)
    {
        var config = new AwqConfig { GroupSize = groupSize };
        var viaGram = AwqQuantizer.Quantize(src, calib, config);
        var viaTokens = AwqQuantizer.Quantize(src, calib, config with { GramLoss = false });
        var names = viaGram.Blocks[0].Scales.Select(s => s.Group).ToArray();
        output.WriteLine("groups: " + string.Join(", ", names));
        foreach (var g in expectGram) Assert.Contains(g, names);
        var worst = new Dictionary<string, double>();
        foreach (var (a, b) in viaGram.Blocks.SelectMany(r => r.Scales).Zip(viaTokens.Blocks.SelectMany(r => r.Scales)))
        {
            Assert.Equal(b.Group, a.Group);
            Assert.Equal(b.BestAlpha, a.BestAlpha);
            Assert.Equal(b.Scales, a.Scales);
            for (var i = 0; i < a.GridLosses.Length; i++)
                worst[a.Group] = Math.Max(worst.GetValueOrDefault(a.Group), Math.Abs(a.GridLosses[i] - b.GridLosses[i]) / b.GridLosses[i]);
        }
        foreach (var (group, w) in worst)
        {
            output.WriteLine($"{group}: worst relative difference of a grid loss {w:E2}");
            // the Gram groups compute the loss another way (the last bits differ); the others are the same computation
            if (expectGram.Contains(group)) Assert.InRange(w, 1e-12, 1e-4);
            else Assert.Equal(0, w);
        }
        // the same scales, so the same clipping and rounding: the same model
        var tokens = calib.Samples[0];
        var v = src.Config.VocabSize;
        var la = new float[tokens.Length * v];
        var lb = new float[tokens.Length * v];
        viaGram.Model.Forward(tokens, viaGram.Model.CreateCache(tokens.Length), viaGram.Model.CreateBuffers(tokens.Length), la, LogitsMode.All);
        viaTokens.Model.Forward(tokens, viaTokens.Model.CreateCache(tokens.Length), viaTokens.Model.CreateBuffers(tokens.Length), lb, LogitsMode.All);
        Assert.Equal(lb, la);
    }
}
