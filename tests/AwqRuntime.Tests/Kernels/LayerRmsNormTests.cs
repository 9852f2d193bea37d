using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.Layers;

/// <summary>awq_rmsnorm against y = x / sqrt(mean(x²) + eps) · w evaluated in float64.</summary>
public unsafe class LayerRmsNormTests
{
    [Theory]
    [InlineData(1, 1, 11)]
    [InlineData(3, 7, 12)]
    [InlineData(2, 64, 13)]      // stories260K dim
    [InlineData(5, 288, 14)]     // stories15M dim
    [InlineData(4, 4096, 15)]
    [InlineData(70, 2048, 16)]   // enough rows for several threads
    public void Matches_float64_reference(int m, int d, int seed)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, m * d).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var w = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() + 0.5)).ToArray();
        var y = new float[m * d];
        const float eps = 1e-5f;

        NativeKernels.RmsNorm(x, w, m, d, eps, y);

        for (int r = 0; r < m; r++)
        {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double)x[r * d + i] * x[r * d + i];
            double inv = 1.0 / Math.Sqrt(ss / d + eps);
            for (int i = 0; i < d; i++)
            {
                double expected = x[r * d + i] * inv * w[i];
                double err = Math.Abs(y[r * d + i] - expected);
                Assert.True(err <= 5e-7 * Math.Abs(expected) + 1e-30,
                    $"seed {seed}, M={m} D={d}: y[{r},{i}] = {y[r * d + i]:R}, expected {expected:R}");
            }
        }
    }

    [Theory]
    [InlineData(1, 2048, 21)]    // a decode row of TinyLlama
    [InlineData(33, 64, 22)]
    [InlineData(70, 2048, 23)]   // several threads
    public void Fused_add_equals_the_add_then_the_norm(int m, int d, int seed)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, m * d).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var delta = Enumerable.Range(0, m * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() + 0.5)).ToArray();
        var sum = x.Zip(delta, (a, b) => a + b).ToArray();
        var expected = new float[m * d];
        NativeKernels.RmsNorm(sum, w, m, d, 1e-5f, expected);

        var y = new float[m * d];
        NativeKernels.AddRmsNorm(x, delta, w, m, d, 1e-5f, y);

        Assert.Equal(sum, x);          // x keeps the residual sum
        Assert.Equal(expected, y);     // and y its norm, bit for bit
    }

    [Fact]
    public void Fused_add_refuses_an_output_that_aliases_x()
    {
        var x = new float[8];
        var ex = Assert.Throws<NativeKernelException>(() => NativeKernels.AddRmsNorm(x, new float[8], new float[4], 2, 4, 1e-5f, x));
        Assert.Contains("'y'", ex.Message);
    }

    [Fact]
    public void Works_in_place_and_honours_eps()
    {
        var x = new float[] { 0, 0, 0, 0, 3, 4, 0, 0 };
        var w = new float[] { 1, 2, 3, 4 };
        NativeKernels.RmsNorm(x, w, 2, 4, 0.5f, x);
        // row 0: all zeros stay zero (eps keeps it finite); row 1: mean(x²) = 25/4, rms = sqrt(6.75)
        Assert.Equal(new float[] { 0, 0, 0, 0 }, x[..4]);
        double s = 1 / Math.Sqrt(6.75);
        Assert.Equal(3 * s * 1, x[4], 6);
        Assert.Equal(4 * s * 2, x[5], 6);
        Assert.Equal(0f, x[6]);
    }

    [Fact]
    public void Bad_arguments_return_named_statuses()
    {
        float* p = stackalloc float[8];
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(null, p, 1, 4, 1e-5f, p), NativeStatus.NullPointer, "awq_rmsnorm", "'x'");
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(p, null, 1, 4, 1e-5f, p), NativeStatus.NullPointer, "awq_rmsnorm", "'weight'");
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(p, p, 1, 4, 1e-5f, null), NativeStatus.NullPointer, "awq_rmsnorm", "'y'");
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(p, p, 0, 4, 1e-5f, p), NativeStatus.InvalidSize, "awq_rmsnorm", "'M'");
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(p, p, 1, -4, 1e-5f, p), NativeStatus.InvalidSize, "awq_rmsnorm", "'D'");
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(p, p, 1, 4, -1e-5f, p), NativeStatus.InvalidArgument, "awq_rmsnorm", "'eps'");
        F32GemmTests.Expect(NativeMethods.awq_rmsnorm(p, p, 1, 4, float.NaN, p), NativeStatus.InvalidArgument, "awq_rmsnorm", "'eps'");
    }

    [Fact]
    public void Wrapper_throws_naming_function_and_argument()
    {
        var buf = new float[8];
        F32GemmTests.AssertThrows(() => NativeKernels.RmsNorm(buf, buf, 0, 4, 1e-5f, buf), NativeStatus.InvalidSize, "awq_rmsnorm", "'M'");
        F32GemmTests.AssertThrows(() => NativeKernels.RmsNorm(buf, buf, 2, 4, float.PositiveInfinity, buf), NativeStatus.InvalidArgument, "awq_rmsnorm", "'eps'");
        var ex = Assert.Throws<ArgumentException>(() => NativeKernels.RmsNorm(buf, buf[..3], 2, 4, 1e-5f, buf));
        Assert.Contains("'weight'", ex.Message);
    }
}
