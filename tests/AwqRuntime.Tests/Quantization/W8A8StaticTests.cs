using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.Int8;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Observers;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>--method w8a8-static: the observers, the fixed-parameter forward, and the checkpoint round trip.</summary>
public class W8A8StaticTests
{
    [Fact]
    public void Minmax_is_the_range_widened_to_zero_as_pytorch_computes_it()
    {
        float[] x = [0.5f, 2.0f, 1.25f, 3.0f]; // all positive: the range becomes [0, 3]
        var p = ActivationObserver.Observe(x, ObserverKind.MinMax);
        Assert.Equal(3f / 255f, p.Scale);
        Assert.Equal(0, p.Zero);
        var q = ActivationObserver.Observe([-1f, 0.2f, 3f], ObserverKind.MinMax);
        Assert.Equal(4f / 255f, q.Scale);
        Assert.Equal((int)MathF.Round(1f / (4f / 255f)), q.Zero); // round(63.75) = 64
        Assert.Equal(64, q.Zero);
    }

    [Fact]
    public void Percentile_ignores_the_rarest_outliers_and_mse_beats_minmax_on_heavy_tails()
    {
        var rng = new Random(3);
        var x = new float[100_000];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        x[17] = 500f; // one outlier in 10^5: beyond the 99.99 % quantile
        var minmax = ActivationObserver.Observe(x, ObserverKind.MinMax);
        var pct = ActivationObserver.Observe(x, ObserverKind.Percentile);
        var mse = ActivationObserver.Observe(x, ObserverKind.Mse);
        Assert.Equal(501f / 255f, minmax.Scale, 6);
        Assert.InRange(pct.Scale * 255, 1.99f, 2.0f); // [≈ −1, ≈ 1]
        // On the bulk of the values percentile's finer grid wins by far; over all of them (the clipped
        // outlier included) minmax's range is the better one, and MSE, whose grid holds it, is no worse.
        var bulk = x.Where(v => v != 500f).ToArray();
        Assert.True(ActivationRange.SquaredError(bulk, pct) < 0.01 * ActivationRange.SquaredError(bulk, minmax));
        double em = ActivationRange.SquaredError(x, minmax), ep = ActivationRange.SquaredError(x, pct), es = ActivationRange.SquaredError(x, mse);
        Assert.True(es <= em && em < ep, $"errors: minmax {em:G4}, percentile {ep:G4}, mse {es:G4}");
        // MSE's choice is the best of its grid: no shrink factor on the grid does better.
        for (var i = 0; i <= ActivationObserver.MseMaxShrinkSteps; i++)
        {
            var f = 1 - (float)i / ActivationObserver.MseGrid;
            Assert.True(es <= ActivationRange.SquaredError(x, ActivationRange.Params(f * x.Min(), f * 500f)) + 1e-9);
        }
        Assert.Contains("--observer 'max' is not one of minmax, percentile, mse", Assert.Throws<ArgumentException>(() => ObserverNames.Parse("max")).Message);
        Assert.Contains("applies to w8a8-static",
            Assert.Throws<ArgumentException>(() => new AwqConfig { Method = QuantMethod.W8A8Dynamic, Observer = ObserverKind.Mse }.Validate()).Message);
    }

    [Fact]
    public void A_static_linear_uses_its_fixed_parameters_whatever_the_input_range()
    {
        const int m = 3, k = 40, n = 6;
        var rng = new Random(5);
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var x = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray(); // beyond the fixed range: clamps
        var p = new ActivationQuantParams(2f / 255f, 128);
        var lin = Int8Linear.Quantize(w, n, k).WithStaticInput(p);
        var y = new float[m * n];
        lin.Forward(x, m, y);
        var wq = lin.QWeight.ToArray();
        var ws = lin.WeightScales.ToArray();
        for (var r = 0; r < m; r++)
            for (var c = 0; c < n; c++)
            {
                long acc = 0;
                for (var i = 0; i < k; i++)
                {
                    var t = Math.Clamp(MathF.Round(x[r * k + i] / p.Scale, MidpointRounding.ToEven), -128f, 127f);
                    acc += (long)t * wq[c * k + i];
                }
                var expected = (double)p.Scale * ws[c] * acc;
                Assert.True(Math.Abs(y[r * n + c] - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"y[{r},{c}] = {y[r * n + c]}, expected {expected}");
            }
    }

    [Theory]
    [InlineData(ObserverKind.MinMax)]
    [InlineData(ObserverKind.Mse)]
    public void Save_and_load_keep_every_static_parameter_and_the_logits(ObserverKind observer)
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        var calib = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tok.Encode(t, addBos: true), 4, 128, "tinystories_calib.txt");
        var q = AwqQuantizer.Quantize(src, calib, new AwqConfig { Method = QuantMethod.W8A8Static, Observer = observer });
        using var dir = new TempDir("w8a8s");
        AwqCheckpointWriter.Write(q, dir.Path, overwrite: true);
        var (loaded, cfg) = Int8CheckpointReader.Load(dir.Path);
        Assert.True(cfg.StaticActivations);
        Assert.Equal(observer.Name(), cfg.Observer);
        for (var l = 0; l < loaded.Config.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
            {
                var a = (Int8Linear)q.Model.Blocks[l][kind];
                var b = Assert.IsType<Int8Linear>(loaded.Blocks[l][kind]);
                Assert.NotNull(a.StaticInput);
                Assert.Equal(a.StaticInput, b.StaticInput);
                Assert.True(a.QWeight.SequenceEqual(b.QWeight));
                Assert.True(a.WeightScales.SequenceEqual(b.WeightScales));
            }
        // q/k/v share one input, so one set of parameters.
        Assert.Equal(((Int8Linear)loaded.Blocks[1].Q).StaticInput, ((Int8Linear)loaded.Blocks[1].V).StaticInput);
        var tokens = tok.Encode(File.ReadAllText(SharedData.EvalText)[..3000], addBos: true)[..160];
        var v = loaded.Config.VocabSize;
        float[] la = new float[tokens.Length * v], lb = new float[tokens.Length * v];
        q.Model.Forward(tokens, q.Model.CreateCache(tokens.Length), q.Model.CreateBuffers(tokens.Length), la, LogitsMode.All);
        loaded.Forward(tokens, loaded.CreateCache(tokens.Length), loaded.CreateBuffers(tokens.Length), lb, LogitsMode.All);
        Assert.Equal(la, lb);
        var err = ScaleFoldingTests.WorstRelativeL2(LlamaModel.FromWeights(src), loaded, tokens);
        Assert.True(err < 0.25, $"worst relative L2 of the logits against FP32: {err:G4}");
    }
}
