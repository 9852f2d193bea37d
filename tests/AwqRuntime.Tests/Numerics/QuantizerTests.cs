using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Numerics;

/// <summary>
/// The managed <see cref="Quantizer"/> against the seed's worked example, against float64
/// re-implementations written from the formulas (AutoAWQ's pseudo_quantize_tensor included), and
/// against the native quantizer bit for bit.
/// </summary>
public class QuantizerTests
{
    private static readonly float[] Seed = [1.21f, -1.31f, 0.22f, 0.83f, 2.11f, -1.53f, 0.79f, -0.54f, 0.84f];

    private static float[] RandomMatrix(int n, int seed, float lo = -2f, float hi = 1.5f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng.NextSingle();
        return x;
    }

    /// <summary>Weight-like data: mostly small normal values, a few outlier columns, some exact zeros and constant runs.</summary>
    private static float[] WeightLike(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            float v = (float)(g * 0.02);
            if (c % 37 == 5) v *= 40;                 // salient / outlier channel
            if (r % 5 == 3 && c < 40) v = 0;          // an all-zero stretch (whole groups of 32)
            if (r % 7 == 2 && c >= 64 && c < 96) v = 0.0123f; // a constant group
            if (r % 11 == 4) v = Math.Abs(v) + 0.5f;  // a row of one sign
            x[r * cols + c] = v;
        }
        return x;
    }

    /// <summary>
    /// Values m/10 with small integers m: x / scale is then a ratio of small integers, exactly k + 0.5
    /// in real arithmetic for many elements, so in fp32 the result hangs on the last bit of the
    /// quotient. Any difference in operation order between two implementations shows up here.
    /// </summary>
    private static float[] TieHeavy(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(-20, 21) / 10f).ToArray();
    }

    // ---- the seed's worked example -------------------------------------------------------------

    [Fact]
    public void Seed_example_symmetric_int8()
    {
        var spec = QuantSpec.PerTensor(8, QuantScheme.Symmetric);
        foreach (var t in new[] { Quantizer.Quantize(Seed, 1, 9, spec), Kernels.Quantize(Seed, 1, 9, spec) })
        {
            Assert.Equal([73, -79, 13, 50, 127, -92, 48, -33, 51], t.Q.ToArray());
            Assert.Equal(2.11f / 127f, t.Scales[0]);
            Assert.Equal(0.016614, t.Scales[0], 1e-6);
            Assert.Equal(0, t.Zeros[0]);
            var back = t.Dequantize();
            for (int i = 0; i < 9; i++) Assert.True(Math.Abs(back[i] - Seed[i]) <= t.Scales[0] / 2);
        }
    }

    [Fact]
    public void Seed_example_asymmetric_uint8()
    {
        var spec = QuantSpec.PerTensor(8, QuantScheme.Asymmetric);
        foreach (var t in new[] { Quantizer.Quantize(Seed, 1, 9, spec), Kernels.Quantize(Seed, 1, 9, spec) })
        {
            Assert.Equal([192, 15, 122, 165, 255, 0, 162, 69, 166], t.Q.ToArray());
            Assert.Equal(0.0142745, t.Scales[0], 1e-6);
            Assert.Equal(107, t.Zeros[0]);
            var back = t.Dequantize();
            for (int i = 0; i < 9; i++) Assert.True(Math.Abs(back[i] - Seed[i]) <= t.Scales[0] / 2);
        }
    }

    [Fact]
    public void Seed_example_as_a_3x3_matrix_per_tensor_uses_one_scale_for_all_rows()
    {
        var t = Quantizer.Quantize(Seed, 3, 3, QuantSpec.PerTensor(8, QuantScheme.Symmetric));
        Assert.Equal(1, t.Scales.Length);
        Assert.Equal([73, -79, 13, 50, 127, -92, 48, -33, 51], t.Q.ToArray());
        Assert.Equal(t.Scales[0], t.Scale(2, 1));
        var perChannel = Quantizer.Quantize(Seed, 3, 3, QuantSpec.PerChannel(8, QuantScheme.Symmetric));
        Assert.Equal([1.31f / 127f, 2.11f / 127f, 0.84f / 127f], perChannel.Scales.ToArray());
        Assert.Equal(127, perChannel.Q[8]); // 0.84 is its row's max
    }

    // ---- AWQ against AutoAWQ's formula in float64 -------------------------------------------------

    /// <summary>t is within reach of a .5 tie, where fp32 and float64 may round differently.</summary>
    private static bool NearTie(double t) => Math.Abs(t - Math.Floor(t) - 0.5) < 1e-3 + Math.Abs(t) * 2.384185791015625e-7 /* 2^-22 */;

    [Theory]
    [InlineData(4, 128)]
    [InlineData(4, 64)]
    [InlineData(4, 32)]
    [InlineData(3, 128)]
    [InlineData(8, 64)]
    public void Awq_scheme_matches_an_independent_float64_pseudo_quantize_tensor(int bits, int groupSize)
    {
        const int rows = 16, cols = 172; // 172: stories260K's hidden size, no group size divides it
        var w = WeightLike(rows, cols, bits * 1000 + groupSize);
        var t = Quantizer.Quantize(w, rows, cols, QuantSpec.PerGroup(bits, QuantScheme.Awq, groupSize));
        int groups = (cols + groupSize - 1) / groupSize, checkedValues = 0, skipped = 0;
        double qmax = (1 << bits) - 1;
        for (int r = 0; r < rows; r++)
        for (int g = 0; g < groups; g++)
        {
            int c0 = g * groupSize, len = Math.Min(groupSize, cols - c0);
            var grp = w.AsSpan(r * cols + c0, len).ToArray();
            // AutoAWQ: scales = (max - min).clamp(min=1e-5) / max_int; zeros = (-round(min / scales)).clamp(0, max_int)
            double max = grp.Max(), min = grp.Min();
            double raw = Math.Max(max - min, 1e-5) / qmax;
            double scale = (double)(Half)raw; // the checkpoint's fp16 scale (double -> Half rounds once, to nearest even)
            double ulp = Math.ScaleB(1.0, Math.Max(Math.ILogB(raw), -14) - 10);
            float ours = t.Scales[r * groups + g];
            if (NearTie(raw / ulp)) // on an fp16 tie fp32 may round either way: either neighbour is right
            {
                Assert.True(ours == (float)(Math.Floor(raw / ulp) * ulp) || ours == (float)(Math.Ceiling(raw / ulp) * ulp));
                scale = ours;
            }
            else Assert.Equal((float)scale, ours);
            double zr = -min / scale, zero;
            if (NearTie(zr))
            {
                zero = t.Zeros[r * groups + g];
                Assert.True(zero == Math.Clamp(Math.Floor(zr), 0, qmax) || zero == Math.Clamp(Math.Ceiling(zr), 0, qmax));
            }
            else
            {
                zero = Math.Clamp(Math.Round(zr, MidpointRounding.ToEven), 0, qmax);
                Assert.Equal((int)zero, t.Zeros[r * groups + g]);
            }
            for (int i = 0; i < len; i++)
            {
                double q = w[r * cols + c0 + i] / scale;
                if (NearTie(q)) { skipped++; continue; }
                double want = Math.Clamp(Math.Round(q, MidpointRounding.ToEven) + zero, 0, qmax);
                Assert.Equal((int)want, t.Q[r * cols + c0 + i]);
                checkedValues++;
            }
        }
        Assert.True(skipped * 100 < checkedValues, $"{skipped} skipped of {checkedValues}");
    }

    /// <summary>
    /// AutoAWQ runs the same formula op by op in fp16 (max - min and w / scales are rounded to fp16
    /// too). Simulating that pipeline on fp16 weights: our scales are within one fp16 step of its
    /// (about a quarter differ by that step), and our codes are within one step, equal for all but
    /// a fraction of a permille. This bounds what "AWQ scheme" means.
    /// </summary>
    [Fact]
    public void Awq_scheme_is_within_one_step_of_AutoAWQs_fp16_arithmetic()
    {
        const int rows = 64, cols = 512, groupSize = 128, groups = cols / groupSize;
        var w = WeightLike(rows, cols, 77).Select(Fp16.Round).ToArray(); // AutoAWQ's weights are fp16
        var t = Quantizer.Quantize(w, rows, cols, QuantSpec.AwqInt4(groupSize));
        static float H(float v) => (float)(Half)v; // one fp16 operation: exact fp32 result rounded to fp16
        int same = 0, differ = 0, sameScale = 0;
        for (int r = 0; r < rows; r++)
        for (int g = 0; g < groups; g++)
        {
            var grp = w.AsSpan(r * cols + g * groupSize, groupSize);
            float max = grp[0], min = grp[0];
            foreach (var v in grp) { max = Math.Max(max, v); min = Math.Min(min, v); }
            float range = H(max - min);
            if (range < H(1e-5f)) range = H(1e-5f);
            float scale = H(range / 15f), ours = t.Scales[r * groups + g];
            // AutoAWQ rounds max - min to fp16 before dividing: its scale can sit one fp16 step away
            Assert.True(Math.Abs(ours - scale) <= scale * (1.0 / 1024), $"scale {ours} vs AutoAWQ {scale}");
            if (scale == ours) sameScale++;
            float zero = Math.Clamp(-MathF.Round(H(min / scale)), 0, 15);
            for (int i = 0; i < groupSize; i++)
            {
                float q = Math.Clamp(MathF.Round(H(grp[i] / scale)) + zero, 0, 15);
                int code = t.Q[r * cols + g * groupSize + i];
                Assert.True(Math.Abs(code - q) <= 1, $"row {r} col {g * groupSize + i}: ours {code}, AutoAWQ {q}");
                if (code == (int)q) same++; else differ++;
            }
        }
        // measured: 190 of 256 scales equal, 9 of 32768 codes differ (one step)
        Assert.True(sameScale * 2 > rows * groups, $"{sameScale} of {rows * groups} scales equal");
        Assert.True(differ * 1000 < same + differ, $"{differ} codes differ, {same} equal");
    }

    // ---- symmetric / asymmetric against float64 ---------------------------------------------------

    [Theory]
    [InlineData(QuantScheme.Symmetric)]
    [InlineData(QuantScheme.Asymmetric)]
    public void Symmetric_and_asymmetric_match_float64_formulas_for_every_bit_width(QuantScheme scheme)
    {
        const int rows = 6, cols = 172, groupSize = 64;
        int checkedValues = 0, skipped = 0;
        for (int bits = 2; bits <= 8; bits++)
        {
            var x = RandomMatrix(rows * cols, bits, -1f, 3f);
            var t = Quantizer.Quantize(x, rows, cols, QuantSpec.PerGroup(bits, scheme, groupSize));
            for (int r = 0; r < rows; r++)
            for (int g = 0; g < 3; g++)
            {
                int c0 = g * groupSize, len = Math.Min(groupSize, cols - c0);
                var grp = x.AsSpan(r * cols + c0, len).ToArray().Select(v => (double)v).ToArray();
                double scale, zero = 0, lo, hi;
                if (scheme == QuantScheme.Symmetric)
                {
                    hi = (1 << (bits - 1)) - 1;
                    lo = -hi;
                    scale = grp.Max(Math.Abs) / hi;
                }
                else
                {
                    hi = (1 << bits) - 1;
                    lo = 0;
                    double min = Math.Min(grp.Min(), 0), max = Math.Max(grp.Max(), 0);
                    scale = (max - min) / hi;
                    if (NearTie(-min / scale)) { skipped += len; continue; }
                    zero = Math.Round(-min / scale, MidpointRounding.ToEven);
                    Assert.Equal((int)zero, t.Zeros[r * 3 + g]);
                }
                Assert.Equal(scale, t.Scales[r * 3 + g], scale * 1e-6);
                for (int i = 0; i < len; i++)
                {
                    double q = grp[i] / scale;
                    if (NearTie(q)) { skipped++; continue; }
                    Assert.Equal(Math.Clamp(Math.Round(q, MidpointRounding.ToEven) + zero, lo, hi), t.Q[r * cols + c0 + i]);
                    checkedValues++;
                }
            }
            // every dequantized value within half a step of the input (no clipping in these schemes)
            var back = t.Dequantize();
            for (int i = 0; i < x.Length; i++)
            {
                var s = t.Scale(i / cols, i % cols);
                Assert.True(Math.Abs(back[i] - x[i]) <= s * 0.5 * (1 + 1e-5), $"bits {bits} element {i}");
            }
        }
        Assert.True(skipped * 100 < checkedValues);
    }

    // ---- managed == native, bit for bit ----------------------------------------------------------

    public static TheoryData<int> Schemes => new() { 0, 1, 2 };

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Managed_and_native_agree_bit_for_bit_for_every_bit_width_and_group_size(int schemeValue)
    {
        var scheme = (QuantScheme)schemeValue;
        const int rows = 33, cols = 172;
        int[] groupSizes = [1, 5, 32, 64, 128, 172, 500];
        var datasets = new[]
        {
            RandomMatrix(rows * cols, 11),
            WeightLike(rows, cols, 12),
            RandomMatrix(rows * cols, 13, 1e3f, 1e5f),      // one sign, large
            RandomMatrix(rows * cols, 14, -1e-30f, 1e-30f),  // tiny
            TieHeavy(rows * cols, 15),
        };
        foreach (var x in datasets)
        for (int bits = 2; bits <= 8; bits++)
        foreach (int g in groupSizes)
        {
            int groups = (cols + g - 1) / g;
            var qm = new int[rows * cols];
            var qn = new int[rows * cols];
            var sm = new float[rows * groups];
            var sn = new float[rows * groups];
            var zm = new int[rows * groups];
            var zn = new int[rows * groups];
            Quantizer.Quantize(x, rows, cols, g, bits, scheme, qm, sm, zm);
            Kernels.Quantize(x, rows, cols, g, bits, scheme, qn, sn, zn);
            Assert.Equal(qm, qn);
            Assert.Equal(sm.Select(BitConverter.SingleToUInt32Bits), sn.Select(BitConverter.SingleToUInt32Bits));
            Assert.Equal(zm, zn);
            var spec = scheme == QuantScheme.Symmetric ? IntegerFormat.Signed(bits) : IntegerFormat.Unsigned(bits);
            Assert.All(qm, v => Assert.True(spec.Contains(v)));
            var dm = new float[rows * cols];
            var dn = new float[rows * cols];
            Quantizer.Dequantize(qm, sm, zm, rows, cols, g, dm);
            Kernels.Dequantize(qn, sn, zn, rows, cols, g, dn);
            Assert.Equal(dm.Select(BitConverter.SingleToUInt32Bits), dn.Select(BitConverter.SingleToUInt32Bits));
            var em = QuantizationError.Compute(x, dm);
            var en = Kernels.QuantError(x, dn);
            Assert.Equal(BitConverter.DoubleToInt64Bits(em.Mse), BitConverter.DoubleToInt64Bits(en.Mse));
            Assert.Equal(em.MaxAbs, en.MaxAbs);
        }
    }

    [Theory]
    [InlineData(Granularity.PerTensor)]
    [InlineData(Granularity.PerChannel)]
    [InlineData(Granularity.PerGroup)]
    public void Spec_api_managed_and_native_agree_for_every_granularity(Granularity granularity)
    {
        const int rows = 12, cols = 172;
        var x = WeightLike(rows, cols, 3);
        foreach (QuantScheme scheme in Enum.GetValues<QuantScheme>())
        {
            var spec = new QuantSpec(4, scheme, granularity, granularity == Granularity.PerGroup ? 64 : 0);
            var m = Quantizer.Quantize(x, rows, cols, spec);
            var n = Kernels.Quantize(x, rows, cols, spec);
            Assert.Equal(m.Q.ToArray(), n.Q.ToArray());
            Assert.Equal(m.Scales.ToArray(), n.Scales.ToArray());
            Assert.Equal(m.Zeros.ToArray(), n.Zeros.ToArray());
            int expectedScales = granularity switch { Granularity.PerTensor => 1, Granularity.PerChannel => rows, _ => rows * 3 };
            Assert.Equal(expectedScales, m.Scales.Length);
            var nativeBack = new float[rows * cols];
            Kernels.Dequantize(n, nativeBack);
            Assert.Equal(m.Dequantize(), nativeBack);
            var fake = new float[rows * cols];
            Quantizer.FakeQuantize(x, rows, cols, spec, fake);
            Assert.Equal(m.Dequantize(), fake);
        }
    }

    // ---- groups --------------------------------------------------------------------------------

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    public void Short_last_group_is_quantized_exactly_like_a_matrix_of_its_own(int groupSize)
    {
        const int cols = 172;
        var x = RandomMatrix(cols, groupSize);
        foreach (QuantScheme scheme in Enum.GetValues<QuantScheme>())
        {
            var t = Quantizer.Quantize(x, 1, cols, QuantSpec.PerGroup(4, scheme, groupSize));
            int groups = (cols + groupSize - 1) / groupSize, last = cols - (groups - 1) * groupSize;
            Assert.Equal(groups, t.GroupsPerRow);
            Assert.True(last < groupSize);
            var alone = Quantizer.Quantize(x.AsSpan(cols - last), 1, last, QuantSpec.PerTensor(4, scheme));
            Assert.Equal(alone.Scales[0], t.Scales[groups - 1]);
            Assert.Equal(alone.Zeros[0], t.Zeros[groups - 1]);
            Assert.Equal(alone.Q.ToArray(), t.Q.Slice(cols - last).ToArray());
            Assert.Equal(t.Scales[groups - 1], t.Scale(0, cols - 1));
        }
    }

    [Fact]
    public void Per_channel_is_per_tensor_applied_to_each_row()
    {
        const int rows = 5, cols = 50;
        var x = RandomMatrix(rows * cols, 9);
        var pc = Quantizer.Quantize(x, rows, cols, QuantSpec.PerChannel(6, QuantScheme.Asymmetric));
        for (int r = 0; r < rows; r++)
        {
            var row = Quantizer.Quantize(x.AsSpan(r * cols, cols), 1, cols, QuantSpec.PerTensor(6, QuantScheme.Asymmetric));
            Assert.Equal(row.Q.ToArray(), pc.Q.Slice(r * cols, cols).ToArray());
            Assert.Equal(row.Scales[0], pc.Scales[r]);
        }
    }

    [Fact]
    public void Degenerate_groups_follow_the_documented_rules()
    {
        var zeros = new float[16];
        foreach (var scheme in new[] { QuantScheme.Symmetric, QuantScheme.Asymmetric })
        {
            var t = Quantizer.Quantize(zeros, 1, 16, QuantSpec.PerTensor(4, scheme));
            Assert.Equal(1f, t.Scales[0]);
            Assert.Equal(0, t.Zeros[0]);
            Assert.All(t.Dequantize(), v => Assert.Equal(0f, v));
        }
        // AWQ keeps AutoAWQ's 1e-5 floor
        var awq = Quantizer.Quantize(zeros, 1, 16, QuantSpec.AwqInt4(16));
        Assert.Equal(Fp16.Round(1e-5f / 15f), awq.Scales[0]);
        Assert.All(awq.Dequantize(), v => Assert.Equal(0f, v));

        // constant groups come back within an ulp
        foreach (float c in new[] { 1f, -1f, 0.3f, -2.7f, 12345.678f, -1e-30f })
        foreach (var scheme in new[] { QuantScheme.Symmetric, QuantScheme.Asymmetric })
        for (int bits = 2; bits <= 8; bits++)
        {
            var x = Enumerable.Repeat(c, 16).ToArray();
            var back = Quantizer.Quantize(x, 1, 16, QuantSpec.PerTensor(bits, scheme)).Dequantize();
            Assert.All(back, v => Assert.True(Math.Abs(v - c) <= Math.Abs(c) * 2.5e-7, $"{c} -> {v}"));
        }

        // a group of one sign: ASYMMETRIC keeps its range, AWQ clips it as AutoAWQ does
        var oneSign = Enumerable.Range(0, 16).Select(i => 1f + i / 15f).ToArray();
        var asym = Quantizer.Quantize(oneSign, 1, 16, QuantSpec.PerTensor(4, QuantScheme.Asymmetric));
        Assert.Equal(0, asym.Zeros[0]);
        Assert.True(asym.Error(oneSign).MaxAbs <= asym.Scales[0] / 2);
        var clipped = Quantizer.Quantize(oneSign, 1, 16, QuantSpec.AwqInt4(16));
        Assert.All(clipped.Q.ToArray(), q => Assert.Equal(15, q));
    }

    [Fact]
    public void Non_finite_and_overflowing_inputs_are_rejected_with_their_position()
    {
        var x = RandomMatrix(40, 1);
        x[27] = float.NaN;
        var spec = QuantSpec.PerGroup(4, QuantScheme.Asymmetric, 8);
        var managed = Assert.Throws<ArgumentException>(() => Quantizer.Quantize(x, 4, 10, spec));
        Assert.Contains("row 2, column 7", managed.Message);
        var native = Assert.Throws<NativeKernelException>(() => Kernels.Quantize(x, 4, 10, spec));
        Assert.Equal(NativeStatus.InvalidArgument, native.Status);
        Assert.Contains("awq_quantize", native.Message);
        Assert.Contains("'x'", native.Message);
        Assert.Contains("row 2, column 7", native.Message);

        float[] wide = [-1e6f, 1e6f, 0f, 1f];
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(wide, 1, 4, QuantSpec.AwqInt4(4)));
        Assert.Equal(NativeStatus.Overflow,
            Assert.Throws<NativeKernelException>(() => Kernels.Quantize(wide, 1, 4, QuantSpec.AwqInt4(4))).Status);
        float[] huge = [-3e38f, 3e38f];
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(huge, 1, 2, QuantSpec.PerTensor(8, QuantScheme.Asymmetric)));
        Assert.Equal(NativeStatus.Overflow, Assert.Throws<NativeKernelException>(
            () => Kernels.Quantize(huge, 1, 2, QuantSpec.PerTensor(8, QuantScheme.Asymmetric))).Status);
        // symmetric never overflows: max|x| / qmax is finite
        Assert.Equal(127, Quantizer.Quantize(huge, 1, 2, QuantSpec.PerTensor(8, QuantScheme.Symmetric)).Q[1]);
    }

    // ---- error statistics ------------------------------------------------------------------------

    [Fact]
    public void Error_statistics_match_a_float64_computation()
    {
        var x = WeightLike(20, 172, 5);
        foreach (QuantScheme scheme in Enum.GetValues<QuantScheme>())
        {
            var t = Quantizer.Quantize(x, 20, 172, QuantSpec.PerGroup(4, scheme, 32));
            var back = t.Dequantize();
            // float64 reference, summed pairwise (a different order from the code under test)
            var sq = x.Select((v, i) => ((double)v - back[i]) * ((double)v - back[i])).ToArray();
            double mse = PairwiseSum(sq) / x.Length;
            double maxAbs = x.Select((v, i) => Math.Abs((double)v - back[i])).Max();
            var e = t.Error(x);
            Assert.Equal(mse, e.Mse, mse * 1e-12);
            Assert.Equal(maxAbs, e.MaxAbs);
            Assert.Equal(Math.Sqrt(e.Mse), e.Rmse);
            var native = Kernels.QuantError(x, back);
            Assert.Equal(e, native);
        }
        var withNaN = x.ToArray();
        withNaN[100] = float.NaN;
        var nan = QuantizationError.Compute(x, withNaN);
        Assert.True(double.IsNaN(nan.Mse) && double.IsNaN(nan.MaxAbs));
        var nanNative = Kernels.QuantError(x, withNaN);
        Assert.True(double.IsNaN(nanNative.Mse) && double.IsNaN(nanNative.MaxAbs));
        Assert.Equal(new QuantizationError(0, 0), QuantizationError.Compute(x, x));
        Assert.Throws<ArgumentException>(() => QuantizationError.Compute(x, x.AsSpan(1)));
    }

    private static double PairwiseSum(ReadOnlySpan<double> v) =>
        v.Length <= 8 ? Sum(v) : PairwiseSum(v[..(v.Length / 2)]) + PairwiseSum(v[(v.Length / 2)..]);

    private static double Sum(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (var d in v) s += d;
        return s;
    }

    [Fact]
    public void Lower_bit_widths_cost_more_error_and_finer_groups_cost_less()
    {
        var x = WeightLike(32, 256, 8);
        double Mse(int bits, Granularity g, int gs = 0) =>
            Quantizer.Quantize(x, 32, 256, new QuantSpec(bits, QuantScheme.Asymmetric, g, gs)).Error(x).Mse;
        for (int bits = 2; bits < 8; bits++) Assert.True(Mse(bits, Granularity.PerChannel) > Mse(bits + 1, Granularity.PerChannel));
        Assert.True(Mse(4, Granularity.PerTensor) > Mse(4, Granularity.PerChannel));
        Assert.True(Mse(4, Granularity.PerChannel) > Mse(4, Granularity.PerGroup, 32));
    }

    [Fact]
    public void Spec_validates_its_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantSpec.PerTensor(1, QuantScheme.Symmetric));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantSpec.PerTensor(9, QuantScheme.Symmetric));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantSpec.PerGroup(4, QuantScheme.Awq, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantSpec(4, (QuantScheme)7, Granularity.PerTensor));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantSpec(4, QuantScheme.Awq, Granularity.PerChannel, 64));
        Assert.Equal((-7, 7), (QuantSpec.PerTensor(4, QuantScheme.Symmetric).QMin, QuantSpec.PerTensor(4, QuantScheme.Symmetric).QMax));
        Assert.Equal((0, 15), (QuantSpec.AwqInt4().QMin, QuantSpec.AwqInt4().QMax));
        Assert.Equal(128, QuantSpec.AwqInt4().GroupSize);
        Assert.Equal(IntegerFormat.UInt4, QuantSpec.AwqInt4().Format);
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(new float[5], 2, 3, QuantSpec.AwqInt4()));
    }
}
