using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.Layers;

/// <summary>awq_silu_mul and awq_softmax against float64 evaluations of their definitions.</summary>
public unsafe class LayerActivationTests
{
    [Theory]
    [InlineData(1, 51)]
    [InlineData(172, 52)]      // stories260K hidden
    [InlineData(100_003, 53)]  // long enough to be split over threads
    public void Silu_mul_matches_float64(int n, int seed)
    {
        var rng = new Random(seed);
        var gate = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 40 - 20)).ToArray();
        var up = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        if (n > 3) (gate[0], gate[1], gate[2]) = (-200f, 200f, 0f); // exp overflow side, saturation, zero
        var output = new float[n];

        NativeKernels.SiluMul(gate, up, n, output);

        for (int i = 0; i < n; i++)
        {
            double g = gate[i], expected = g / (1 + Math.Exp(-g)) * up[i];
            Assert.True(Math.Abs(output[i] - expected) <= 4e-7 * Math.Abs(expected) + 1e-37,
                $"seed {seed}: silu({gate[i]:R}) * {up[i]:R} = {output[i]:R}, expected {expected:R}");
        }
    }

    [Fact]
    public void Silu_mul_may_write_over_its_gate()
    {
        var gate = new float[] { -1, 0, 1, 2 };
        var up = new float[] { 2, 2, 2, 2 };
        var separate = new float[4];
        NativeKernels.SiluMul(gate, up, 4, separate);
        NativeKernels.SiluMul(gate, up, 4, gate);
        Assert.Equal(separate, gate);
    }

    [Theory]
    [InlineData(1, 1, 61)]
    [InlineData(3, 7, 62)]
    [InlineData(4, 512, 63)]     // stories260K vocab
    [InlineData(2, 32000, 64)]   // LLaMA vocab
    public void Softmax_matches_float64(int m, int n, int seed)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, m * n).Select(_ => (float)(rng.NextDouble() * 40 - 20)).ToArray();
        var original = (float[])x.Clone();

        NativeKernels.Softmax(x, m, n);

        for (int r = 0; r < m; r++)
        {
            var row = original.AsSpan(r * n, n).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            for (int i = 0; i < n; i++)
            {
                double expected = Math.Exp(row[i] - max) / sum;
                // fp32 x − max carries |x − max|·2⁻²⁴ absolute error, which exp turns into relative error
                double tol = (6e-8 * Math.Abs(row[i] - max) + 3e-7) * expected;
                Assert.True(Math.Abs(x[r * n + i] - expected) <= tol + 1e-40,
                    $"seed {seed}: softmax row {r} [{i}] = {x[r * n + i]:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void Softmax_of_huge_logits_does_not_overflow()
    {
        var x = new float[] { 1e4f, -1e4f, 0f, 1e4f, /* row 2 */ -1e4f, -1e4f + 1f, -1e4f, -1e4f };
        NativeKernels.Softmax(x, 2, 4);
        Assert.All(x, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(new[] { 0.5f, 0f, 0f, 0.5f }, x[..4]);
        double e = Math.E, z = 3 + e;
        Assert.Equal(1 / z, x[4], 6);
        Assert.Equal(e / z, x[5], 6);
        Assert.Equal(1.0, x[4..].Sum(v => (double)v), 6);
    }

    [Fact]
    public void Bad_arguments_return_named_statuses()
    {
        float* p = stackalloc float[8];
        F32GemmTests.Expect(NativeMethods.awq_silu_mul(null, p, 4, p), NativeStatus.NullPointer, "awq_silu_mul", "'gate'");
        F32GemmTests.Expect(NativeMethods.awq_silu_mul(p, null, 4, p), NativeStatus.NullPointer, "awq_silu_mul", "'up'");
        F32GemmTests.Expect(NativeMethods.awq_silu_mul(p, p, 4, null), NativeStatus.NullPointer, "awq_silu_mul", "'out'");
        F32GemmTests.Expect(NativeMethods.awq_silu_mul(p, p, 0, p), NativeStatus.InvalidSize, "awq_silu_mul", "'n'");
        F32GemmTests.Expect(NativeMethods.awq_softmax(null, 1, 4), NativeStatus.NullPointer, "awq_softmax", "'x'");
        F32GemmTests.Expect(NativeMethods.awq_softmax(p, 0, 4), NativeStatus.InvalidSize, "awq_softmax", "'M'");
        F32GemmTests.Expect(NativeMethods.awq_softmax(p, 1, -4), NativeStatus.InvalidSize, "awq_softmax", "'n'");
    }

    [Fact]
    public void Wrappers_throw_naming_function_and_argument()
    {
        var buf = new float[8];
        F32GemmTests.AssertThrows(() => NativeKernels.SiluMul(buf, buf, 0, buf), NativeStatus.InvalidSize, "awq_silu_mul", "'n'");
        F32GemmTests.AssertThrows(() => NativeKernels.Softmax(buf, 2, 0), NativeStatus.InvalidSize, "awq_softmax", "'n'");
        F32GemmTests.AssertThrows(() => NativeKernels.Softmax(buf, -1, 4), NativeStatus.InvalidSize, "awq_softmax", "'M'");
        var ex = Assert.Throws<ArgumentException>(() => NativeKernels.SiluMul(buf, buf[..2], 4, buf));
        Assert.Contains("'up'", ex.Message);
    }
}
