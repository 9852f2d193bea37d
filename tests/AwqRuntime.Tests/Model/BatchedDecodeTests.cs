using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;

namespace AwqRuntime.Tests.Model;

/// <summary>
/// Continuous batching's forward pass: several sequences, each at its own position in its own cache,
/// decoded in one pass must give what each gives alone.
/// </summary>
public class BatchedDecodeTests
{
    private static IEnumerable<LlamaModel> Models()
    {
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("qwen2", vocabSize: 700, numLayers: 2), seed: 4);
        yield return LlamaModel.FromWeights(src);
        yield return AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 128 }).Model;
    }

    [Fact]
    public void Sequences_at_different_positions_decode_together_as_they_decode_alone()
    {
        foreach (var model in Models())
        {
            var v = model.Config.VocabSize;
            var rng = new Random(1);
            var prompts = new[] { 5, 17, 1, 40 }.Select(len => Enumerable.Range(0, len).Select(_ => rng.Next(3, v)).ToArray()).ToArray();
            const int steps = 12;

            // Alone: greedy decode of each prompt with its own cache.
            var alone = prompts.Select(p => Greedy(model, p, steps)).ToArray();

            // Together: prefill each, then every step one batched pass over all four.
            var caches = prompts.Select(_ => model.CreateCache(64)).ToArray();
            var buffers = model.CreateBuffers(64);
            var next = new int[prompts.Length];
            var logits = new float[prompts.Length * v];
            for (var i = 0; i < prompts.Length; i++)
            {
                model.Forward(prompts[i], caches[i], buffers, logits.AsSpan(0, v), LogitsMode.Last);
                next[i] = AwqRuntime.Generation.Sampler.ArgMax(logits.AsSpan(0, v));
            }
            var together = prompts.Select(_ => new List<int>()).ToArray();
            for (var t = 0; t < steps; t++)
            {
                for (var i = 0; i < prompts.Length; i++) together[i].Add(next[i]);
                if (t == steps - 1) break;
                model.ForwardBatch(next, caches, buffers, logits);
                for (var i = 0; i < prompts.Length; i++) next[i] = AwqRuntime.Generation.Sampler.ArgMax(logits.AsSpan(i * v, v));
            }
            for (var i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], together[i].ToArray());
            Assert.All(caches.Zip(prompts), x => Assert.Equal(x.Second.Length + steps - 1, x.First.Length));
        }
    }

    [Fact]
    public void Batched_logits_match_single_sequence_logits()
    {
        foreach (var model in Models())
        {
            var v = model.Config.VocabSize;
            int[][] prompts = [[3, 4, 5], [9], [10, 11, 12, 13, 14, 15]];
            var caches = prompts.Select(_ => model.CreateCache(16)).ToArray();
            var solo = prompts.Select(_ => model.CreateCache(16)).ToArray();
            var buffers = model.CreateBuffers(16);
            var scratch = new float[v];
            for (var i = 0; i < prompts.Length; i++)
            {
                model.Forward(prompts[i], caches[i], buffers, scratch, LogitsMode.Last);
                model.Forward(prompts[i], solo[i], buffers, scratch, LogitsMode.Last);
            }
            int[] step = [20, 21, 22];
            var batched = new float[3 * v];
            model.ForwardBatch(step, caches, buffers, batched);
            for (var i = 0; i < 3; i++)
            {
                var single = new float[v];
                model.Forward([step[i]], solo[i], buffers, single, LogitsMode.Last);
                var worst = single.Zip(batched.AsSpan(i * v, v).ToArray(), (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-4f, $"sequence {i}: max |Δlogit| {worst}");
            }
        }
    }

    [Fact]
    public void Bad_batches_are_refused_before_anything_runs()
    {
        var model = Models().First();
        var buffers = model.CreateBuffers(4);
        var a = model.CreateCache(2);
        var logits = new float[2 * model.Config.VocabSize];
        Assert.Contains("share one KV cache", Assert.Throws<ArgumentException>(() => model.ForwardBatch([1, 2], [a, a], buffers, logits)).Message);
        Assert.Contains("2 tokens for 1 caches", Assert.Throws<ArgumentException>(() => model.ForwardBatch([1, 2], [a], buffers, logits)).Message);
        model.Forward([1, 2], a, buffers, logits.AsSpan(0, model.Config.VocabSize), LogitsMode.Last);
        Assert.Contains("context full", Assert.Throws<InvalidOperationException>(() => model.ForwardBatch([1], [a], buffers, logits)).Message);
        Assert.Equal(2, a.Length);
    }

    private static int[] Greedy(LlamaModel m, int[] prompt, int count)
    {
        var cache = m.CreateCache(64);
        var buffers = m.CreateBuffers(64);
        var logits = new float[m.Config.VocabSize];
        m.Forward(prompt, cache, buffers, logits, LogitsMode.Last);
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = AwqRuntime.Generation.Sampler.ArgMax(logits);
            if (i + 1 < count) m.Forward([result[i]], cache, buffers, logits, LogitsMode.Last);
        }
        return result;
    }
}
