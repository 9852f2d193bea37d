using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

[Collection(LlamaCppCollection.Name)]
public class LlamaCppLogitsTests(LlamaCppFixture fixture)
{
    private readonly LlamaCppModel _model = fixture.Model;

    private static int[] GreedySequence => [1, .. Stories260KReference.Load().GreedyFromBos];

    [Fact]
    public void Logits_match_the_float64_reference_with_an_f32_kv_cache()
    {
        var reference = Stories260KReference.Load();
        var logits = _model.EvaluateLogits(GreedySequence.AsSpan(0, 4));
        Assert.Equal(4 * 512, logits.Length);
        foreach (var position in reference.LogitPositions)
        {
            var row = reference.Logits[position];
            var maxDiff = 0.0;
            for (var v = 0; v < 512; v++) maxDiff = Math.Max(maxDiff, Math.Abs(logits[position * 512 + v] - row[v]));
            Assert.True(maxDiff <= 1e-4, $"position {position}: max |diff| {maxDiff:E3}");
        }
    }

    [Fact]
    public void Streaming_rows_equal_the_full_array_and_later_positions_see_the_prefix()
    {
        var tokens = GreedySequence.AsSpan(0, 100).ToArray();
        var full = _model.EvaluateLogits(tokens);
        var positions = new List<int>();
        _model.EvaluateLogits(tokens, (position, row) =>
        {
            positions.Add(position);
            Assert.True(row.SequenceEqual(full.AsSpan(position * 512, 512)), $"row {position} differs");
        });
        Assert.Equal(Enumerable.Range(0, 100), positions);

        // The cache is cleared per call: evaluating a prefix again gives its logits again.
        var prefix = _model.EvaluateLogits(tokens.AsSpan(0, 4));
        Assert.True(prefix.AsSpan().SequenceEqual(full.AsSpan(0, 4 * 512)));
    }

    [Fact]
    public void Several_decode_calls_give_the_same_logits_as_one()
    {
        var tokens = GreedySequence.AsSpan(0, 200).ToArray();
        var oneCall = _model.EvaluateLogits(tokens);
        using var small = LlamaCppModel.Load(SharedData.Stories260KGguf, LlamaCppFixture.F32Options with { BatchSize = 48, UBatchSize = 16 });
        Assert.Equal(48, small.BatchSize);
        var chunked = small.EvaluateLogits(tokens);
        var maxDiff = 0.0;
        for (var i = 0; i < oneCall.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(oneCall[i] - chunked[i]));
        Assert.True(maxDiff < 1e-4, $"max |diff| {maxDiff:E3}");
    }

    [Fact]
    public void F16_kv_cache_is_close_to_but_not_exactly_f32()
    {
        var tokens = GreedySequence.AsSpan(0, 64).ToArray();
        var f32 = _model.EvaluateLogits(tokens);
        using var f16Model = LlamaCppModel.Load(SharedData.Stories260KGguf, LlamaCppFixture.F32Options with { KvCacheType = KvCacheType.F16 });
        var f16 = f16Model.EvaluateLogits(tokens);
        var maxDiff = 0.0;
        for (var i = 0; i < f32.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(f32[i] - f16[i]));
        Assert.InRange(maxDiff, 1e-7, 0.1); // measured 0.045 over 256 positions
    }

    [Fact]
    public void Bad_inputs_are_rejected_before_llama_cpp()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.EvaluateLogits([1, 512]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.EvaluateLogits([1, -3]));
        Assert.Throws<ArgumentException>(() => _model.EvaluateLogits(new int[513]));
        Assert.Empty(_model.EvaluateLogits([]));
    }
}
