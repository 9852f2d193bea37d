using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

// Not "AwqRuntime.Tests.Kernels": a namespace of that name would shadow AwqRuntime.Native.Kernels
// in every test file under AwqRuntime.Tests.
namespace AwqRuntime.Tests.Layers;

/// <summary>awq_f32_gemm and awq_f16_gemm against a float64 product of the same inputs.</summary>
public unsafe class F32GemmTests
{
    public static TheoryData<int, int, int> RaggedShapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var m in new[] { 1, 3, 17, 128 })
            foreach (var k in new[] { 1, 7, 64, 172, 1000 })
                foreach (var n in new[] { 1, 5, 33, 512 })
                    data.Add(m, k, n);
        return data;
    }

    private static float[] Uniform(Random rng, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    /// <summary>
    /// Largest |y − ref| / Σ_k |x·w| over all outputs: the error relative to the size of the terms
    /// summed, the quantity an fp32 dot product's rounding is proportional to.
    /// </summary>
    private static (double Worst, int At) RelativeError(float[] x, Func<int, double> weight, float[] y, int m, int k, int n)
    {
        double worst = 0;
        int at = 0;
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double sum = 0, magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    double term = x[r * k + i] * weight(c * k + i);
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                double err = Math.Abs(y[r * n + c] - sum) / Math.Max(magnitude, double.Epsilon);
                if (!(err <= worst)) { worst = err; at = r * n + c; }
            }
        return (worst, at);
    }

    [Theory]
    [MemberData(nameof(RaggedShapes))]
    public void F32_gemm_matches_float64_product(int m, int k, int n)
    {
        int seed = m * 1_000_003 + k * 1009 + n;
        var rng = new Random(seed);
        var x = Uniform(rng, m * k);
        var w = Uniform(rng, n * k);
        var y = new float[m * n];
        Array.Fill(y, float.NaN);

        NativeKernels.F32Gemm(x, m, k, w, n, y);

        var (worst, at) = RelativeError(x, i => w[i], y, m, k, n);
        Assert.True(worst < 1e-5, $"seed {seed}, M={m} K={k} N={n}: relative error {worst:E3} at y[{at}] (simd {NativeKernels.SimdPath})");
    }

    [Theory]
    [MemberData(nameof(RaggedShapes))]
    public void F16_gemm_matches_float64_product_with_decoded_weights(int m, int k, int n)
    {
        int seed = m * 1_000_003 + k * 1009 + n + 1;
        var rng = new Random(seed);
        var x = Uniform(rng, m * k);
        var w = Uniform(rng, n * k).Select(v => (Half)(v * 4)).ToArray();
        var y = new float[m * n];
        Array.Fill(y, float.NaN);

        NativeKernels.F16Gemm(x, m, k, w, n, y);

        var (worst, at) = RelativeError(x, i => (double)(float)w[i], y, m, k, n);
        Assert.True(worst < 1e-5, $"seed {seed}, M={m} K={k} N={n}: relative error {worst:E3} at y[{at}] (simd {NativeKernels.SimdPath})");
    }

    [Fact]
    public void F16_gemm_reads_subnormal_and_extreme_weights_exactly()
    {
        // 65504 (largest), 2^-24 (smallest subnormal), -0 and a mid value; x picks each one out
        var w = new[] { Half.MaxValue, Half.Epsilon, Half.NegativeZero, (Half)(-1.5f) };
        var x = new float[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 };
        var y = new float[3];
        NativeKernels.F16Gemm(x, 3, 4, w, 1, y);
        Assert.Equal(new[] { 65504f, MathF.Pow(2, -24), -1.5f }, y);
    }

    [Fact]
    public void Null_pointers_and_bad_sizes_return_named_statuses()
    {
        float* buf = stackalloc float[16];
        ushort* half = stackalloc ushort[16];
        Expect(NativeMethods.awq_f32_gemm(null, 1, 1, buf, 1, buf), NativeStatus.NullPointer, "awq_f32_gemm", "'x'");
        Expect(NativeMethods.awq_f32_gemm(buf, 1, 1, null, 1, buf), NativeStatus.NullPointer, "awq_f32_gemm", "'w'");
        Expect(NativeMethods.awq_f32_gemm(buf, 1, 1, buf, 1, null), NativeStatus.NullPointer, "awq_f32_gemm", "'y'");
        Expect(NativeMethods.awq_f32_gemm(buf, 0, 1, buf, 1, buf), NativeStatus.InvalidSize, "awq_f32_gemm", "'M'");
        Expect(NativeMethods.awq_f32_gemm(buf, 1, -1, buf, 1, buf), NativeStatus.InvalidSize, "awq_f32_gemm", "'K'");
        Expect(NativeMethods.awq_f32_gemm(buf, 1, 1, buf, 0, buf), NativeStatus.InvalidSize, "awq_f32_gemm", "'N'");
        Expect(NativeMethods.awq_f32_gemm(buf, long.MaxValue / 2, 4, buf, 1, buf), NativeStatus.Overflow, "awq_f32_gemm", "'x'");
        Expect(NativeMethods.awq_f16_gemm(null, 1, 1, half, 1, buf), NativeStatus.NullPointer, "awq_f16_gemm", "'x'");
        Expect(NativeMethods.awq_f16_gemm(buf, 1, 1, null, 1, buf), NativeStatus.NullPointer, "awq_f16_gemm", "'w'");
        Expect(NativeMethods.awq_f16_gemm(buf, 1, 1, half, 1, null), NativeStatus.NullPointer, "awq_f16_gemm", "'y'");
        Expect(NativeMethods.awq_f16_gemm(buf, 1, 0, half, 1, buf), NativeStatus.InvalidSize, "awq_f16_gemm", "'K'");
        Expect(NativeMethods.awq_f16_gemm(buf, 1, 1, half, -2, buf), NativeStatus.InvalidSize, "awq_f16_gemm", "'N'");
    }

    [Fact]
    public void Wrappers_throw_naming_function_and_argument()
    {
        var buf = new float[16];
        var half = new Half[16];
        AssertThrows(() => NativeKernels.F32Gemm(buf, 0, 2, buf, 2, buf), NativeStatus.InvalidSize, "awq_f32_gemm", "'M'");
        AssertThrows(() => NativeKernels.F32Gemm(buf, 2, 2, buf, -1, buf), NativeStatus.InvalidSize, "awq_f32_gemm", "'N'");
        AssertThrows(() => NativeKernels.F16Gemm(buf, 2, 0, half, 2, buf), NativeStatus.InvalidSize, "awq_f16_gemm", "'K'");
        var ex = Assert.Throws<ArgumentException>(() => NativeKernels.F32Gemm(buf, 4, 5, buf, 1, buf));
        Assert.Contains("awq_f32_gemm", ex.Message);
        Assert.Contains("'x'", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => NativeKernels.F16Gemm(buf, 1, 4, half, 5, buf));
        Assert.Contains("'w'", ex.Message);
    }

    internal static void Expect(int status, NativeStatus expected, string function, string argument)
    {
        Assert.Equal(expected, (NativeStatus)status);
        var message = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeMethods.awq_last_error()) ?? "";
        Assert.Contains(function, message);
        Assert.Contains(argument, message);
    }

    internal static void AssertThrows(Action call, NativeStatus expected, string function, string argument)
    {
        var ex = Assert.Throws<NativeKernelException>(call);
        Assert.Equal(expected, ex.Status);
        Assert.Equal(function, ex.Function);
        Assert.Contains(function, ex.Message);
        Assert.Contains(argument, ex.Message);
    }
}
