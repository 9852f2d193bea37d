using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Numerics;

/// <summary>
/// Managed <see cref="Fp16"/>/<see cref="Bf16"/> against the native converters (bit for bit, every
/// 16-bit pattern and over a million random fp32 patterns plus edge cases), and against independent
/// references: System.Half for fp16 and a float64 rounding for bf16.
/// </summary>
public class FloatFormatTests
{
    private static readonly ushort[] All16 = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();

    private static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);
    private static uint B(float f) => BitConverter.SingleToUInt32Bits(f);

    /// <summary>Edge cases named in the design: zeros, infinities, NaN payloads, the fp16 overflow and underflow ties, fp32 subnormals, halfway values.</summary>
    private static float[] EdgeCases()
    {
        var list = new List<float>
        {
            0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN,
            F(0x7F800001), F(0x7FA02000), F(0xFFC00001), F(0x7FFFFFFF), F(0xFF812345), F(0x7FBFFFFF),
            65504f, -65504f, 65519.99f, 65520f, -65520f, 65536f, 1e10f, float.MaxValue, float.MinValue,
            MathF.ScaleB(1, -24), MathF.ScaleB(1, -25), -MathF.ScaleB(1, -25), MathF.BitIncrement(MathF.ScaleB(1, -25)),
            MathF.BitDecrement(MathF.ScaleB(1, -25)), MathF.ScaleB(3, -25), MathF.ScaleB(5, -25), MathF.ScaleB(1, -14),
            MathF.ScaleB(1023.5f, -24), MathF.ScaleB(1023.49f, -24),
            1f + MathF.ScaleB(1, -11), 1f + MathF.ScaleB(3, -11), 1f + MathF.ScaleB(1, -8), 1f + MathF.ScaleB(3, -8),
            F(0x00000001), F(0x80000001), F(0x007FFFFF), F(0x00008000), F(0x00018000), F(0x00400000), F(0x00800000),
            F(0x7F7F7FFF), F(0x7F7F8000), F(0x7F7FFFFF), 1f, -1f, 0.1f, MathF.PI,
        };
        // every value exactly halfway between two neighbouring fp16 values in 1..2 and in the subnormals
        for (int h = 0x3C00; h < 0x3C10; h++) list.Add((Fp16.ToSingle((ushort)h) + Fp16.ToSingle((ushort)(h + 1))) / 2);
        for (int h = 0; h < 16; h++) list.Add((Fp16.ToSingle((ushort)h) + Fp16.ToSingle((ushort)(h + 1))) / 2);
        // and between two neighbouring bf16 values
        for (uint b = 0x3F80; b < 0x3F90; b++) list.Add(F((b << 16) | 0x8000));
        return list.ToArray();
    }

    private static float[] RandomPatterns(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = F((uint)rng.NextInt64(0, 1L << 32));
        return x;
    }

    [Fact]
    public void Fp16_to_fp32_all_65536_patterns_managed_equals_native_equals_System_Half()
    {
        var native = new float[65536];
        Kernels.Fp16ToFp32(All16, native);
        for (int i = 0; i < 65536; i++)
        {
            float managed = Fp16.ToSingle((ushort)i);
            Assert.Equal(B(native[i]), B(managed));
            float half = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            if (float.IsNaN(half))
            {
                Assert.True(float.IsNaN(managed));
                Assert.Equal(B(half) >> 31, B(managed) >> 31);
                Assert.Equal(0x7FC00000u | ((uint)(i & 0x3FF) << 13), B(managed) & 0x7FFFFFFFu); // quiet, payload kept
            }
            else Assert.Equal(B(half), B(managed)); // exact, -0 included
        }
    }

    [Fact]
    public void Bf16_to_fp32_all_65536_patterns_managed_equals_native_and_is_the_top_half()
    {
        var native = new float[65536];
        Kernels.Bf16ToFp32(All16, native);
        for (int i = 0; i < 65536; i++)
        {
            Assert.Equal((uint)i << 16, B(Bf16.ToSingle((ushort)i)));
            Assert.Equal((uint)i << 16, B(native[i]));
        }
    }

    [Fact]
    public void Fp32_to_fp16_random_patterns_and_edge_cases_managed_equals_native_equals_System_Half()
    {
        var x = RandomPatterns(1_200_000, 1).Concat(EdgeCases()).ToArray();
        var native = new ushort[x.Length];
        Kernels.Fp32ToFp16(x, native);
        int nans = 0;
        for (int i = 0; i < x.Length; i++)
        {
            ushort managed = Fp16.FromSingle(x[i]);
            if (managed != native[i]) Assert.Fail($"0x{B(x[i]):X8}: managed 0x{managed:X4}, native 0x{native[i]:X4}");
            ushort half = BitConverter.HalfToUInt16Bits((Half)x[i]);
            if (float.IsNaN(x[i]))
            {
                nans++;
                Assert.Equal((ushort)(((B(x[i]) >> 16) & 0x8000) | 0x7E00 | ((B(x[i]) >> 13) & 0x3FF)), managed);
            }
            else if (managed != half) Assert.Fail($"0x{B(x[i]):X8}: managed 0x{managed:X4}, System.Half 0x{half:X4}");
        }
        Assert.True(nans > 1000); // random patterns include plenty of NaNs (1/256 of them)
    }

    [Fact]
    public void Fp32_to_bf16_random_patterns_and_edge_cases_managed_equals_native_equals_float64_rounding()
    {
        var x = RandomPatterns(1_200_000, 2).Concat(EdgeCases()).ToArray();
        // every fp32 subnormal with a tie in its dropped half-word, both signs
        x = x.Concat(Enumerable.Range(0, 128).Select(k => F(((uint)k << 16) | 0x8000))).ToArray();
        var native = new ushort[x.Length];
        Kernels.Fp32ToBf16(x, native);
        for (int i = 0; i < x.Length; i++)
        {
            ushort managed = Bf16.FromSingle(x[i]);
            if (managed != native[i]) Assert.Fail($"0x{B(x[i]):X8}: managed 0x{managed:X4}, native 0x{native[i]:X4}");
            ushort reference = Float64Bf16(x[i]);
            if (managed != reference) Assert.Fail($"0x{B(x[i]):X8}: managed 0x{managed:X4}, float64 reference 0x{reference:X4}");
        }
    }

    /// <summary>Independent bf16 rounding: scale to units of the bf16 ulp in float64, round half to even.</summary>
    private static ushort Float64Bf16(float x)
    {
        uint bits = B(x);
        if (float.IsNaN(x)) return (ushort)((bits >> 16) | 0x40);
        if (x == 0 || float.IsInfinity(x)) return (ushort)(bits >> 16);
        double a = Math.Abs((double)x);
        int e = Math.Max(Math.ILogB(a), -126);
        double v = Math.ScaleB(Math.Round(Math.ScaleB(a, 7 - e), MidpointRounding.ToEven), e - 7);
        ushort sign = (ushort)((bits >> 16) & 0x8000);
        if (v >= Math.ScaleB(1.0, 128)) return (ushort)(sign | 0x7F80);
        return (ushort)(sign | (B((float)v) >> 16));
    }

    [Theory]
    [InlineData(0x00000000u, 0x0000)]
    [InlineData(0x80000000u, 0x8000)]
    [InlineData(0x7F800000u, 0x7C00)]
    [InlineData(0xFF800000u, 0xFC00)]
    [InlineData(0x477FE000u, 0x7BFF)] // 65504 = fp16 max
    [InlineData(0x477FEFFFu, 0x7BFF)] // 65519.998: rounds down to 65504
    [InlineData(0x477FF000u, 0x7C00)] // 65520: tie, even is 65536 = Inf
    [InlineData(0x33800000u, 0x0001)] // 2^-24, smallest subnormal
    [InlineData(0x33000000u, 0x0000)] // 2^-25: tie, even is 0
    [InlineData(0xB3000000u, 0x8000)] // -2^-25 -> -0
    [InlineData(0x33000001u, 0x0001)] // just above the tie
    [InlineData(0x33C00000u, 0x0002)] // 1.5 * 2^-24: tie, even is 2
    [InlineData(0x34200000u, 0x0002)] // 2.5 * 2^-24: tie, even is 2
    [InlineData(0x387FE000u, 0x0400)] // 1023.5 * 2^-24: subnormal rounds up into the smallest normal
    [InlineData(0x3F801000u, 0x3C00)] // 1 + 2^-11: tie, even is 1
    [InlineData(0x3F803000u, 0x3C02)] // 1 + 3*2^-11: tie, even is 1 + 2^-9
    [InlineData(0x00000001u, 0x0000)] // fp32 subnormal
    [InlineData(0x7FC00000u, 0x7E00)] // quiet NaN
    [InlineData(0x7F800001u, 0x7E00)] // signalling NaN, payload below fp16 precision: quieted
    [InlineData(0x7FA02000u, 0x7F01)] // payload's top bits kept, quiet bit set
    [InlineData(0xFFC00001u, 0xFE00)] // sign kept
    public void Fp32_to_fp16_named_edge_cases(uint input, int expected)
    {
        Assert.Equal((ushort)expected, Fp16.FromSingle(F(input)));
        var native = new ushort[1];
        Kernels.Fp32ToFp16([F(input)], native);
        Assert.Equal((ushort)expected, native[0]);
    }

    [Theory]
    [InlineData(0x3F800000u, 0x3F80)]
    [InlineData(0x3F808000u, 0x3F80)] // tie, even is down
    [InlineData(0x3F818000u, 0x3F82)] // tie, even is up
    [InlineData(0x3F808001u, 0x3F81)]
    [InlineData(0x7F7FFFFFu, 0x7F80)] // fp32 max rounds to Inf
    [InlineData(0x7F7F7FFFu, 0x7F7F)]
    [InlineData(0x007FFFFFu, 0x0080)] // subnormal rounds exactly (VCVTNEPS2BF16 would give 0)
    [InlineData(0x00008000u, 0x0000)] // subnormal tie, even is 0
    [InlineData(0x00018000u, 0x0002)]
    [InlineData(0x80000000u, 0x8000)]
    [InlineData(0xFF800000u, 0xFF80)]
    [InlineData(0x7F800001u, 0x7FC0)] // signalling NaN quieted
    [InlineData(0xFF810000u, 0xFFC1)] // payload and sign kept
    [InlineData(0x7FFFFFFFu, 0x7FFF)] // NaN never rounds into the sign bit
    public void Fp32_to_bf16_named_edge_cases(uint input, int expected)
    {
        Assert.Equal((ushort)expected, Bf16.FromSingle(F(input)));
        var native = new ushort[1];
        Kernels.Fp32ToBf16([F(input)], native);
        Assert.Equal((ushort)expected, native[0]);
    }

    [Fact]
    public void Fp16_round_trip_is_the_identity_except_signalling_NaNs_become_quiet()
    {
        for (int i = 0; i < 65536; i++)
        {
            bool snan = ((i >> 10) & 31) == 31 && (i & 0x3FF) != 0 && (i & 0x200) == 0;
            Assert.Equal((ushort)(snan ? i | 0x200 : i), Fp16.FromSingle(Fp16.ToSingle((ushort)i)));
        }
        Assert.Equal(65504f, Fp16.MaxValue);
        Assert.Equal(Fp16.Epsilon, Fp16.ToSingle(0x0001));
        Assert.Equal(Bf16.ToSingle(0x7F7F), Bf16.MaxValue);
    }

    [Fact]
    public void Span_conversions_match_element_conversions_at_every_SIMD_tail_length()
    {
        var x = RandomPatterns(300_000, 3); // several native thread-pool chunks
        var native = new ushort[x.Length];
        var managed = new ushort[x.Length];
        var back = new float[x.Length];
        var backManaged = new float[x.Length];
        Kernels.Fp32ToFp16(x, native);
        Fp16.FromSingles(x, managed);
        Assert.Equal(managed, native);
        Kernels.Fp16ToFp32(native, back);
        Fp16.ToSingles(managed, backManaged);
        Assert.Equal(backManaged.Select(B), back.Select(B));
        Kernels.Fp32ToBf16(x, native);
        Bf16.FromSingles(x, managed);
        Assert.Equal(managed, native);
        for (int len = 1; len <= 40; len++)
        {
            var h = new ushort[len];
            Kernels.Fp32ToFp16(x.AsSpan(7, len), h);
            for (int i = 0; i < len; i++) Assert.Equal(Fp16.FromSingle(x[7 + i]), h[i]);
            Kernels.Fp32ToBf16(x.AsSpan(9, len), h);
            for (int i = 0; i < len; i++) Assert.Equal(Bf16.FromSingle(x[9 + i]), h[i]);
        }
        Assert.Throws<ArgumentException>(() => Fp16.FromSingles(x, new ushort[3]));
        Assert.Throws<ArgumentException>(() => Kernels.Fp32ToFp16(x, new ushort[3]));
    }
}
