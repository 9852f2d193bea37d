using AwqRuntime.Model;
using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Model;

/// <summary>W8A8 with dynamic activations: exactly its definition, close to fp32, usable as the classifier.</summary>
public class Int8LinearTests
{
    private static float[] Gaussian(int n, int seed, float std = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(std * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
    }

    [Theory]
    [InlineData(1, 64, 10)]
    [InlineData(3, 172, 37)]
    [InlineData(16, 512, 200)]
    public void Output_is_the_definition_in_float64_and_near_the_fp32_product(int m, int k, int n)
    {
        var w = Gaussian(n * k, 1, 0.05f);
        var x = Gaussian(m * k, 2);
        var lin = Int8Linear.Quantize(w, n, k);
        var y = new float[m * n];
        lin.Forward(x, m, y);

        // The definition, independently: symmetric per-row INT8 weights, asymmetric per-row UINT8 activations.
        double worstDef = 0, num = 0, den = 0;
        for (var r = 0; r < m; r++)
        {
            var xr = x.AsSpan(r * k, k).ToArray();
            float lo = Math.Min(0, xr.Min()), hi = Math.Max(0, xr.Max());
            var xs = (hi - lo) / 255f;
            var xz = (int)Math.Clamp(MathF.Round(-lo / xs, MidpointRounding.ToEven), 0, 255);
            var xq = xr.Select(v => (int)Math.Clamp(MathF.Round(v / xs, MidpointRounding.ToEven) + xz, 0, 255)).ToArray();
            for (var c = 0; c < n; c++)
            {
                var wr = w.AsSpan(c * k, k).ToArray();
                var ws = wr.Max(Math.Abs) / 127f;
                long acc = 0;
                for (var i = 0; i < k; i++) acc += (long)(xq[i] - xz) * (int)Math.Clamp(MathF.Round(wr[i] / ws, MidpointRounding.ToEven), -127, 127);
                var expected = (double)xs * ws * acc;
                worstDef = Math.Max(worstDef, Math.Abs(y[r * n + c] - expected) / (Math.Abs(expected) + 1e-3));
                double exact = 0;
                for (var i = 0; i < k; i++) exact += (double)xr[i] * wr[i];
                num += (y[r * n + c] - exact) * (y[r * n + c] - exact);
                den += exact * exact;
            }
        }
        Assert.True(worstDef < 1e-5, $"differs from its definition by {worstDef:E2}");
        Assert.True(Math.Sqrt(num / den) < 0.02, $"relative L2 error against fp32: {Math.Sqrt(num / den):E2}");
    }

    [Fact]
    public void As_the_classifier_of_stories260K_it_stays_close_to_fp32()
    {
        using var m = AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512);
        var fp32 = m.Model;
        m.UseInt8Classifier();
        Assert.IsType<Int8Linear>(m.Model.Output);
        Assert.True(m.Model.Output.WeightBytes < fp32.Output.WeightBytes / 3); // 1 byte against 4 per weight
        var tokens = m.Tokenizer.Encode(File.ReadAllText(SharedData.EvalText)[..2000], addBos: true)[..256];
        Assert.True(Quantization.ScaleFoldingTests.WorstRelativeL2(fp32, m.Model, tokens) < 0.05);
    }
}
