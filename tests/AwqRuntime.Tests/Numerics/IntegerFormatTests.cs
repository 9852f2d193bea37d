using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Numerics;

public class IntegerFormatTests
{
    [Fact]
    public void Standard_formats_have_the_seed_ranges()
    {
        Assert.Equal((-128, 127), (IntegerFormat.Int8.MinValue, IntegerFormat.Int8.MaxValue));
        Assert.Equal((0, 255), (IntegerFormat.UInt8.MinValue, IntegerFormat.UInt8.MaxValue));
        Assert.Equal((-8, 7), (IntegerFormat.Int4.MinValue, IntegerFormat.Int4.MaxValue));
        Assert.Equal((0, 15), (IntegerFormat.UInt4.MinValue, IntegerFormat.UInt4.MaxValue));
        Assert.Equal("INT8", IntegerFormat.Int8.Name);
        Assert.Equal("UINT4", IntegerFormat.UInt4.Name);
        Assert.Equal(16, IntegerFormat.UInt4.Levels);
        Assert.Equal(IntegerFormat.Int4, IntegerFormat.Signed(4));
        Assert.Equal(IntegerFormat.UInt8, IntegerFormat.Unsigned(8));
        Assert.NotEqual(IntegerFormat.Int8, IntegerFormat.UInt8);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(16)]
    public void Ranges_follow_twos_complement_for_every_width(int bits)
    {
        var s = IntegerFormat.Signed(bits);
        var u = IntegerFormat.Unsigned(bits);
        Assert.Equal(-(1L << (bits - 1)), s.MinValue);
        Assert.Equal((1L << (bits - 1)) - 1, s.MaxValue);
        Assert.Equal((1L << bits) - 1, u.MaxValue);
        Assert.Equal(u.Levels, u.MaxValue - u.MinValue + 1);
        Assert.Equal(s.Levels, s.MaxValue - s.MinValue + 1);
    }

    [Fact]
    public void Saturating_conversions_clamp_and_round_half_to_even()
    {
        var i8 = IntegerFormat.Int8;
        Assert.Equal(127, i8.Saturate(1000));
        Assert.Equal(-128, i8.Saturate(-1000));
        Assert.Equal(-128, i8.Saturate(long.MinValue));
        Assert.Equal(5, i8.Saturate(5));
        Assert.Equal(127, i8.SaturateRound(127.4f));
        Assert.Equal(127, i8.SaturateRound(1e30f));
        Assert.Equal(-128, i8.SaturateRound(float.NegativeInfinity));
        Assert.Equal(127, i8.SaturateRound(float.PositiveInfinity));
        Assert.Equal(0, i8.SaturateRound(float.NaN));
        Assert.Equal(2, i8.SaturateRound(2.5f));  // ties to even
        Assert.Equal(4, i8.SaturateRound(3.5f));
        Assert.Equal(-2, i8.SaturateRound(-2.5f));
        Assert.Equal(-3, i8.SaturateRound(-2.51f));
        var u4 = IntegerFormat.UInt4;
        Assert.Equal(0, u4.SaturateRound(-0.4f));
        Assert.Equal(0, u4.SaturateRound(-7f));
        Assert.Equal(15, u4.SaturateRound(15.5f));
        Assert.Equal(0, u4.SaturateRound(float.NaN));
        Assert.Equal(255, IntegerFormat.UInt8.Saturate(256));
        Assert.Equal(7, IntegerFormat.Int4.Saturate(8));
        Assert.Equal(-8, IntegerFormat.Int4.Saturate(-9));
    }

    [Fact]
    public void Contains_and_Require_name_the_argument()
    {
        Assert.True(IntegerFormat.UInt4.Contains(15));
        Assert.False(IntegerFormat.UInt4.Contains(16));
        Assert.False(IntegerFormat.UInt4.Contains(-1));
        Assert.True(IntegerFormat.Int4.Contains(-8));
        Assert.False(IntegerFormat.Int4.Contains(-9));
        IntegerFormat.Int8.Require(-128, "q");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => IntegerFormat.Int8.Require(128, "q"));
        Assert.Equal("q", ex.ParamName);
        Assert.Contains("INT8 holds -128..127", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => IntegerFormat.Signed(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IntegerFormat.Unsigned(17));
    }
}
