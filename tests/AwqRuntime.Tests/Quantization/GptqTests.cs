using Xunit.Abstractions;
using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Gptq;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// GPTQ: its float64 linear algebra against independent references, its rounding against RTN where
/// they must agree (H = I) and where GPTQ must win (correlated inputs), and the pipeline on stories260K.
/// </summary>
public class GptqTests(ITestOutputHelper output)
{
    private static double[] Gaussian(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())).ToArray();
    }

    /// <summary>A random symmetric positive definite n×n matrix BᵀB/n + 0.1·I.</summary>
    private static double[] Spd(int n, int seed)
    {
        var b = Gaussian(n * n, seed);
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                double s = 0;
                for (var p = 0; p < n; p++) s += b[p * n + i] * b[p * n + j];
                a[i * n + j] = s / n + (i == j ? 0.1 : 0);
            }
        return a;
    }

    /// <summary>Gauss–Jordan inversion with partial pivoting: an inverse that shares no code with the Cholesky path.</summary>
    private static double[] GaussJordanInverse(double[] a, int n)
    {
        var m = new double[n, 2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++) m[i, j] = a[i * n + j];
            m[i, n + i] = 1;
        }
        for (var c = 0; c < n; c++)
        {
            var p = c;
            for (var r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[p, c])) p = r;
            for (var j = 0; j < 2 * n; j++) (m[c, j], m[p, j]) = (m[p, j], m[c, j]);
            var d = m[c, c];
            for (var j = 0; j < 2 * n; j++) m[c, j] /= d;
            for (var r = 0; r < n; r++)
            {
                if (r == c) continue;
                var f = m[r, c];
                for (var j = 0; j < 2 * n; j++) m[r, j] -= f * m[c, j];
            }
        }
        var inv = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) inv[i * n + j] = m[i, n + j];
        return inv;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void Cholesky_factors_and_inverse_match_float64_references(int n)
    {
        var a = Spd(n, 7 + n);
        var l = Cholesky.Lower(a, n);
        var u = Cholesky.Upper(a, n);
        var inv = Cholesky.InverseFromLower(l, n);
        var reference = GaussJordanInverse(a, n);
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                if (j > i) Assert.Equal(0, l[i * n + j]);
                if (j < i) Assert.Equal(0, u[i * n + j]);
                double llt = 0, utu = 0;
                for (var p = 0; p < n; p++) { llt += l[i * n + p] * l[j * n + p]; utu += u[p * n + i] * u[p * n + j]; }
                Assert.True(Math.Abs(llt - a[i * n + j]) < 1e-12, $"L·Lᵀ[{i},{j}] = {llt}, A = {a[i * n + j]}");
                Assert.True(Math.Abs(utu - a[i * n + j]) < 1e-12, $"Uᵀ·U[{i},{j}] = {utu}, A = {a[i * n + j]}");
                Assert.True(Math.Abs(inv[i * n + j] - reference[i * n + j]) < 1e-9 * (1 + Math.Abs(reference[i * n + j])),
                    $"inverse[{i},{j}] = {inv[i * n + j]}, Gauss–Jordan {reference[i * n + j]}");
            }
    }

    [Fact]
    public void Cholesky_of_a_matrix_that_is_not_positive_definite_names_the_pivot()
    {
        double[] a = [1, 2, 2, 1]; // eigenvalues 3 and −1
        var e = Assert.Throws<ArgumentException>(() => Cholesky.Lower(a, 2, "model.layers.0.mlp.down_proj"));
        Assert.Contains("model.layers.0.mlp.down_proj is not positive definite (pivot 1", e.Message);
    }

    [Fact]
    public void Hessian_is_two_xtx_over_n_in_float64()
    {
        const int tokens = 700, k = 19; // neither a multiple of the 256-token chunk nor of a vector
        var x = Gaussian(tokens * k, 3).Select(v => (float)v).ToArray();
        var h = Hessian.FromInputs(x, tokens, k);
        for (var i = 0; i < k; i++)
            for (var j = 0; j < k; j++)
            {
                double s = 0;
                for (var t = 0; t < tokens; t++) s += (double)x[t * k + i] * x[t * k + j];
                s *= 2.0 / tokens;
                Assert.True(Math.Abs(h[i * k + j] - s) < 1e-12 * (1 + Math.Abs(s)), $"H[{i},{j}] = {h[i * k + j]}, expected {s}");
            }
    }

    [Theory]
    [InlineData(32, false, 128)]
    [InlineData(32, true, 128)]
    [InlineData(40, false, 16)] // 172 = 4·40 + 12: a short last group, and batches that end inside groups
    [InlineData(64, true, 48)]
    public void With_an_identity_hessian_gptq_is_round_to_nearest_bit_for_bit(int group, bool actOrder, int blockSize)
    {
        const int rows = 24, cols = 172;
        var w = Gaussian(rows * cols, 11).Select(v => (float)(0.05 * v)).ToArray();
        var h = new double[cols * cols];
        for (var i = 0; i < cols; i++) h[i * cols + i] = 1;
        var gptq = GptqRounding.Quantize(w, rows, cols, h, group, actOrder: actOrder, blockSize: blockSize);
        var rtn = GroupQuantizer.Quantize(w, rows, cols, group, 4);
        Assert.Equal(rtn.Scales, gptq.Scales);
        Assert.Equal(rtn.Zeros, gptq.Zeros);
        Assert.Equal(rtn.Q, gptq.Q);
    }

    /// <summary>Σ over tokens of ‖(W − Ŵ)·x‖², in float64.</summary>
    private static double ReconstructionError(float[] w, QuantizedWeights q, float[] x, int tokens)
    {
        int rows = q.OutFeatures, cols = q.InFeatures;
        var d = q.Dequantize();
        double e = 0;
        for (var t = 0; t < tokens; t++)
            for (var r = 0; r < rows; r++)
            {
                double s = 0;
                for (var c = 0; c < cols; c++) s += ((double)w[r * cols + c] - d[r * cols + c]) * x[t * cols + c];
                e += s * s;
            }
        return e;
    }

    [Theory]
    [InlineData(32, false)]
    [InlineData(32, true)]
    [InlineData(40, false)]
    [InlineData(40, true)]
    public void On_correlated_inputs_gptq_reconstructs_the_layer_output_better_than_rtn(int group, bool actOrder)
    {
        const int tokens = 1024, cols = 96, rows = 48, factors = 12;
        // Inputs driven by a few shared factors plus a little noise, with channels of very different
        // scale: strongly correlated columns, as in real activations.
        var f = Gaussian(tokens * factors, 5);
        var mix = Gaussian(factors * cols, 6);
        var noise = Gaussian(tokens * cols, 7);
        var x = new float[tokens * cols];
        for (var t = 0; t < tokens; t++)
            for (var c = 0; c < cols; c++)
            {
                double s = 0.1 * noise[t * cols + c];
                for (var p = 0; p < factors; p++) s += f[t * factors + p] * mix[p * cols + c];
                x[t * cols + c] = (float)(s * (1 + 3 * (c % 7 == 0 ? 1 : 0)));
            }
        var w = Gaussian(rows * cols, 8).Select(v => (float)(0.02 * v)).ToArray();
        var h = Hessian.FromInputs(x, tokens, cols);
        var gptq = GptqRounding.Quantize(w, rows, cols, h, group, actOrder: actOrder, blockSize: 32);
        var rtn = GroupQuantizer.Quantize(w, rows, cols, group, 4);
        double eg = ReconstructionError(w, gptq, x, tokens), er = ReconstructionError(w, rtn, x, tokens);
        output.WriteLine($"g{group} act-order {actOrder}: ||WX - ŴX||² GPTQ {eg:G4}, RTN {er:G4}, ratio {eg / er:F3}");
        Assert.True(eg < 0.7 * er, $"GPTQ error {eg:G4} is not well below RTN's {er:G4}");
    }

    [Fact]
    public void A_dead_input_channel_is_quantized_as_zero()
    {
        const int tokens = 300, cols = 40, rows = 8;
        var x = Gaussian(tokens * cols, 9).Select(v => (float)v).ToArray();
        for (var t = 0; t < tokens; t++) x[t * cols + 13] = 0; // channel 13 never fires
        var w = Gaussian(rows * cols, 10).Select(v => (float)v).ToArray();
        var q = GptqRounding.Quantize(w, rows, cols, Hessian.FromInputs(x, tokens, cols), 16);
        var d = q.Dequantize();
        for (var r = 0; r < rows; r++) Assert.Equal(0f, d[r * cols + 13]);
    }

    [Fact]
    public void Bad_arguments_are_refused_naming_the_linear()
    {
        var w = new float[4 * 8];
        Assert.Contains("q_proj: Hessian has 4 values, expected 8x8",
            Assert.Throws<ArgumentException>(() => GptqRounding.Quantize(w, 4, 8, new double[4], 8, what: "q_proj")).Message);
        Assert.Contains("act-order applies to gptq and awq+gptq",
            Assert.Throws<ArgumentException>(() => new AwqConfig { Method = QuantMethod.Rtn, ActOrder = true }.Validate()).Message);
    }

    [Theory]
    [InlineData(QuantMethod.Gptq)]
    [InlineData(QuantMethod.AwqGptq)]
    public void On_stories260K_gptq_beats_rtn_and_saves_in_the_awq_layout(QuantMethod method)
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        var calib = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tok.Encode(t, addBos: true), 16, 256, "tinystories_calib.txt");
        var config = new AwqConfig { GroupSize = 32, Method = method };
        var q = AwqQuantizer.Quantize(src, calib, config);
        var rtn = AwqQuantizer.Quantize(src, CalibrationSet.None, config with { Method = QuantMethod.Rtn });
        var fp32 = LlamaModel.FromWeights(src);
        var windows = EvalWindows.Build(tok.Encode(File.ReadAllText(SharedData.EvalText), addBos: true), 512, tok.Spec.BosId, maxChunks: 12);
        var m = Evaluator.Compare(new RuntimeLogitsSource(fp32, "fp32"), [new RuntimeLogitsSource(q.Model, "gptq"), new RuntimeLogitsSource(rtn.Model, "rtn")], windows);
        output.WriteLine($"{method}: KLD {m[0].MeanKld:F5}, RTN {m[1].MeanKld:F5} (12 windows, calibration 16 x 256)");
        Assert.True(m[0].MeanKld < 0.9 * m[1].MeanKld, $"{method} KLD {m[0].MeanKld:F5} against RTN {m[1].MeanKld:F5}");

        using var dir = new TempDir("gptq");
        AwqCheckpointWriter.Write(q, dir.Path, overwrite: true);
        var (loaded, _) = AwqCheckpointReader.Load(dir.Path);
        for (var l = 0; l < loaded.Config.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
            {
                var a = ((Int4Linear)q.Model.Blocks[l][kind]).ToWeights();
                var b = ((Int4Linear)loaded.Blocks[l][kind]).ToWeights();
                Assert.Equal(a.Q, b.Q);
                Assert.Equal(a.Zeros, b.Zeros);
                Assert.Equal(a.Scales, b.Scales);
            }
    }
}
