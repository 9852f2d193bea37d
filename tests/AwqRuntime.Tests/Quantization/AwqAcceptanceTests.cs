using AwqRuntime.Evaluation;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Quantization;

/// <summary>Issue 4's acceptance list on stories260K.</summary>
[Collection(StoriesQuantizationCollection.Name)]
public class AwqAcceptanceTests(StoriesQuantizationFixture f, ITestOutputHelper output)
{
    private void Log(string name, DistributionMetrics m) =>
        output.WriteLine($"{name}: PPL {m.Perplexity:F4} (fp32 {m.ReferencePerplexity:F4}) KLD {m.MeanKld:F5} p99 {m.KldP99:F4} top1 {m.Top1Agreement:P2}");

    [Fact]
    public void Awq_mean_kld_is_at_most_0_8_of_rtn_at_group_32_and_64()
    {
        Log("AWQ g32", f.MAwq32);
        Log("RTN g32", f.MRtn32);
        Log("AWQ g64", f.MAwq64);
        Log("RTN g64", f.MRtn64);
        var r32 = f.MAwq32.MeanKld / f.MRtn32.MeanKld;
        var r64 = f.MAwq64.MeanKld / f.MRtn64.MeanKld;
        output.WriteLine($"ratio g32 {r32:F3}, g64 {r64:F3}");
        Assert.True(r32 <= 0.8, $"AWQ/RTN mean KLD at g32 = {r32:F3}");
        Assert.True(r64 <= 0.8, $"AWQ/RTN mean KLD at g64 = {r64:F3}");
        // Larger groups lose more; both quantizers are far from lossless but far from broken.
        Assert.True(f.MAwq32.MeanKld < f.MAwq64.MeanKld);
        Assert.InRange(f.MAwq32.Top1Agreement, 0.75, 0.99);
    }

    [Fact]
    public void Self_generated_calibration_is_within_1_1x_of_the_calibration_files_kld()
    {
        var (g32, g64) = f.SelfCalibrated;
        Log("AWQ g32, --calib self", g32);
        Log("AWQ g64, --calib self", g64);
        var r32 = g32.MeanKld / f.MAwq32.MeanKld;
        var r64 = g64.MeanKld / f.MAwq64.MeanKld;
        output.WriteLine($"self / file: g32 {r32:F3}, g64 {r64:F3}");
        // measured at seeds 1, 2, 42: g32 1.01-1.07, g64 1.0x (BENCHMARKS.md)
        Assert.True(r32 <= 1.1, $"self-calibrated AWQ g32 KLD is {r32:F3} x the file-calibrated one");
        Assert.True(r64 <= 1.1, $"self-calibrated AWQ g64 KLD is {r64:F3} x the file-calibrated one");
        Assert.True(g32.MeanKld < f.MRtn32.MeanKld && g64.MeanKld < f.MRtn64.MeanKld, "self-calibrated AWQ beats RTN");
    }

    [Fact]
    public void Awq_g32_tells_the_same_story_for_at_least_20_tokens()
    {
        int[] Greedy(LlamaModel m)
        {
            var cache = m.CreateCache(64);
            var buffers = m.CreateBuffers(1);
            var logits = new float[m.Config.VocabSize];
            var next = 1;
            var produced = new List<int>();
            for (var i = 0; i < 40; i++)
            {
                m.Forward([next], cache, buffers, logits, LogitsMode.Last);
                produced.Add(next = Sampler.ArgMax(logits));
            }
            return produced.ToArray();
        }
        var fp = Greedy(f.Fp32);
        var q = Greedy(f.Awq32.Model);
        var same = fp.Zip(q).TakeWhile(p => p.First == p.Second).Count();
        output.WriteLine($"FP32: {f.Tokenizer.Decode(fp)}");
        output.WriteLine($"AWQ : {f.Tokenizer.Decode(q)}");
        Assert.True(same >= 20, $"only the first {same} greedy tokens agree");
    }

    [Fact]
    public void Every_linear_of_every_block_runs_on_int4_kernels()
    {
        foreach (var b in f.Awq32.Model.Blocks)
            foreach (var kind in LinearKinds.All)
                Assert.IsType<Int4Linear>(b[kind]);
        Assert.InRange(f.Awq32.LinearBitsPerWeight, 4.625, 4.75); // 4 + 20/32, plus padding of the 172-wide rows
    }

    [Fact]
    public void Save_load_round_trip_gives_identical_logits_and_integers()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"awq-rt-{Guid.NewGuid():N}");
        try
        {
            AwqCheckpointWriter.Write(f.Awq32, dir);
            var (loaded, q) = AwqCheckpointReader.Load(dir);
            Assert.Equal(32, q.GroupSize);
            Assert.Equal(AwqRuntime.Formats.HuggingFace.AwqQuantizationConfig.CeilGroupsExtension, q.LayoutExtension);
            var tokens = f.Calibration.Samples[3].Take(200).ToArray();
            var v = loaded.Config.VocabSize;
            var a = new float[tokens.Length * v];
            var b = new float[tokens.Length * v];
            f.Awq32.Model.Forward(tokens, f.Awq32.Model.CreateCache(256), f.Awq32.Model.CreateBuffers(256), a, LogitsMode.All);
            loaded.Forward(tokens, loaded.CreateCache(256), loaded.CreateBuffers(256), b, LogitsMode.All);
            var worst = a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(worst <= 1e-6, $"max |logit difference| after save/load = {worst}");
            for (var l = 0; l < loaded.Config.NumLayers; l++)
                foreach (var kind in LinearKinds.All)
                {
                    var x = ((Int4Linear)f.Awq32.Model.Blocks[l][kind]).ToWeights();
                    var y = ((Int4Linear)loaded.Blocks[l][kind]).ToWeights();
                    Assert.Equal(x.Q, y.Q);
                    Assert.Equal(x.Zeros, y.Zeros);
                    Assert.Equal(x.Scales, y.Scales);
                }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// Decodes the saved safetensors with an unpacker written from AutoAWQ's documented semantics
    /// (shift by 4k to read nibble k, then AWQ_REVERSE_ORDER = [0,4,1,5,2,6,3,7]: channel j of a word
    /// lives in nibble REVERSE[j]; W[k,n] = (q[k,n] − z[k/G,n])·s[k/G,n]; q/k rows in HF rotate-half
    /// order) — not from our packer — and gets back exactly our integers, zeros and scales.
    /// </summary>
    [Fact]
    public void Independent_autoawq_unpacking_recovers_our_integers_and_scales()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"awq-unpack-{Guid.NewGuid():N}");
        try
        {
            AwqCheckpointWriter.Write(f.Awq32, dir);
            using var st = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
            int[] reverse = [0, 4, 1, 5, 2, 6, 3, 7];
            var c = f.Awq32.Model.Config;
            var hd = c.EffectiveHeadDim;
            for (var l = 0; l < c.NumLayers; l++)
                foreach (var kind in LinearKinds.All)
                {
                    var module = LlamaTensorNames.LinearModule(l, kind);
                    var qweight = st.Read<int>(module + ".qweight");
                    var qzeros = st.Read<int>(module + ".qzeros");
                    var scales = st.Read<Half>(module + ".scales");
                    var ours = ((Int4Linear)f.Awq32.Model.Blocks[l][kind]).ToWeights();
                    int k = ours.InFeatures, n = ours.OutFeatures, words = (n + 7) / 8, groups = (k + 31) / 32;
                    Assert.Equal(new long[] { k, words }, st.Get(module + ".qweight").Shape);
                    Assert.Equal(new long[] { groups, n }, st.Get(module + ".scales").Shape);
                    // Our canonical output row r is stored at HF row hf(r) for q/k (rotate-half order).
                    int Hf(int r) => kind.IsRotary() ? r / hd * hd + (r % hd % 2) * (hd / 2) + r % hd / 2 : r;
                    static int Nibble(int word, int k) => (word >> (4 * k)) & 0xF;
                    for (var r = 0; r < n; r++)
                    {
                        var col = Hf(r);
                        for (var kk = 0; kk < k; kk++)
                            Assert.Equal(ours.Q[r * k + kk], Nibble(qweight[kk * words + col / 8], reverse[col % 8]));
                        for (var g = 0; g < groups; g++)
                        {
                            Assert.Equal(ours.Zeros[r * groups + g], Nibble(qzeros[g * words + col / 8], reverse[col % 8]));
                            Assert.Equal(ours.Scale(r * groups + g), (float)scales[g * n + col]);
                        }
                    }
                }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
