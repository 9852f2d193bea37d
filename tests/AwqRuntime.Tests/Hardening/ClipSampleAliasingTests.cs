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
}
