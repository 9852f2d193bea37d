using AwqRuntime.Formats;

namespace AwqRuntime.Tests.Formats;

public class TensorConversionTests
{
    /// <summary>Independent fp16 rounding: nearest representable value by exhaustive neighbour search in double, ties to even mantissa.</summary>
    private static double ReferenceFp16(double x)
    {
        if (x == 0) return x;
        var sign = Math.Sign(x);
        var a = Math.Abs(x);
        if (a >= 65520) return sign * double.PositiveInfinity;
        // Spacing: subnormals 2^-24; normals 2^(e-10) for a in [2^e, 2^(e+1)).
        var e = Math.Max(Math.Floor(Math.Log2(a)), -14);
        var ulp = Math.Pow(2, e - 10);
        var lower = Math.Floor(a / ulp) * ulp;
        var upper = lower + ulp;
        double r;
        if (a - lower < upper - a) r = lower;
        else if (upper - a < a - lower) r = upper;
        else r = (long)Math.Round(lower / ulp) % 2 == 0 ? lower : upper;
        return sign * r;
    }

    [Fact]
    public void Fp16_encoding_rounds_to_nearest_even_including_ties_and_subnormals()
    {
        var values = new List<float> { 1f, 1f + 1f / 2048, 1f + 3f / 2048, 1f + 1f / 4096, -2.5f, 65504f, 65519f, 1e-7f, 3e-8f, 6.1e-5f, 0.1f, -0.3333f };
        var rng = new Random(7);
        for (var i = 0; i < 2000; i++) values.Add((float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-26, 16))));
        var bytes = new byte[values.Count * 2];
        TensorConversion.FromFloat32(TensorDType.F16, values.ToArray(), bytes);
        var back = new float[values.Count];
        TensorConversion.ToFloat32(TensorDType.F16, bytes, back);
        for (var i = 0; i < values.Count; i++) Assert.Equal(ReferenceFp16(values[i]), back[i]);
    }

    [Fact]
    public void Bf16_encoding_rounds_to_nearest_even()
    {
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa → 1. 1 + 3·2^-8 → 1 + 2^-6 (even).
        Assert.Equal(1f, AwqRuntime.Numerics.Bf16.ToSingle(AwqRuntime.Numerics.Bf16.FromSingle(1f + 1f / 256)));
        Assert.Equal(1f + 1f / 64, AwqRuntime.Numerics.Bf16.ToSingle(AwqRuntime.Numerics.Bf16.FromSingle(1f + 3f / 256)));
        Assert.Equal(1f + 1f / 128, AwqRuntime.Numerics.Bf16.ToSingle(AwqRuntime.Numerics.Bf16.FromSingle(1f + 1f / 256 + 1f / 4096)));
        Assert.True(float.IsNaN(AwqRuntime.Numerics.Bf16.ToSingle(AwqRuntime.Numerics.Bf16.FromSingle(float.NaN))));
        Assert.Equal(float.NegativeInfinity, AwqRuntime.Numerics.Bf16.ToSingle(AwqRuntime.Numerics.Bf16.FromSingle(float.NegativeInfinity)));
        Assert.Equal(0x3F80, AwqRuntime.Numerics.Bf16.FromSingle(1f));
    }

    [Fact]
    public void Q8_0_blocks_follow_ggml_layout_and_error_bound()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 96).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        x[40] = 0; // a block containing zero
        for (var j = 64; j < 96; j++) x[j] = 0; // an all-zero block: d = 0, q = 0
        var bytes = new byte[3 * 34];
        TensorConversion.FromFloat32(TensorDType.Q8_0, x, bytes);
        var y = new float[96];
        TensorConversion.ToFloat32(TensorDType.Q8_0, bytes, y);
        for (var b = 0; b < 3; b++)
        {
            var amax = x.Skip(32 * b).Take(32).Max(MathF.Abs);
            var d = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(bytes, 34 * b));
            Assert.Equal((float)(Half)(amax / 127f), d);
            for (var j = 0; j < 32; j++)
            {
                var q = (sbyte)bytes[34 * b + 2 + j];
                Assert.Equal(d * q, y[32 * b + j]); // layout: fp16 d, then 32 int8
                Assert.InRange(Math.Abs(q), 0, 127);
                Assert.True(Math.Abs(x[32 * b + j] - y[32 * b + j]) <= amax / 127 * (0.5 + 127.0 / 2048) + 1e-7);
            }
        }
        Assert.All(y.Skip(64), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() => TensorConversion.FromFloat32(TensorDType.Q8_0, new float[33], new byte[34]));
    }
}
