using AwqRuntime.Evaluation;
using AwqRuntime.Model;
using AwqRuntime.Native;
using AwqRuntime.Tests.Acceptance;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// The W4A8 kernel in the runtime (`--kernel w4a8`): the same packed INT4 weights with activations
/// rounded to int8 per group. Its cost is measured the way every format here is, by KL divergence
/// against the FP32 model, next to the exact W4A16 path's.
/// </summary>
[Collection(StoriesQuantizationCollection.Name)]
public class W4A8RuntimeTests(StoriesQuantizationFixture f, ITestOutputHelper output)
{
    [Fact]
    public void W4A8_kld_against_fp32_is_within_1_1x_of_the_exact_w4a16_path()
    {
        var tokens = f.Tokenizer.Encode(File.ReadAllText(SharedData.EvalText), addBos: true);
        var windows = EvalWindows.Build(tokens, 512, f.Tokenizer.Spec.BosId, 40);
        foreach (var (name, q) in new[] { ("AWQ g32", f.Awq32), ("AWQ g64", f.Awq64), ("RTN g32", f.Rtn32) })
        {
            var m = Evaluator.Compare(new RuntimeLogitsSource(f.Fp32, "fp32"),
                [new RuntimeLogitsSource(q.Model, "w4a16"), new RuntimeLogitsSource(q.Model.WithInt4Kernel(Int4Kernel.W4A8), "w4a8")], windows);
            var (exact, w4a8) = (m[0].Summary(), m[1].Summary());
            var ratio = w4a8.MeanKld / exact.MeanKld;
            output.WriteLine($"{name}: KLD w4a16 {exact.MeanKld:F5} w4a8 {w4a8.MeanKld:F5} (x{ratio:F3}); top-1 {exact.Top1Agreement:P2} vs {w4a8.Top1Agreement:P2}");
            Assert.True(ratio <= 1.1, $"{name}: W4A8 KLD {w4a8.MeanKld:F5} is {ratio:F3} x the W4A16 path's {exact.MeanKld:F5}");
            // The int8 rounding of x is a real, visible difference: the two paths are not the same computation.
            Assert.NotEqual(exact.MeanKld, w4a8.MeanKld);
        }
    }

    [Fact]
    public void WithInt4Kernel_switches_every_int4_linear_and_leaves_the_original_model_alone()
    {
        var exact = f.Awq32.Model;
        var fast = exact.WithInt4Kernel(Int4Kernel.W4A8);
        for (var i = 0; i < exact.Blocks.Length; i++)
            foreach (var kind in LinearKinds.All)
            {
                Assert.Equal(Int4Kernel.W4A16, Assert.IsType<Int4Linear>(exact.Blocks[i][kind]).Kernel);
                Assert.Equal(Int4Kernel.W4A8, Assert.IsType<Int4Linear>(fast.Blocks[i][kind]).Kernel);
            }
        Assert.Same(exact.Blocks[0].AttnNorm, fast.Blocks[0].AttnNorm);
        Assert.Equal(exact.WeightBytes, fast.WeightBytes);
        Assert.Same(exact.Output, fast.Output); // the fp32 classifier is not an INT4 linear
        // A linear already on the asked kernel is kept as it is.
        Assert.Same(fast.Blocks[0][LinearKind.QProj], fast.WithInt4Kernel(Int4Kernel.W4A8).Blocks[0][LinearKind.QProj]);
    }

    [Fact]
    public void A_w4a8_linear_computes_the_w4a8_product_of_its_own_weights()
    {
        var w4a16 = Assert.IsType<Int4Linear>(f.Awq32.Model.Blocks[1][LinearKind.DownProj]);
        var w4a8 = w4a16.WithKernel(Int4Kernel.W4A8);
        var rng = new Random(7);
        const int rows = 3;
        var x = new float[rows * w4a16.InFeatures];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y16 = new float[rows * w4a16.OutFeatures];
        var y8 = new float[y16.Length];
        w4a16.Forward(x, rows, y16);
        w4a8.Forward(x, rows, y8);
        // The W4A8 definition on the dequantized weights: x rounded per row and group to int8.
        var wq = w4a16.ToWeights().Dequantize();
        var g = w4a16.GroupSize;
        double num = 0, den = 0;
        for (var r = 0; r < rows; r++)
        {
            var xr = x.AsSpan(r * w4a16.InFeatures, w4a16.InFeatures).ToArray();
            for (var k0 = 0; k0 < xr.Length; k0 += g)
            {
                var end = Math.Min(k0 + g, xr.Length);
                var max = 0f;
                for (var k = k0; k < end; k++) max = Math.Max(max, Math.Abs(xr[k]));
                var s = max / 127f;
                for (var k = k0; k < end; k++) xr[k] = s == 0 ? 0 : Math.Clamp(MathF.Round(xr[k] / s, MidpointRounding.ToEven), -127, 127) * s;
            }
            for (var n = 0; n < w4a16.OutFeatures; n++)
            {
                double want = 0;
                for (var k = 0; k < xr.Length; k++) want += (double)xr[k] * wq[(long)n * w4a16.InFeatures + k];
                Assert.True(Math.Abs(y8[r * w4a16.OutFeatures + n] - want) <= 1e-4 * (1 + Math.Abs(want)), $"row {r} out {n}: {y8[r * w4a16.OutFeatures + n]} vs {want}");
                num += Math.Pow(y8[r * w4a16.OutFeatures + n] - y16[r * w4a16.OutFeatures + n], 2);
                den += Math.Pow(y16[r * w4a16.OutFeatures + n], 2);
            }
        }
        var rel = Math.Sqrt(num / den);
        output.WriteLine($"relative L2 of W4A8 against W4A16 on down_proj: {rel:E2}");
        Assert.InRange(rel, 1e-5, 0.02);
    }

    [Fact]
    public void The_cli_refuses_an_unknown_kernel_and_w4a8_on_a_model_without_int4_linears()
    {
        AwqCli.FailWithOneLine("--kernel", "generate", SharedData.Stories260KGguf, "-n", "2", "--kernel", "w4a4");
        AwqCli.FailWithOneLine("--kernel w4a8", "generate", SharedData.Stories260KGguf, "-n", "2", "--kernel", "w4a8");
        AwqCli.FailWithOneLine("--classifier", "generate", SharedData.Stories260KGguf, "-n", "2", "--classifier", "int2");
    }
}
