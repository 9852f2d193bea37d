using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.QuantGemm;

/// <summary>awq_int8_gemm (exact) and awq_int8_gemm_f32 against 64-bit integer references, fresh random operands each run.</summary>
public class QuantGemmInt8Tests
{
    public static TheoryData<int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool>();
        int i = 0;
        foreach (var m in new[] { 1, 2, 3, 5, 17, 70 })
            foreach (var k in new[] { 1, 15, 33, 64, 65, 172, 1000 })
                foreach (var n in new[] { 1, 7, 50 })
                    data.Add(m, k, n, (i++ & 1) == 0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Integer_result_is_exact(int m, int k, int n, bool withWZero)
    {
        int seed = Random.Shared.Next();
        var (xq, xz, wq, wz) = RandomOperands(new Random(seed), m, k, n, withWZero, extremes: false);
        Check(xq, xz, m, k, wq, wz, n, $"seed={seed}");
    }

    [Theory]
    [InlineData(2, 1000, 6, true)]
    [InlineData(2, 33025, 3, true)]  // the largest K whose worst case still fits int32
    [InlineData(3, 33025, 2, false)]
    public void Extreme_codes_and_zero_points_are_exact(int m, int k, int n, bool withWZero)
    {
        int seed = Random.Shared.Next();
        var (xq, xz, wq, wz) = RandomOperands(new Random(seed), m, k, n, withWZero, extremes: true);
        Check(xq, xz, m, k, wq, wz, n, $"extremes seed={seed}");
    }

    [Fact]
    public void Largest_accumulator_is_exact()
    {
        // every term (255 − 0)·(127 − (−128)) = 65025 in row 0, −65025 in row 1: |acc| = K·255·255
        const int k = 33025;
        var xq = new byte[2 * k];
        Array.Fill(xq, (byte)255, 0, k);
        var wq = new sbyte[k];
        Array.Fill(wq, (sbyte)127);
        var acc = new int[2];
        NativeKernels.Int8Gemm(xq, new[] { 0, 255 }, 2, k, wq, new[] { -128 }, 1, acc);
        Assert.Equal(new[] { k * 65025, -k * 65025 }, acc);
    }

    [Fact]
    public void F32_output_is_the_scaled_integer_result()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        const int m = 9, k = 300, n = 23;
        var (xq, xz, wq, wz) = RandomOperands(rng, m, k, n, withWZero: true, extremes: false);
        var xs = Enumerable.Range(0, m).Select(_ => (float)(1e-3 + rng.NextDouble() * 0.1)).ToArray();
        var ws = Enumerable.Range(0, n).Select(_ => (float)(1e-3 + rng.NextDouble() * 0.1)).ToArray();
        var y = new float[m * n];
        NativeKernels.Int8GemmF32(xq, xz, xs, m, k, wq, wz, ws, n, y);
        var acc = QuantGemmReference.Int8(xq, xz, m, k, wq, wz, n);
        for (int i = 0; i < y.Length; i++)
        {
            double want = (double)xs[i / n] * ws[i % n] * acc[i];
            Assert.True(Math.Abs(y[i] - want) <= 4e-7 * Math.Abs(want), $"y[{i}] = {y[i]}, expected {want} (seed {seed})");
        }
    }

    [Fact]
    public void Results_are_identical_for_one_and_four_threads()
    {
        int seed = Random.Shared.Next();
        var (xq, xz, wq, wz) = RandomOperands(new Random(seed), 67, 200, 45, withWZero: true, extremes: false);
        int saved = NativeKernels.Threads;
        try
        {
            var a1 = new int[67 * 45];
            var a4 = new int[67 * 45];
            NativeKernels.Threads = 1;
            NativeKernels.Int8Gemm(xq, xz, 67, 200, wq, wz, 45, a1);
            NativeKernels.Threads = 4;
            NativeKernels.Int8Gemm(xq, xz, 67, 200, wq, wz, 45, a4);
            Assert.True(a1.AsSpan().SequenceEqual(a4), $"seed {seed}");
        }
        finally
        {
            NativeKernels.Threads = saved;
        }
    }

    private static void Check(byte[] xq, int[] xz, int m, int k, sbyte[] wq, int[]? wz, int n, string where)
    {
        var acc = new int[m * n];
        NativeKernels.Int8Gemm(xq, xz, m, k, wq, wz, n, acc);
        var expected = QuantGemmReference.Int8(xq, xz, m, k, wq, wz, n);
        for (int i = 0; i < acc.Length; i++)
            Assert.True(acc[i] == expected[i],
                $"acc[{i}] = {acc[i]}, expected {expected[i]} (M={m} K={k} N={n} w_zero={wz != null} {where} simd={NativeKernels.SimdPath})");
    }

    private static (byte[] Xq, int[] XZero, sbyte[] Wq, int[]? WZero) RandomOperands(Random rng, int m, int k, int n, bool withWZero,
                                                                           bool extremes)
    {
        var xq = new byte[m * k];
        var wq = new sbyte[n * k];
        for (int i = 0; i < xq.Length; i++) xq[i] = extremes ? (byte)(rng.Next(2) * 255) : (byte)rng.Next(256);
        for (int i = 0; i < wq.Length; i++) wq[i] = extremes ? (sbyte)(rng.Next(2) == 0 ? -128 : 127) : (sbyte)rng.Next(-128, 128);
        var xz = Enumerable.Range(0, m).Select(i => extremes ? (i % 2) * 255 : rng.Next(256)).ToArray();
        var wz = withWZero ? Enumerable.Range(0, n).Select(i => extremes ? (i % 2 == 0 ? -128 : 127) : rng.Next(-128, 128)).ToArray() : null;
        return (xq, xz, wq, wz);
    }
}
