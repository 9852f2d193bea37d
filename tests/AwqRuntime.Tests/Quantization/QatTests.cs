using AwqRuntime.Formats.Awq;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Qat;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Formats;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// Quantization-aware training: the fake quantizer against awq_quantize and the straight-through
/// rule, the hand-written reverse pass against finite differences, the training network's forward
/// against the runtime's, and the whole run (loss goes down, the checkpoint round-trips).
/// </summary>
public class QatTests(ITestOutputHelper output)
{
    /// <summary>
    /// Every path the network has, over two families: GQA and a short last group (K = 24, g = 16) in both,
    /// q/k/v biases (Qwen2) or a sliding window of 4 (Mistral).
    /// </summary>
    private static LlamaConfig TinyConfig(string family) => new LlamaConfig
    {
        VocabSize = 40, HiddenSize = 16, IntermediateSize = 24, NumLayers = 2, NumHeads = 4, NumKvHeads = 2,
        MaxPositionEmbeddings = 64, Name = "qat-test",
        Family = family == "qwen2" ? ModelFamilies.Qwen2 : ModelFamilies.Mistral, SlidingWindow = family == "qwen2" ? 0 : 4,
    }.Validate("test");

    private static (LlamaModel Model, QatLinear[][] Linears) TrainableModel(LlamaConfig c, int groupSize, int seed, QatOptions? options = null)
    {
        using var src = new SyntheticWeightSource(c, (ulong)seed);
        var model = LlamaModel.FromWeights(src);
        // norms as a quantized model holds them: fp16 (what the training network runs)
        foreach (var b in model.Blocks)
        {
            AwqRuntime.Numerics.Fp16Encoder.RoundInPlace(b.AttnNorm, "attn_norm");
            AwqRuntime.Numerics.Fp16Encoder.RoundInPlace(b.FfnNorm, "ffn_norm");
        }
        AwqRuntime.Numerics.Fp16Encoder.RoundInPlace(model.FinalNorm, "norm");
        var linears = model.Blocks.Select(b => LinearKinds.All.Select(k =>
        {
            var f = (FloatLinear)b[k];
            return new QatLinear(f.Weight, GroupQuantizer.Quantize(f.Weight, f.OutFeatures, f.InFeatures, groupSize, 4), options ?? new QatOptions());
        }).ToArray()).ToArray();
        return (model, linears);
    }

    private static int[] Tokens(int count, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i => rng.Next(vocab)).ToArray();
    }

    [Fact]
    public void Fake_quantization_is_awq_quantize_and_dequantize_bit_for_bit()
    {
        var rng = new Random(5);
        int n = 7, k = 44, g = 16; // 44 = 2 whole groups + a short one
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.2f).ToArray();
        var q = GroupQuantizer.Quantize(w, n, k, g, 4);
        var s = Enumerable.Range(0, q.Scales.Length).Select(i => q.Scale(i)).ToArray();
        var wq = new float[w.Length];
        var clamped = new bool[w.Length];
        FakeQuant.Forward(w, s, q.Zeros, n, k, g, 4, wq, clamped);
        Assert.Equal(q.Dequantize(), wq);
        Assert.DoesNotContain(true, clamped); // min/max scales leave nothing outside the range
        var lin = new QatLinear(w, q, new QatOptions());
        var back = lin.ToQuantizedWeights();
        Assert.Equal(q.Q, back.Q);
        Assert.Equal(q.Scales, back.Scales);
        Assert.Equal(q.Zeros, back.Zeros);
    }

    [Fact]
    public void Fake_quantization_gradients_follow_the_straight_through_rule()
    {
        // One row, two groups of 4: group 0 in range, group 1 with scale 1 and weights far outside (all clamped).
        var w = new[] { 0.1f, -0.37f, 0.52f, 0.9f, 40f, -40f, 33f, -25f };
        var s = new[] { 0.125f, 1f };
        var z = new byte[] { 8, 8 };
        var wq = new float[8];
        var clamped = new bool[8];
        FakeQuant.Forward(w, s, z, 1, 8, 4, 4, wq, clamped);
        Assert.Equal(new[] { false, false, false, false, true, true, true, true }, clamped);
        var dwq = new[] { 0.3f, -1.1f, 0.7f, 2f, 0.5f, -0.25f, 1.5f, 0.75f };
        var dw = new float[8];
        var ds = new float[2];
        FakeQuant.Backward(dwq, w, s, z, clamped, 1, 8, 4, 4, dw, ds);
        // ∂ŵ/∂w: 1 inside the range, 0 where clamped
        Assert.Equal(new[] { 0.3f, -1.1f, 0.7f, 2f, 0, 0, 0, 0 }, dw);
        // ∂ŵ/∂s inside the range: round(w/s) − w/s (LSQ)
        double expect0 = 0;
        for (var i = 0; i < 4; i++) expect0 += dwq[i] * (Math.Round(w[i] / 0.125f, MidpointRounding.ToEven) - w[i] / 0.125f);
        Assert.Equal(expect0, ds[0], 5);
        // clamped, ŵ = (q_c − z)·s is linear in s: the rule must equal a finite difference there
        // (s = 1 ± 2⁻¹⁰ are fp16 values, so the fp16 rounding of the scale adds nothing)
        double Objective(float scale)
        {
            var o = new float[8];
            FakeQuant.Forward(w, [0.125f, scale], z, 1, 8, 4, 4, o, new bool[8]);
            double sum = 0;
            for (var i = 4; i < 8; i++) sum += dwq[i] * o[i];
            return sum;
        }
        const float h = 1f / 1024;
        var fd = (Objective(1 + h) - Objective(1 - h)) / (2 * h);
        Assert.Equal(fd, ds[1], 4);
        Assert.NotEqual(0, ds[1]);
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("mistral")]
    public void Training_network_forward_equals_the_runtime_on_the_int4_model(string family)
    {
        var c = TinyConfig(family);
        var (model, linears) = TrainableModel(c, groupSize: 16, seed: 11);
        // the runtime runs the same rounded weights as Int4 linears
        for (var l = 0; l < c.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
                model.Blocks[l].SetLinear(kind, new Int4Linear(linears[l][(int)kind].ToQuantizedWeights()));
        const int b = 2, t = 9;
        var net = new QatNetwork(model, linears, b, t);
        var tokens = Tokens(b * t, c.VocabSize, 3);
        net.Forward(tokens);
        var v = c.VocabSize;
        double worst = 0;
        for (var s = 0; s < b; s++)
        {
            var logits = new float[t * v];
            model.Forward(tokens.AsSpan(s * t, t), model.CreateCache(t), model.CreateBuffers(t), logits, LogitsMode.All);
            for (var i = 0; i < logits.Length; i++)
                worst = Math.Max(worst, Math.Abs(logits[i] - net.Logits[s * t * v + i]) / (1 + Math.Abs(logits[i])));
        }
        output.WriteLine($"worst relative logit difference {worst:E2}");
        Assert.InRange(worst, 0, 2e-5);
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("mistral")]
    public void Reverse_pass_matches_finite_differences_in_every_linear(string family)
    {
        var c = TinyConfig(family);
        var (model, linears) = TrainableModel(c, groupSize: 16, seed: 12);
        const int b = 2, t = 7;
        var net = new QatNetwork(model, linears, b, t, normLearningRate: 0.01f);
        var tokens = Tokens(b * t, c.VocabSize, 4);
        var v = c.VocabSize;
        var rng = new Random(9);
        var target = DistillationLoss.LogProbabilities(Enumerable.Range(0, b * t * v).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray(), b * t, v);
        var grad = new float[b * t * v];
        double Loss()
        {
            net.Forward(tokens);
            return DistillationLoss.Compute(net.Logits, target, b * t, v, grad);
        }
        Loss();
        net.Backward(grad);
        double err2 = 0, ref2 = 0;
        var checks = 0;
        foreach (var block in linears)
            foreach (var lin in block)
            {
                var analytic = lin.WeightGradient.ToArray();
                for (var probe = 0; probe < 6; probe++)
                {
                    var i = rng.Next(analytic.Length);
                    int r = i / lin.K, col = i % lin.K;
                    var keep = lin.Wq[i];
                    const float h = 4e-3f;
                    lin.Wq[i] = keep + h; lin.WqT[col * lin.N + r] = keep + h;
                    var up = Loss();
                    lin.Wq[i] = keep - h; lin.WqT[col * lin.N + r] = keep - h;
                    var down = Loss();
                    lin.Wq[i] = keep; lin.WqT[col * lin.N + r] = keep;
                    var fd = (up - down) / (2 * h);
                    err2 += (fd - analytic[i]) * (fd - analytic[i]);
                    ref2 += fd * fd;
                    checks++;
                }
            }
        foreach (var norm in net.Norms)
        {
            var analytic = norm.Gradient.ToArray();
            for (var probe = 0; probe < 4; probe++)
            {
                var i = rng.Next(analytic.Length);
                var keep = norm.Value[i];
                const float h = 4e-3f;
                norm.Value[i] = keep + h;
                var up = Loss();
                norm.Value[i] = keep - h;
                var down = Loss();
                norm.Value[i] = keep;
                var fd = (up - down) / (2 * h);
                err2 += (fd - analytic[i]) * (fd - analytic[i]);
                ref2 += fd * fd;
                checks++;
            }
        }
        var rel = Math.Sqrt(err2 / ref2);
        output.WriteLine($"{checks} weights and norm values checked, relative error of the gradient {rel:E2}");
        Assert.InRange(rel, 0, 5e-3); // measured 3e-4 to 5e-4 (central differences, h = 4e-3, fp32 forward)
        Assert.True(ref2 > 0);
    }

    [Fact]
    public void A_qat_run_lowers_its_loss_and_saves_an_ordinary_int4_checkpoint()
    {
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("tiny", vocabSize: 512), seed: 2);
        // two sequences, both in every step: the loss is over the same tokens each time
        var calib = ScaleFoldingTests.SmallCalibration(512, samples: 2, seqLen: 64);
        var config = new AwqConfig { Method = QuantMethod.Qat, GroupSize = 32, Qat = new QatOptions { Steps = 12, BatchSize = 2, Seed = 1, SelfSamples = 0 } };
        var awq = AwqQuantizer.Quantize(src, calib, config with { Method = QuantMethod.Awq });
        var qat = AwqQuantizer.Quantize(src, calib, config);
        var losses = qat.Qat!.Losses;
        output.WriteLine(string.Join(" ", losses.Select(l => l.ToString("E3"))));
        Assert.Equal(12, losses.Count);
        Assert.True(losses[^1] < 0.9 * losses[0], $"loss {losses[0]:E3} -> {losses[^1]:E3}");
        // the first step's loss is AWQ's model's: training starts exactly at AWQ's solution
        var teacher = LlamaModel.FromWeights(src);
        var awqKl = MeanKl(teacher, awq.Model, calib);
        Assert.Equal(awqKl, losses[0], 1e-4 * Math.Max(awqKl, 1e-3) + 1e-7);
        Assert.True(MeanKl(teacher, qat.Model, calib) < awqKl, "the trained model is closer to the teacher on its training text");
        // the checkpoint: AutoAWQ's layout, method recorded, reloads to the same logits, saves the same bytes
        using var dir = new TempDir("qat");
        var a = Path.Combine(dir.Path, "a");
        var b = Path.Combine(dir.Path, "b");
        AwqCheckpointWriter.Write(qat, a);
        var (loaded, _) = AwqCheckpointReader.Load(a);
        Assert.IsType<Int4Linear>(loaded.Blocks[0].Q);
        Assert.Contains("\"qat\"", File.ReadAllText(Path.Combine(a, AwqCheckpointWriter.SearchFileName))); // how it was made
        var tokens = calib.Samples[0];
        Assert.Equal(Logits(qat.Model, tokens), Logits(loaded, tokens));
        AwqCheckpointWriter.Write(qat, b);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")));
    }

    [Fact]
    public void Self_generated_sequences_join_the_training_pool_and_not_the_held_out_one()
    {
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("tiny", vocabSize: 512), seed: 3);
        var calib = ScaleFoldingTests.SmallCalibration(512, samples: 4, seqLen: 32);
        QuantizationResult Run(int? self) => AwqQuantizer.Quantize(src, calib, new AwqConfig
        {
            Method = QuantMethod.Qat, GroupSize = 32, Qat = new QatOptions { Steps = 6, BatchSize = 2, Seed = 5, SelfSamples = self },
        });
        var plain = Run(0);
        var self = Run(3);
        Assert.Equal((2, 2), (plain.Qat!.TrainingSequences, plain.Qat.HeldOut));
        Assert.Equal((5, 2), (self.Qat!.TrainingSequences, self.Qat.HeldOut));
        Assert.Equal(3, self.Qat.SelfSamples);
        // by default four per calibration sequence: 16 for the 4 here
        var auto = Run(null).Qat!;
        Assert.Equal((16, 18, 2), (auto.SelfSamples, auto.TrainingSequences, auto.HeldOut));
        // the held-out text is the same calibration sequences, so AWQ's starting point scores the same
        Assert.Equal(plain.Qat.HeldOutBefore, self.Qat.HeldOutBefore);
        // the sampled sequences were trained on: the batches, and so the losses, differ
        Assert.NotEqual(plain.Qat.Losses, self.Qat.Losses);
        // seeded: the same run gives the same checkpoint
        using var dir = new TempDir("qat-self");
        AwqCheckpointWriter.Write(self, Path.Combine(dir.Path, "a"));
        AwqCheckpointWriter.Write(Run(3), Path.Combine(dir.Path, "b"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "a", "model.safetensors")), File.ReadAllBytes(Path.Combine(dir.Path, "b", "model.safetensors")));
        Assert.Throws<ArgumentException>(() => new QatOptions { SelfSamples = -1 }.Validate());
    }

    [Fact]
    public void Quantize_cli_trains_with_qat_and_refuses_qat_flags_for_other_methods()
    {
        using var dir = new TempDir("qat-cli");
        var model = Path.Combine(dir.Path, "tiny");
        Acceptance.AwqCli.Succeed("synth", "--preset", "tiny", "--out", model);
        var refused = Acceptance.AwqCli.Run("quantize", model, "--method", "rtn", "--qat-steps", "5", "--out", Path.Combine(dir.Path, "x"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--qat-steps applies to --method qat, not rtn", refused.Stderr);
        var bad = Acceptance.AwqCli.Run("quantize", model, "--method", "qat", "--qat-lr", "-1", "--out", Path.Combine(dir.Path, "y"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--qat-lr must be a finite number >= 0", bad.Stderr);
        var outDir = Path.Combine(dir.Path, "qat");
        var r = Acceptance.AwqCli.Succeed("quantize", model, "--method", "qat", "--qat-steps", "4", "--qat-batch", "2", "-g", "32",
            "--calib-samples", "8", "--calib-seqlen", "32", "--out", outDir, "--json");
        using var json = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var qat = json.RootElement.GetProperty("qat");
        Assert.Equal("qat", json.RootElement.GetProperty("method").GetString());
        Assert.Equal(4, qat.GetProperty("steps").GetInt32());
        Assert.Equal(2, qat.GetProperty("held_out_sequences").GetInt32()); // one batch of the 8
        Assert.Equal(5, qat.GetProperty("held_out_kl").GetArrayLength()); // before the first step, then after each
        var (loaded, _) = AwqCheckpointReader.Load(outDir);
        Assert.IsType<Int4Linear>(loaded.Blocks[1].Down);
    }

    private static float[] Logits(LlamaModel m, int[] tokens)
    {
        var logits = new float[tokens.Length * m.Config.VocabSize];
        m.Forward(tokens, m.CreateCache(tokens.Length), m.CreateBuffers(tokens.Length), logits, LogitsMode.All);
        return logits;
    }

    private static double MeanKl(LlamaModel teacher, LlamaModel student, CalibrationSet calib)
    {
        var v = teacher.Config.VocabSize;
        double sum = 0;
        foreach (var s in calib.Samples)
        {
            var lp = DistillationLoss.LogProbabilities(Logits(teacher, s), s.Length, v);
            sum += DistillationLoss.Compute(Logits(student, s), lp, s.Length, v, new float[s.Length * v]);
        }
        return sum / calib.Samples.Length;
    }
}
