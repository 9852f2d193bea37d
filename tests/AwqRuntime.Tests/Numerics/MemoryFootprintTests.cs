using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Numerics;

public class MemoryFootprintTests
{
    [Fact]
    public void Seed_13B_model_bytes_per_format()
    {
        const double n = 13e9;
        Assert.Equal(52e9, MemoryFootprint.Fp32.Bytes(n));
        Assert.Equal(26e9, MemoryFootprint.Fp16.Bytes(n));
        Assert.Equal(26e9, MemoryFootprint.Bf16.Bytes(n));
        Assert.Equal(13e9, MemoryFootprint.Int8.Bytes(n));
        Assert.Equal(6.5e9, MemoryFootprint.Int4.Bytes(n));
    }

    [Theory]
    [InlineData(128, 4.15625)]
    [InlineData(64, 4.3125)]
    [InlineData(32, 4.625)]
    public void Grouped_int4_counts_fp16_scale_and_4bit_zero(int group, double bits)
    {
        Assert.Equal(bits, MemoryFootprint.Int4Grouped(group).BitsPerWeight, 12);
    }
}
