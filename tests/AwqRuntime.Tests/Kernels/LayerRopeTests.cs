using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.Layers;

/// <summary>awq_rope against the rotation written out with cos/sin in float64.</summary>
public unsafe class LayerRopeTests
{
    [Theory]
    [InlineData(2, 8, 8, 10000f, 21)]       // stories260K head
    [InlineData(6, 48, 48, 10000f, 22)]     // stories15M head
    [InlineData(4, 64, 64, 10000f, 23)]
    [InlineData(3, 128, 64, 500000f, 24)]   // partial rotary, LLaMA-3 base
    [InlineData(2, 10, 6, 10000f, 25)]      // rot_dim < head_dim, neither a power of two
    public void Matches_explicit_rotation_in_float64(int nHeads, int headDim, int rotDim, float theta, int seed)
    {
        var positions = new[] { 0, 1, 5, 100, 511, 2047, 4095 };
        int m = positions.Length;
        var rng = new Random(seed);
        var x = Enumerable.Range(0, m * nHeads * headDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var original = (float[])x.Clone();

        NativeKernels.Rope(x, m, nHeads, headDim, rotDim, positions, theta);

        for (int r = 0; r < m; r++)
            for (int h = 0; h < nHeads; h++)
            {
                int b = (r * nHeads + h) * headDim;
                for (int i = 0; 2 * i < rotDim; i++)
                {
                    double angle = positions[r] * Math.Pow(theta, -2.0 * i / rotDim);
                    var (c, s) = (Math.Cos(angle), Math.Sin(angle));
                    double x0 = original[b + 2 * i], x1 = original[b + 2 * i + 1];
                    double e0 = x0 * c - x1 * s, e1 = x0 * s + x1 * c;
                    Assert.True(Math.Abs(x[b + 2 * i] - e0) <= 3e-7 && Math.Abs(x[b + 2 * i + 1] - e1) <= 3e-7,
                        $"seed {seed}: pos {positions[r]} head {h} pair {i}: got ({x[b + 2 * i]:R}, {x[b + 2 * i + 1]:R}), expected ({e0:R}, {e1:R})");
                }
                for (int d = rotDim; d < headDim; d++)
                    Assert.Equal(original[b + d], x[b + d]); // untouched, bit for bit
            }
    }

    [Fact]
    public void Position_zero_is_the_identity_and_rotations_preserve_pair_norms()
    {
        var x = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 1, 0.5f, -0.5f, 3, -4 };
        var original = (float[])x.Clone();
        NativeKernels.Rope(x, 2, 1, 8, 8, new[] { 0, 9 }, 10000f);
        Assert.Equal(original[..8], x[..8]);
        for (int i = 8; i < 16; i += 2)
        {
            double before = Math.Sqrt(original[i] * original[i] + original[i + 1] * original[i + 1]);
            double after = Math.Sqrt(x[i] * x[i] + x[i + 1] * x[i + 1]);
            Assert.Equal(before, after, 6);
        }
        // pair 0 turns by exactly pos radians: (1, 0) -> (cos 9, sin 9)
        Assert.Equal(Math.Cos(9), x[8], 6);
        Assert.Equal(Math.Sin(9), x[9], 6);
    }

    [Fact]
    public void Bad_arguments_return_named_statuses()
    {
        float* x = stackalloc float[16];
        int* pos = stackalloc int[2];
        pos[0] = 0;
        pos[1] = -1;
        F32GemmTests.Expect(NativeMethods.awq_rope(null, 1, 1, 4, 4, pos, 1e4f), NativeStatus.NullPointer, "awq_rope", "'x'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, 4, 4, null, 1e4f), NativeStatus.NullPointer, "awq_rope", "'pos'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 0, 1, 4, 4, pos, 1e4f), NativeStatus.InvalidSize, "awq_rope", "'M'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 0, 4, 4, pos, 1e4f), NativeStatus.InvalidSize, "awq_rope", "'n_heads'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, -4, 4, pos, 1e4f), NativeStatus.InvalidSize, "awq_rope", "'head_dim'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, 4, 0, pos, 1e4f), NativeStatus.InvalidSize, "awq_rope", "'rot_dim'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, 4, 3, pos, 1e4f), NativeStatus.InvalidArgument, "awq_rope", "'rot_dim'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, 4, 6, pos, 1e4f), NativeStatus.InvalidSize, "awq_rope", "'rot_dim'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, 4, 4, pos, 0f), NativeStatus.InvalidArgument, "awq_rope", "'theta'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 1, 1, 4, 4, pos, float.NaN), NativeStatus.InvalidArgument, "awq_rope", "'theta'");
        F32GemmTests.Expect(NativeMethods.awq_rope(x, 2, 1, 4, 4, pos, 1e4f), NativeStatus.InvalidArgument, "awq_rope", "'pos'");
    }

    [Fact]
    public void Wrapper_throws_naming_function_and_argument()
    {
        var x = new float[16];
        F32GemmTests.AssertThrows(() => NativeKernels.Rope(x, 1, 2, 8, 7, new[] { 0 }, 1e4f), NativeStatus.InvalidArgument, "awq_rope", "'rot_dim'");
        F32GemmTests.AssertThrows(() => NativeKernels.Rope(x, 1, 2, 8, 10, new[] { 0 }, 1e4f), NativeStatus.InvalidSize, "awq_rope", "'rot_dim'");
        F32GemmTests.AssertThrows(() => NativeKernels.Rope(x, 2, 1, 8, 8, new[] { 0, -3 }, 1e4f), NativeStatus.InvalidArgument, "awq_rope", "'pos'");
        var ex = Assert.Throws<ArgumentException>(() => NativeKernels.Rope(x, 2, 1, 8, 8, new[] { 0 }, 1e4f));
        Assert.Contains("'pos'", ex.Message);
    }
}
