using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.QuantGemm;

/// <summary>
/// The W4A8 kernels (awq_quantize_act_q8, awq_w4a8_gemm, awq_w4a8_gemm_f32) against references
/// written from the header's definitions: the quantizer bit for bit, the GEMM against a float64
/// evaluation of its definition and against the existing W4A16 kernel (the int8 rounding of x must
/// stay below 1% relative error), on fresh random operands every run (the seed is in every message).
/// </summary>
public class QuantGemmW4A8Tests
{
    public static TheoryData<int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int>();
        int[] ns = { 1, 13, 100, 257 };
        int i = 0;
        foreach (var m in new[] { 1, 2, 3, 8, 16, 64 })
            foreach (var k in new[] { 64, 172, 1001, 2048 })
                foreach (var g in new[] { 32, 64, 128 })
                {
                    if (k == 2048 && m > 16) continue; // the float64 reference would dominate the run
                    data.Add(m, k, ns[i++ % ns.Length], g);
                }
        return data;
    }

    /// <summary>The quantizer's definition in C#: max|x| / 127, x / scale rounded half to even, clamped.</summary>
    internal static (sbyte[] Xq, float[] Scale, int[] Sum) QuantizeReference(float[] x, int m, int k, int groupSize)
    {
        int groups = (k + groupSize - 1) / groupSize;
        var xq = new sbyte[m * k];
        var scale = new float[m * groups];
        var sum = new int[m * groups];
        for (int r = 0; r < m; r++)
            for (int g = 0; g < groups; g++)
            {
                int k0 = g * groupSize, k1 = Math.Min(k, k0 + groupSize);
                float amax = 0;
                for (int j = k0; j < k1; j++) amax = MathF.Max(amax, MathF.Abs(x[r * k + j]));
                float s = amax / 127f;
                scale[r * groups + g] = s;
                for (int j = k0; j < k1; j++)
                {
                    float t = s == 0 ? 0 : MathF.Round(x[r * k + j] / s, MidpointRounding.ToEven);
                    xq[r * k + j] = (sbyte)Math.Clamp(t, -127f, 127f);
                    sum[r * groups + g] += xq[r * k + j];
                }
            }
        return (xq, scale, sum);
    }

    private static float[] Gaussian(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_float64_definition_and_stays_within_one_percent_of_W4A16(int m, int k, int n, int groupSize) =>
        Run(m, k, n, groupSize, Random.Shared.Next());

    [Theory]
    [InlineData(1, 172, 64, 32)]   // stories260K: K = 172 at G = 32 (groups 5 x 32 + 12) and 64 (64 + 64 + 44)
    [InlineData(5, 172, 172, 64)]
    [InlineData(3, 1001, 19, 128)] // odd K: the last byte's high nibble is unused
    [InlineData(17, 333, 35, 32)]  // rows of x past one 16-row tile
    [InlineData(3, 100, 8, 4096)]  // group larger than K
    [InlineData(2, 100, 9, 40)]    // group sizes that 32 does not divide: the scalar kernel
    [InlineData(3, 101, 9, 7)]
    [InlineData(4, 700, 21, 96)]
    public void Handles_short_last_groups_odd_K_and_unusual_group_sizes(int m, int k, int n, int groupSize) =>
        Run(m, k, n, groupSize, Random.Shared.Next());

    private static void Run(int m, int k, int n, int groupSize, int seed)
    {
        var rng = new Random(seed);
        var p = QuantGemmReference.RandomW4(rng, m, k, n, groupSize);
        p.X = Gaussian(rng, m * k);
        string where = $"M={m} K={k} N={n} G={groupSize} seed={seed} simd={NativeKernels.SimdPath}";

        // the quantizer, bit for bit
        var scratch = new W4A8Scratch();
        scratch.Quantize(p.X, m, k, groupSize);
        var (xq, xs, xsum) = QuantizeReference(p.X, m, k, groupSize);
        Assert.True(scratch.Xq.SequenceEqual(xq), $"xq differs from the definition ({where})");
        Assert.True(scratch.XScale.SequenceEqual(xs), $"x_scale differs from the definition ({where})");
        Assert.True(scratch.XSum.SequenceEqual(xsum), $"x_sum differs from the definition ({where})");

        // the GEMM against its definition in float64: within the fp32 rounding bound of the group sum
        var y = new float[m * n];
        NativeKernels.W4A8Gemm(p.X, m, k, p.QWeight, p.Scales, p.Zeros, n, groupSize, y, scratch);
        int groups = p.Groups;
        double bound = (groups + 3) * Math.Pow(2, -24) * 1.01;
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double acc = 0, size = 1e-300;
                for (int g = 0; g < groups; g++)
                {
                    long dot = 0;
                    for (int j = g * groupSize; j < Math.Min(k, (g + 1) * groupSize); j++) dot += xq[r * k + j] * p.Q(c, j);
                    long corr = dot - (long)p.Zeros[c * groups + g] * xsum[r * groups + g];
                    double t = (double)xs[r * groups + g] * (double)p.Scales[c * groups + g] * corr;
                    acc += t;
                    size += Math.Abs(t);
                }
                double e = Math.Abs(y[r * n + c] - acc) / size;
                Assert.True(e <= bound, $"y[{r},{c}] = {y[r * n + c]}, float64 {acc}: error {e:g3} of the term size > {bound:g3} ({where})");
            }

        // the convenience entry point and a prequantized x give the same bits
        var yf = new float[m * n];
        NativeKernels.W4A8GemmF32(p.X, m, k, p.QWeight, p.Scales, p.Zeros, n, groupSize, yf);
        Assert.True(yf.AsSpan().SequenceEqual(y), $"awq_w4a8_gemm_f32 differs ({where})");
        // and the prepared tile tables (what Int4Linear holds) change nothing either
        var tiles = NativeKernels.W4A8TileTables(p.Scales, p.Zeros, n, k, groupSize);
        Array.Clear(yf);
        NativeKernels.W4A8GemmF32(p.X, m, k, p.QWeight, p.Scales, p.Zeros, tiles, n, groupSize, yf);
        Assert.True(yf.AsSpan().SequenceEqual(y), $"awq_w4a8_gemm_f32_tiled differs ({where})");
        // and the weights repacked for the AVX2 kernel (read where this CPU prefers them)
        var repacked = NativeKernels.W4A8Prepare(p.QWeight, p.Scales, p.Zeros, n, k, groupSize, repack: true);
        Assert.True(repacked.IsRepacked);
        Assert.Equal(tiles.Bytes + (n + 7) / 8 * 8 * (((k + 1) / 2 + 15) / 16 * 16), repacked.Bytes);
        Array.Clear(yf);
        NativeKernels.W4A8GemmF32(p.X, m, k, p.QWeight, p.Scales, p.Zeros, repacked, n, groupSize, yf);
        Assert.True(yf.AsSpan().SequenceEqual(y), $"awq_w4a8_gemm_f32_repacked differs ({where})");
        Assert.False(NativeKernels.W4A8Prepare(p.QWeight, p.Scales, p.Zeros, n, k, groupSize, repack: false).IsRepacked);
        NativeKernels.W4A8Gemm(scratch.Xq, scratch.XScale, scratch.XSum, m, k, p.QWeight, p.Scales, p.Zeros, n, groupSize, yf);
        Assert.True(yf.AsSpan().SequenceEqual(y), $"awq_w4a8_gemm on the scratch's spans differs ({where})");

        // against the W4A16 kernel: the int8 rounding of x costs well under 1% (about 0.6%). The
        // norm-wise ratio is a statistic of the rounding errors of the m·k activations (all n
        // outputs of a row share them): with fewer than 2048 of them, or 64 outputs, it is too
        // noisy to bound (M=1, K=64 measured up to 1.4%)
        if (m * n >= 64 && m * k >= 2048)
        {
            var y16 = new float[m * n];
            NativeKernels.W4A16Gemm(p.X, m, k, p.QWeight, p.Scales, p.Zeros, n, groupSize, y16);
            double num = 0, den = 0;
            for (int i = 0; i < y.Length; i++)
            {
                num += (y[i] - (double)y16[i]) * (y[i] - (double)y16[i]);
                den += (double)y16[i] * y16[i];
            }
            double rel = Math.Sqrt(num / den);
            Assert.True(rel < 0.01, $"relative L2 error against W4A16 {rel:g3} ({where})");
        }
    }

    [Fact]
    public void Quantization_error_against_W4A16_is_about_half_a_percent()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (var g in new[] { 32, 64, 128 })
        {
            var p = QuantGemmReference.RandomW4(rng, 4, 2048, 256, g);
            p.X = Gaussian(rng, 4 * 2048);
            var (yRef, _) = p.Reference();
            var y = new float[4 * 256];
            NativeKernels.W4A8GemmF32(p.X, 4, 2048, p.QWeight, p.Scales, p.Zeros, 256, g, y);
            double num = 0, den = 0;
            for (int i = 0; i < y.Length; i++)
            {
                num += (y[i] - yRef[i]) * (y[i] - yRef[i]);
                den += yRef[i] * yRef[i];
            }
            double rel = Math.Sqrt(num / den);
            Assert.True(rel > 1e-4 && rel < 0.01, $"G={g}: relative L2 error {rel:g3} against exact W4A16 (seed {seed})");
        }
    }

    [Fact]
    public void All_zero_rows_give_zero_not_NaN()
    {
        var p = QuantGemmReference.RandomW4(new Random(Random.Shared.Next()), 5, 172, 37, 32);
        Array.Clear(p.X);
        for (int j = 0; j < 172; j++) p.X[2 * 172 + j] = j % 7 - 3; // only row 2 non-zero
        var y = new float[5 * 37];
        NativeKernels.W4A8Gemm(p.X, 5, 172, p.QWeight, p.Scales, p.Zeros, 37, 32, y, new W4A8Scratch());
        for (int i = 0; i < y.Length; i++)
        {
            if (i / 37 == 2) Assert.True(float.IsFinite(y[i]));
            else Assert.Equal(0f, y[i]);
        }
    }

    [Fact]
    public void Scratch_is_reused_across_shapes_and_projections()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var scratch = new W4A8Scratch();
        var big = QuantGemmReference.RandomW4(rng, 16, 1024, 40, 64);
        var small = QuantGemmReference.RandomW4(rng, 2, 172, 24, 32);
        var y = new float[16 * 40];
        NativeKernels.W4A8Gemm(big.X, 16, 1024, big.QWeight, big.Scales, big.Zeros, 40, 64, y, scratch);
        long capacity = scratch.CapacityBytes;
        // a smaller x afterwards: no new buffers, and only the new shape's values count
        var ys = new float[2 * 24];
        NativeKernels.W4A8Gemm(small.X, 2, 172, small.QWeight, small.Scales, small.Zeros, 24, 32, ys, scratch);
        Assert.Equal(capacity, scratch.CapacityBytes);
        Assert.Equal((2, 172, 32, 6), (scratch.M, scratch.K, scratch.GroupSize, scratch.Groups));
        var yf = new float[2 * 24];
        NativeKernels.W4A8GemmF32(small.X, 2, 172, small.QWeight, small.Scales, small.Zeros, 24, 32, yf);
        Assert.True(yf.AsSpan().SequenceEqual(ys), $"seed {seed}");
        // one quantized x, two projections of it (as q/k/v or gate/up share their input)
        var other = QuantGemmReference.RandomW4(rng, 2, 172, 24, 32);
        var y2 = new float[2 * 24];
        NativeKernels.W4A8Gemm(scratch, other.QWeight, other.Scales, other.Zeros, 24, y2);
        NativeKernels.W4A8GemmF32(small.X, 2, 172, other.QWeight, other.Scales, other.Zeros, 24, 32, yf);
        Assert.True(yf.AsSpan().SequenceEqual(y2), $"seed {seed}");
    }

    [Fact]
    public void Results_are_identical_for_one_and_four_threads()
    {
        int seed = Random.Shared.Next();
        var cases = new[]
        {
            QuantGemmReference.RandomW4(new Random(seed), 1, 2048, 300, 128),
            QuantGemmReference.RandomW4(new Random(seed), 16, 512, 77, 64),
            QuantGemmReference.RandomW4(new Random(seed), 37, 172, 64, 32),
        };
        int saved = NativeKernels.Threads;
        try
        {
            foreach (var q in cases)
            {
                var y1 = new float[q.M * q.N];
                var y4 = new float[q.M * q.N];
                NativeKernels.Threads = 1;
                NativeKernels.W4A8GemmF32(q.X, q.M, q.K, q.QWeight, q.Scales, q.Zeros, q.N, q.GroupSize, y1);
                NativeKernels.Threads = 4;
                NativeKernels.W4A8GemmF32(q.X, q.M, q.K, q.QWeight, q.Scales, q.Zeros, q.N, q.GroupSize, y4);
                Assert.True(y1.AsSpan().SequenceEqual(y4), $"1 vs 4 threads differ (seed {seed}, M={q.M})");
            }
        }
        finally
        {
            NativeKernels.Threads = saved;
        }
    }
}
