using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// Every group-wise method at 2, 3 and 8 bits: the linears come out as <see cref="NBitLinear"/>s of that width with
/// codes and zero points in 0..2^b − 1, and AWQ's scale and clip searches measure their losses at that width
/// (the quantization error of the unscaled weights, the searches' baseline, grows as the width shrinks).
/// </summary>
public sealed class NBitQuantizationTests
{
    private static readonly Lazy<CalibrationSet> Calibration = new(() =>
    {
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        return CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tok.Encode(t, addBos: true), 4, 64, "calib");
    });

    private static QuantizationResult Quantize(QuantMethod method, int bits)
    {
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("llama3", vocabSize: 512), seed: 5);
        return AwqQuantizer.Quantize(src, Calibration.Value, new AwqConfig { Method = method, WBit = bits, GroupSize = 64 }.Validate());
    }

    [Theory]
    [InlineData(QuantMethod.Awq, 3)]
    [InlineData(QuantMethod.Rtn, 2)]
    [InlineData(QuantMethod.Gptq, 3)]
    [InlineData(QuantMethod.AwqGptq, 8)]
    public void Methods_round_at_the_chosen_width(QuantMethod method, int bits)
    {
        var r = Quantize(method, bits);
        foreach (var block in r.Model.Blocks)
            foreach (var kind in LinearKinds.All)
            {
                var linear = Assert.IsType<NBitLinear>(block[kind]);
                var w = linear.ToWeights();
                Assert.Equal(bits, w.Bits);
                Assert.All(w.Q, q => Assert.InRange(q, 0, (1 << bits) - 1));
                Assert.All(w.Zeros, z => Assert.InRange(z, 0, (1 << bits) - 1));
                if (bits == 8) Assert.Contains(w.Q, q => q > 15); // really 8-bit codes, not 4-bit ones stored wide
            }
        // bits per weight as pack-quantized stores them: int32 words of pf = 32/b codes along the input (3.2 bits a code at
        // 3 bits, more where pf does not divide the width), fp16 scales, zero points in int32 words along the output
        long stored = 0, weights = 0;
        var pf = 32 / bits;
        foreach (var kind in LinearKinds.All)
        {
            var shape = kind.Shape(r.Model.Config);
            long n = shape[0], k = shape[1], groups = (k + 63) / 64;
            stored += r.Model.Config.NumLayers * (n * ((k + pf - 1) / pf) * 32 + n * groups * 16 + (n + pf - 1) / pf * groups * 32);
            weights += r.Model.Config.NumLayers * n * k;
        }
        Assert.Equal((double)stored / weights, r.LinearBitsPerWeight, 12);
        Assert.InRange(r.LinearBitsPerWeight, bits + (16.0 + bits) / 64, bits + 1);
    }

    [Fact]
    public void Awq_searches_at_the_chosen_width()
    {
        var w3 = Quantize(QuantMethod.Awq, 3);
        var w4 = Quantize(QuantMethod.Awq, 4);
        var w8 = Quantize(QuantMethod.Awq, 8);
        for (var l = 0; l < w3.Blocks.Count; l++)
            for (var s = 0; s < w3.Blocks[l].Scales.Count; s++)
            {
                double u3 = w3.Blocks[l].Scales[s].UnscaledLoss, u4 = w4.Blocks[l].Scales[s].UnscaledLoss, u8 = w8.Blocks[l].Scales[s].UnscaledLoss;
                Assert.True(u3 > 2 * u4 && u4 > 20 * u8, $"block {l} group {s}: unscaled losses w3 {u3:G3}, w4 {u4:G3}, w8 {u8:G3}");
            }
        foreach (var (name, e3) in w3.Blocks[0].ClipErrors)
            Assert.True(e3 > w4.Blocks[0].ClipErrors[name], $"{name}: clip error at 3 bits {e3:G3} not above 4 bits' {w4.Blocks[0].ClipErrors[name]:G3}");
    }
}
