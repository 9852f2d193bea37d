using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.QuantGemm;

/// <summary>
/// awq_w4a16_gemm against the float64 product with the dequantized weights, on fresh random
/// operands every run (the seed is in every failure message; pass it to Run to replay).
/// </summary>
public class QuantGemmW4A16Tests
{
    public static TheoryData<int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int>();
        int[] ns = { 1, 13, 100, 257 };
        int i = 0;
        foreach (var m in new[] { 1, 2, 3, 7, 16, 64, 512 })
            foreach (var k in new[] { 8, 64, 172, 256, 1000, 4096 })
                foreach (var g in new[] { 32, 64, 128 })
                {
                    if (k == 4096 && m > 16) continue; // the float64 reference would dominate the run
                    data.Add(m, k, ns[i++ % ns.Length], g);
                }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_float64_reference(int m, int k, int n, int groupSize) => Run(m, k, n, groupSize, Random.Shared.Next());

    [Theory]
    [InlineData(1, 172, 64, 64)]   // stories260K down_proj: K = 172, groups 64 + 64 + 44
    [InlineData(5, 172, 64, 32)]
    [InlineData(4, 172, 172, 128)] // one group of 128 and one of 44
    [InlineData(3, 1001, 19, 128)] // odd K: the last byte's high nibble is unused
    [InlineData(1, 1001, 19, 40)]  // group boundaries inside SIMD steps
    [InlineData(9, 333, 11, 30)]
    [InlineData(2, 100, 6, 7)]     // odd group size (bytes shared by two groups: scalar kernel)
    [InlineData(1, 33, 3, 1)]
    [InlineData(3, 100, 8, 4096)]  // group larger than K: one short group per row
    public void Handles_short_last_groups_odd_K_and_unusual_group_sizes(int m, int k, int n, int groupSize) =>
        Run(m, k, n, groupSize, Random.Shared.Next());

    [Fact]
    public void Activations_with_a_large_common_offset_keep_their_accuracy()
    {
        // The zero-point trick subtracts z·Σx: with all-positive x that is a large number.
        Run(3, 1000, 33, 128, Random.Shared.Next(), xOffset: 4, normTolerance: 1e-4);
    }

    [Fact]
    public void Results_are_identical_for_one_and_four_threads()
    {
        int seed = Random.Shared.Next();
        var p = QuantGemmReference.RandomW4(new Random(seed), 37, 512, 77, 64);
        var p1 = QuantGemmReference.RandomW4(new Random(seed), 1, 4096, 300, 128);
        int saved = NativeKernels.Threads;
        try
        {
            foreach (var q in new[] { p, p1 })
            {
                NativeKernels.Threads = 1;
                var y1 = Compute(q);
                NativeKernels.Threads = 4;
                var y4 = Compute(q);
                Assert.True(y1.AsSpan().SequenceEqual(y4), $"1 vs 4 threads differ (seed {seed}, M={q.M})");
            }
        }
        finally
        {
            NativeKernels.Threads = saved;
        }
    }

    internal static float[] Compute(QuantGemmReference.W4Problem p)
    {
        var y = new float[p.M * p.N];
        NativeKernels.W4A16Gemm(p.X, p.M, p.K, p.QWeight, p.Scales, p.Zeros, p.N, p.GroupSize, y);
        return y;
    }

    /// <summary>
    /// The norm-wise relative error must be below 1e-5 (when there are enough outputs for the norm
    /// not to be a lucky near-zero), and every element within 1e-6 of the scale of the terms it sums
    /// (fp32 rounding is proportional to that; an indexing bug is off by about |y| itself).
    /// </summary>
    internal static void Run(int m, int k, int n, int groupSize, int seed, float xOffset = 0, double normTolerance = 1e-5)
    {
        var p = QuantGemmReference.RandomW4(new Random(seed), m, k, n, groupSize, xOffset);
        var y = Compute(p);
        var (yRef, scale) = p.Reference();
        string where = $"M={m} K={k} N={n} G={groupSize} seed={seed} simd={NativeKernels.SimdPath}";
        double num = 0, den = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double d = y[i] - yRef[i];
            num += d * d;
            den += yRef[i] * yRef[i];
            double scaled = Math.Abs(d) / scale[i];
            Assert.True(scaled < 1e-6, $"y[{i}] = {y[i]}, float64 {yRef[i]}: error {scaled:g3} of its term scale ({where})");
        }
        if (m * n >= 16)
        {
            double rel = Math.Sqrt(num / den);
            Assert.True(rel < normTolerance, $"relative error {rel:g3} ({where})");
        }
    }
}
