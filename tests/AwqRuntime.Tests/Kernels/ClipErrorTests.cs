using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.Layers;

/// <summary>
/// awq_clip_error through P/Invoke: the mean squared partial output of each quantization group,
/// against the definition evaluated in float64, and its argument errors.
/// </summary>
public class ClipErrorTests
{
    [Theory]
    [InlineData(1, 16, 1, 16, 1)]
    [InlineData(5, 100, 3, 32, 2)]    // short last group
    [InlineData(17, 256, 70, 128, 3)] // rows past one 64-row block
    [InlineData(64, 2048, 130, 128, 4)]
    public void Matches_float64_definition(int m, int k, int n, int g, int seed)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var d = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 0.1 - 0.05)).ToArray();
        var groups = (k + g - 1) / g;
        var err = new double[n * groups];

        NativeKernels.ClipError(x, m, k, d, n, g, err);

        for (var r = 0; r < n; r++)
            for (var gi = 0; gi < groups; gi++)
            {
                double e = 0;
                for (var t = 0; t < m; t++)
                {
                    double p = 0;
                    for (var c = gi * g; c < Math.Min(k, (gi + 1) * g); c++) p += (double)x[t * k + c] * d[r * k + c];
                    e += p * p;
                }
                e /= m;
                Assert.True(Math.Abs(err[r * groups + gi] - e) <= 1e-4 * e + 1e-15, $"err[{r},{gi}] = {err[r * groups + gi]:R}, expected {e:R}");
            }
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var x = new float[8];
        var d = new float[8];
        var err = new double[2];
        Assert.Contains("'err'", Assert.Throws<ArgumentException>(() => NativeKernels.ClipError(x, 2, 4, d, 2, 2, new double[3])).Message);
        Assert.Contains("'d'", Assert.Throws<ArgumentException>(() => NativeKernels.ClipError(x, 2, 4, d.AsSpan(0, 4), 2, 4, err)).Message);
        F32GemmTests.AssertThrows(() => NativeKernels.ClipError(x, 2, 4, d, 2, 0, err), NativeStatus.InvalidGroupSize, "awq_clip_error", "group_size");
        F32GemmTests.AssertThrows(() => NativeKernels.ClipError(x, 0, 4, d, 2, 4, err), NativeStatus.InvalidSize, "awq_clip_error", "'M'");
    }
}
