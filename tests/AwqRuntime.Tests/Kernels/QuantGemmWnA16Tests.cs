using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.QuantGemm;

/// <summary>
/// awq_wna16_gemm (2, 3, 4 and 8 bits, its lane-interleaved layout) against a float64 product written from the
/// header's definition alone — codes read bit by bit, not through <see cref="WnA16Layout"/> —
/// on fresh random operands (the seed is in every failure message), and <see cref="NBitLinear"/> on top of it.
/// </summary>
public class QuantGemmWnA16Tests
{
    /// <summary>
    /// Worst |y − ref| / Σ_k |x·w| allowed: fp32 dot products of exact weights stay near 1e-7 of that; one wrong
    /// code, zero point or column is off by a whole term s·|x|, about 1e-3 of it and more.
    /// </summary>
    private const double Tolerance = 1e-6;

    private sealed record Problem(int Bits, int M, int K, int N, int GroupSize, float[] X, int[] QWeight, Half[] Scales, byte[] Zeros)
    {
        public int PerWord => 32 / Bits;
        public int Block => 8 * PerWord;
        public int Words => 8 * ((K + Block - 1) / Block);

        /// <summary>Block t = k / (8·pl), word 8t + k mod 8 of the row, code (k mod 8·pl) / 8 at bit ·Bits.</summary>
        public (int Word, int Bit) Where(int n, int k) => (n * Words + 8 * (k / Block) + k % 8, k % Block / 8 * Bits);
        public int Groups => (K + GroupSize - 1) / GroupSize;

        /// <summary>Column k of row n, read one bit at a time.</summary>
        public int Code(int n, int k)
        {
            var (at, first) = Where(n, k);
            var word = (uint)QWeight[at];
            var code = 0;
            for (var b = 0; b < Bits; b++) code |= (int)((word >> (first + b)) & 1) << b;
            return code;
        }

        public (double[] Y, double[] Size) Reference()
        {
            var y = new double[M * N];
            var size = new double[M * N];
            for (var n = 0; n < N; n++)
                for (var m = 0; m < M; m++)
                {
                    double acc = 0, mag = 1e-300;
                    for (var k = 0; k < K; k++)
                    {
                        var g = n * Groups + k / GroupSize;
                        var t = X[m * K + k] * (Code(n, k) - Zeros[g]) * (double)Scales[g];
                        acc += t;
                        mag += Math.Abs(t);
                    }
                    y[m * N + n] = acc;
                    size[m * N + n] = mag;
                }
            return (y, size);
        }

        public float[] Compute()
        {
            var y = new float[M * N];
            NativeKernels.WnA16Gemm(X, M, K, QWeight, Bits, Scales, Zeros, N, GroupSize, y);
            return y;
        }
    }

    private static Problem RandomProblem(Random r, int bits, int m, int k, int n, int groupSize)
    {
        var block = 8 * (32 / bits);
        var words = 8 * ((k + block - 1) / block);
        var groups = (k + groupSize - 1) / groupSize;
        var x = new float[m * k];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 2 - 1);
        // whole random words: padding codes past K and a 3-bit word's two top bits are garbage the kernel must ignore
        var q = new int[n * words];
        for (var i = 0; i < q.Length; i++) q[i] = r.Next() ^ (r.Next() << 1);
        var s = new Half[n * groups];
        var z = new byte[n * groups];
        for (var i = 0; i < s.Length; i++)
        {
            s[i] = (Half)(0.001 + r.NextDouble() * 0.049);
            z[i] = (byte)r.Next(1 << bits);
        }
        return new Problem(bits, m, k, n, groupSize, x, q, s, z);
    }

    private static double WorstScaledError(float[] y, (double[] Y, double[] Size) reference)
    {
        double worst = 0;
        for (var i = 0; i < y.Length; i++)
        {
            var e = Math.Abs(y[i] - reference.Y[i]) / reference.Size[i];
            if (!(e <= worst)) worst = e; // NaN fails
        }
        return worst;
    }

    public static TheoryData<int, int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int>();
        foreach (var bits in new[] { 2, 3, 4, 8 })
        {
            data.Add(bits, 1, 172, 64, 32);   // stories260K's down_proj at g32: 5 groups and one of 12
            data.Add(bits, 5, 172, 13, 32);
            data.Add(bits, 3, 1001, 19, 128); // odd K: a partial last word
            data.Add(bits, 1, 333, 11, 40);   // group boundaries inside SIMD vectors
            data.Add(bits, 2, 100, 6, 7);     // odd group size
            data.Add(bits, 33, 64, 17, 32);   // more rows than one M block
            data.Add(bits, 2, 31, 3, 64);     // a group larger than K
            data.Add(bits, 1, 1, 1, 1);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_float64_reference_on_odd_shapes_and_short_last_groups(int bits, int m, int k, int n, int groupSize)
    {
        var seed = Random.Shared.Next();
        var p = RandomProblem(new Random(seed), bits, m, k, n, groupSize);
        var e = WorstScaledError(p.Compute(), p.Reference());
        Assert.True(e < Tolerance, $"w{bits} M={m} K={k} N={n} g{groupSize}: scaled error {e:G3} (seed {seed})");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void One_changed_code_fails_the_same_tolerance(int bits)
    {
        // What a kernel that misreads one weight would produce: the reference of the changed weights.
        var seed = Random.Shared.Next();
        var p = RandomProblem(new Random(seed), bits, 2, 172, 5, 32);
        const int k = 171; // the last column, in the short last group
        var changed = (int[])p.QWeight.Clone();
        var (at, bit) = p.Where(3, k);
        changed[at] ^= 1 << (bit + bits - 1);
        var x = (float[])p.X.Clone();
        x[k] = x[p.K + k] = 0.75f;
        var exact = p with { X = x };
        var mutated = p with { X = x, QWeight = changed };
        var yExact = exact.Compute();
        Assert.True(WorstScaledError(yExact, exact.Reference()) < Tolerance, $"seed {seed}");
        Assert.True(WorstScaledError(yExact, mutated.Reference()) > 10 * Tolerance, $"w{bits}: a changed code went unnoticed (seed {seed})");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Results_are_identical_for_one_and_three_threads(int bits)
    {
        var seed = Random.Shared.Next();
        var saved = NativeKernels.Threads;
        try
        {
            foreach (var p in new[] { RandomProblem(new Random(seed), bits, 1, 1000, 300, 32), RandomProblem(new Random(seed), bits, 37, 172, 77, 32) })
            {
                NativeKernels.Threads = 1;
                var y1 = p.Compute();
                NativeKernels.Threads = 3;
                var y3 = p.Compute();
                Assert.True(y1.AsSpan().SequenceEqual(y3), $"w{bits} M={p.M}: 1 vs 3 threads differ (seed {seed})");
            }
        }
        finally
        {
            NativeKernels.Threads = saved;
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void NBitLinear_runs_its_weights_exactly_and_gives_them_back(int bits)
    {
        var seed = Random.Shared.Next();
        var r = new Random(seed);
        const int n = 23, k = 172, g = 32;
        var w = new float[n * k];
        for (var i = 0; i < w.Length; i++) w[i] = (float)(r.NextDouble() * 2 - 1);
        var q = GroupQuantizer.Quantize(w, n, k, g, bits);
        var linear = Assert.IsType<NBitLinear>(GroupQuantizedLinear.Create(q));
        Assert.Equal(n * (8L * ((k + 8 * (32 / bits) - 1) / (8 * (32 / bits)))) * 4 + q.Scales.Length * 2 + q.Zeros.Length, linear.WeightBytes);
        var back = linear.ToWeights();
        Assert.Equal(q.Q, back.Q);
        Assert.Equal(q.Scales, back.Scales);
        Assert.Equal(q.Zeros, back.Zeros);
        Assert.Equal(bits, back.Bits);

        const int m = 3;
        var x = new float[m * k];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 2 - 1);
        var y = new float[m * n];
        linear.Forward(x, m, y);
        var wd = q.Dequantize();
        for (var row = 0; row < m; row++)
            for (var o = 0; o < n; o++)
            {
                double acc = 0, size = 1e-300;
                for (var c = 0; c < k; c++)
                {
                    acc += x[row * k + c] * (double)wd[o * k + c];
                    size += Math.Abs(x[row * k + c] * (double)wd[o * k + c]);
                }
                Assert.True(Math.Abs(y[row * n + o] - acc) / size < Tolerance, $"w{bits} [{row},{o}] (seed {seed})");
            }
    }

    [Theory]
    [InlineData(0, "bits")]
    [InlineData(5, "bits")]
    [InlineData(16, "bits")]
    public void Bad_bit_widths_are_refused_by_name(int bits, string argument)
    {
        var y = new float[4];
        var e = Assert.ThrowsAny<Exception>(() => NativeKernels.WnA16Gemm(new float[8], 1, 8, new int[32], bits, new Half[4], new byte[4], 4, 8, y));
        Assert.Contains($"'{argument}'", e.Message);
        Assert.Contains("awq_wna16_gemm", e.Message);
    }

    [Fact]
    public void Zero_points_above_the_width_are_refused()
    {
        var z = new byte[4];
        z[2] = 8; // 3 bits: 0..7
        var s = Enumerable.Repeat((Half)1, 4).ToArray();
        var e = Assert.ThrowsAny<Exception>(() => NativeKernels.WnA16Gemm(new float[8], 1, 8, new int[32], 3, s, z, 4, 8, new float[4]));
        Assert.Contains("'zeros'", e.Message);
        Assert.Contains("row 2", e.Message);
    }

    [Fact]
    public void Short_spans_are_refused_before_the_call()
    {
        // 3 bits: blocks of 80 columns, 172 columns → 3 blocks of 8 words a row
        var e = Assert.ThrowsAny<Exception>(() => NativeKernels.WnA16Gemm(new float[172], 1, 172, new int[24 * 2 - 1], 3, new Half[12], new byte[12], 2, 32, new float[2]));
        Assert.Contains("qweight", e.Message);
    }
}
