using AwqRuntime.Formats;
using AwqRuntime.Generation;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.LlamaSharp;

/// <summary>
/// Our FP32 runtime and llama.cpp (F32 KV cache) on the same GGUF and the same
/// token ids (from our tokenizer) agree to 1e-3 on every logit and produce identical greedy continuations.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class OursVersusLlamaCppTests(LlamaCppFixture fixture)
{
    private static readonly Lazy<LlamaModel> Ours = new(() =>
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KGguf);
        return LlamaModel.FromWeights(src);
    });

    // The ids come from OUR tokenizer: Acceptance.TokenizerVersusLlamaCppTests shows llama.cpp's
    // tokenization of this GGUF gives the same ids over the whole eval text.
    internal static int[] EvalTokens(int count) => Acceptance.TokenizerVersusLlamaCppTests.OurEvalTokens().Take(count).ToArray();

    [Fact]
    public void Logits_agree_within_1e3_on_2048_eval_tokens_in_windows_of_512()
    {
        var ours = Ours.Value;
        var tokens = EvalTokens(2048);
        Assert.Equal(2048, tokens.Length);
        var v = ours.Config.VocabSize;
        var mine = new float[512 * v];
        double worst = 0;
        for (var w = 0; w < 4; w++)
        {
            var window = tokens.AsSpan(w * 512, 512);
            var theirs = fixture.Model.EvaluateLogits(window);
            ours.Forward(window, ours.CreateCache(512), ours.CreateBuffers(512), mine, LogitsMode.All);
            for (var i = 0; i < mine.Length; i++) worst = Math.Max(worst, Math.Abs(mine[i] - theirs[i]));
        }
        Assert.True(worst <= 1e-3, $"max |logit difference| = {worst}");
    }

    [Fact]
    public void Greedy_continuations_of_ten_prompts_are_identical()
    {
        var ours = Ours.Value;
        var tokens = EvalTokens(4000);
        var v = ours.Config.VocabSize;
        for (var p = 0; p < 10; p++)
        {
            int[] prompt = [1, .. tokens.AsSpan(1 + p * 300, 8 + p * 3)];
            var theirs = fixture.Model.Generate(prompt, 64, LlamaCppSamplingOptions.Greedy, stopAtEndOfGeneration: false).Tokens;
            var cache = ours.CreateCache(prompt.Length + 64);
            var buffers = ours.CreateBuffers(64);
            var logits = new float[v];
            ours.Forward(prompt, cache, buffers, logits, LogitsMode.Last);
            var mine = new List<int>();
            for (var i = 0; i < 64; i++)
            {
                var next = Sampler.ArgMax(logits);
                mine.Add(next);
                if (i < 63) ours.Forward([next], cache, buffers, logits, LogitsMode.Last);
            }
            Assert.Equal(theirs.ToArray(), mine.ToArray());
        }
    }
}
