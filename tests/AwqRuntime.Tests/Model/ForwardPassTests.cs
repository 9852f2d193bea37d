using AwqRuntime.Formats;
using AwqRuntime.Generation;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Model;

/// <summary>The FP32 reference runtime against the published stories260K outputs (float64 Python run.c port).</summary>
public class ForwardPassTests
{
    public static TheoryData<string> Checkpoints => new() { "bin", "gguf" };

    private static LlamaModel Load(string kind)
    {
        using var src = CheckpointLoader.Open(kind == "bin" ? SharedData.Stories260KBin : SharedData.Stories260KGguf);
        return LlamaModel.FromWeights(src);
    }

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Logits_at_positions_0_to_3_match_the_reference(string kind)
    {
        var reference = Stories260KReference.Load();
        var model = Load(kind);
        int[] seq = [1, .. reference.GreedyFromBos];
        var v = model.Config.VocabSize;
        var logits = new float[4 * v];
        model.Forward(seq.AsSpan(0, 4), model.CreateCache(16), model.CreateBuffers(16), logits, LogitsMode.All);
        double max = 0;
        for (var p = 0; p < 4; p++)
            for (var i = 0; i < v; i++)
                max = Math.Max(max, Math.Abs(logits[p * v + i] - reference.Logits[p][i]));
        Assert.True(max <= 1e-4, $"max |logit diff| = {max}");
    }

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Greedy_256_tokens_from_bos_match_llama2c(string kind)
    {
        var reference = Stories260KReference.Load();
        var model = Load(kind);
        var cache = model.CreateCache(512);
        var buffers = model.CreateBuffers(1);
        var logits = new float[model.Config.VocabSize];
        var next = 1;
        var produced = new List<int>();
        for (var i = 0; i < 256; i++)
        {
            model.Forward([next], cache, buffers, logits, LogitsMode.Last);
            next = Sampler.ArgMax(logits);
            produced.Add(next);
        }
        Assert.Equal(reference.GreedyFromBos, produced);
    }

    [Fact]
    public void Perplexity_reference_mean_nll()
    {
        var reference = Stories260KReference.Load();
        var model = Load("bin");
        var ids = reference.PerplexityTokenIds;
        var v = model.Config.VocabSize;
        var logits = new float[ids.Length * v];
        model.Forward(ids, model.CreateCache(ids.Length), model.CreateBuffers(128), logits, LogitsMode.All);
        var acc = new AwqRuntime.Evaluation.PerplexityAccumulator();
        for (var p = 0; p < ids.Length - 1; p++) acc.Add(logits.AsSpan(p * v, v), ids[p + 1]);
        Assert.Equal(reference.PerplexityScoredTokens, acc.Count);
        Assert.Equal(reference.PerplexityMeanNll, acc.MeanNll, 4);
    }

    [Fact]
    public void Batched_prefill_equals_token_by_token_decode()
    {
        var reference = Stories260KReference.Load();
        var model = Load("bin");
        var ids = reference.GreedyFromBos.Take(40).ToArray();
        var v = model.Config.VocabSize;
        var all = new float[ids.Length * v];
        model.Forward(ids, model.CreateCache(64), model.CreateBuffers(64), all, LogitsMode.All);
        var cache = model.CreateCache(64);
        var buffers = model.CreateBuffers(1);
        var one = new float[v];
        double max = 0;
        for (var p = 0; p < ids.Length; p++)
        {
            model.Forward(ids.AsSpan(p, 1), cache, buffers, one, LogitsMode.Last);
            for (var i = 0; i < v; i++) max = Math.Max(max, Math.Abs(one[i] - all[p * v + i]));
        }
        Assert.True(max < 1e-4, $"prefill vs decode max diff {max}");
    }

    [Fact]
    public void Context_overflow_and_bad_token_ids_are_clear_errors()
    {
        var model = Load("bin");
        var cache = model.CreateCache(4);
        var logits = new float[model.Config.VocabSize * 8];
        var ex = Assert.Throws<InvalidOperationException>(() =>
            model.Forward([1, 2, 3, 4, 5], cache, model.CreateBuffers(8), logits, LogitsMode.All));
        Assert.Contains("context", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([600], model.CreateCache(4), model.CreateBuffers(4), logits, LogitsMode.Last));
    }
}
