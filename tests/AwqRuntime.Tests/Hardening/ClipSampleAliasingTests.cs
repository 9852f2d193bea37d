using AwqRuntime.Quantization;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// The clip search's token sample: with 512 sequences of 512 tokens the step (tokens / 512) equals the
/// sequence length, and AutoAWQ's every-step-th row would be every sequence's BOS position.
/// </summary>
public class ClipSampleAliasingTests
{
    [Theory]
    [InlineData(512, 512)]
    [InlineData(1024, 256)] // step 512 = 2 sequences of 256
    [InlineData(600, 64)]
    public void Sampled_rows_never_all_sit_at_position_zero(int samples, int seqLen)
    {
        var rows = ClipSearch.SampleRows(samples * seqLen, 512, seqLen);
        Assert.Contains(rows, r => r % seqLen != 0);
        Assert.Equal(rows.Length, rows.Distinct().Count());
        Assert.All(rows, r => Assert.InRange(r, 0, samples * seqLen - 1));
    }

    [Theory]
    [InlineData(128, 512)] // the defaults: step 128, AutoAWQ's rows unchanged (the verified stories260K numbers)
    [InlineData(64, 512)]
    [InlineData(16, 64)]
    public void Steps_that_do_not_alias_keep_AutoAWQs_rows(int samples, int seqLen)
    {
        var tokens = samples * seqLen;
        var step = Math.Max(1, tokens / 512);
        var expected = Enumerable.Range(0, (tokens + step - 1) / step).Select(i => i * step).ToArray();
        Assert.Equal(expected, ClipSearch.SampleRows(tokens, 512, seqLen));
        Assert.Equal(expected, ClipSearch.SampleRows(tokens, 512, 0));
    }

    [Theory]
    [InlineData(128, 512)] // step 128: a quarter of AutoAWQ's rows would be BOS rows
    [InlineData(256, 512)] // step 256: half of them
    [InlineData(512, 512)] // step 512: the aliasing rule, then the shift
    [InlineData(16, 64)]
    public void With_a_leading_bos_in_every_sequence_no_sampled_row_is_a_first_position(int samples, int seqLen)
    {
        var tokens = samples * seqLen;
        var plain = ClipSearch.SampleRows(tokens, 512, seqLen);
        var rows = ClipSearch.SampleRows(tokens, 512, seqLen, leadingBos: true);
        Assert.Equal(plain.Length, rows.Length);
        Assert.DoesNotContain(rows, r => r % seqLen == 0);
        Assert.Equal(rows.Length, rows.Distinct().Count());
        Assert.All(rows, r => Assert.InRange(r, 0, tokens - 1));
        // only the first positions move, by one
        Assert.All(plain.Zip(rows), p => Assert.Equal(p.First % seqLen == 0 ? p.First + 1 : p.First, p.Second));
    }

    [Fact]
    public void Only_self_generated_calibration_has_a_leading_bos()
    {
        var spec = AwqRuntime.Tokenization.TokenizerFiles.Read(SharedData.Tok512, 512);
        var tok = AwqRuntime.Tokenization.Tokenizer.FromSpec(spec);
        var file = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tok.Encode(t, addBos: true), 4, 64, "calib");
        Assert.False(file.LeadingBos);
        using var src = new AwqRuntime.Synthetic.SyntheticWeightSource(AwqRuntime.Synthetic.SyntheticModel.PresetConfig("tiny", vocabSize: 512, numLayers: 1), 1);
        var self = CalibrationSet.FromModel(AwqRuntime.Model.LlamaModel.FromWeights(src), bosId: 1, samples: 3, seqLen: 16, seed: 7);
        Assert.True(self.LeadingBos);
        Assert.All(self.Samples, s => Assert.Equal(1, s[0]));
    }
}
