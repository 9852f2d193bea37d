using AwqRuntime.Model;

namespace AwqRuntime.Tests.Hardening;

/// <summary>Sizes the forward pass computes in 32 bits (q width, weight elements) are checked when a config is validated, not left to wrap.</summary>
public class SizeOverflowTests
{
    private static LlamaConfig Base => new()
    {
        VocabSize = 512, HiddenSize = 64, IntermediateSize = 172, NumLayers = 1, NumHeads = 8, NumKvHeads = 4,
    };

    [Fact]
    public void A_q_width_beyond_32_bits_is_refused()
    {
        // 2^20 heads of 2^12: QDim = 2^32 wraps to 0 in int arithmetic.
        var c = Base with { NumHeads = 1 << 20, NumKvHeads = 1 << 20, HeadDim = 1 << 12 };
        Assert.Equal(0, unchecked(c.NumHeads * c.EffectiveHeadDim));
        var e = Assert.Throws<InvalidDataException>(() => c.Validate("cfg.json"));
        Assert.Contains("cfg.json: num_attention_heads 1048576 × head dimension 4096 overflows", e.Message);
    }

    [Theory]
    [InlineData(1 << 20, 1 << 14, 172, "vocab_size × hidden_size")]
    [InlineData(512, 1 << 14, 1 << 20, "intermediate_size × hidden_size")]
    public void A_weight_larger_than_an_array_is_refused(int vocab, int hidden, int intermediate, string what)
    {
        var c = Base with { VocabSize = vocab, HiddenSize = hidden, IntermediateSize = intermediate, NumHeads = 8, NumKvHeads = 8 };
        var e = Assert.Throws<InvalidDataException>(() => c.Validate("cfg.json"));
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Real_shapes_still_validate()
    {
        var c = Base;
        Assert.Same(c, c.Validate("cfg.json"));
    }
}
