using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// The KV cache is sized by use, not by the context a file declares: a context of 2^31−1 used to
/// overflow the cache's constructor and one of 16,777,216 to ask for gigabytes up front.
/// </summary>
public class KvCacheGrowthTests
{
    private static LlamaConfig Tiny(int context) =>
        SyntheticModel.PresetConfig("tiny", vocabSize: 300) with { MaxPositionEmbeddings = context };

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(16_777_216)]
    public void A_huge_declared_context_allocates_only_what_is_used(int context)
    {
        using var src = new SyntheticWeightSource(Tiny(context), seed: 3);
        var model = LlamaModel.FromWeights(src);
        using var cache = model.CreateCache(model.Config.MaxPositionEmbeddings);
        Assert.Equal(context, cache.Capacity);
        Assert.Equal(KvCache.InitialPositions, cache.Allocated);
        Assert.True(cache.Bytes < 1L << 20, $"cache takes {cache.Bytes} bytes before use");
        var logits = new float[model.Config.VocabSize];
        model.Forward([1, 5, 9], cache, model.CreateBuffers(16), logits, LogitsMode.Last);
        Assert.Equal(3, cache.Length);
        Assert.All(logits, x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Growth_keeps_the_filled_rows_so_logits_match_a_cache_that_never_grew()
    {
        using var src = new SyntheticWeightSource(Tiny(2048), seed: 5);
        var model = LlamaModel.FromWeights(src);
        var v = model.Config.VocabSize;
        var rng = new Random(7);
        var tokens = Enumerable.Range(0, 600).Select(_ => rng.Next(3, v)).ToArray();

        // One prefill into a cache reserved once for all 600 positions.
        using var whole = model.CreateCache(2048);
        whole.Reserve(600);
        var all = new float[tokens.Length * v];
        model.Forward(tokens, whole, model.CreateBuffers(600), all, LogitsMode.All);

        // Token by token: the cache doubles 256 → 512 → 1024 on the way, copying what it holds.
        using var grown = model.CreateCache(2048);
        var buffers = model.CreateBuffers(8);
        var step = new float[v];
        var sizes = new SortedSet<int>();
        for (var i = 0; i < tokens.Length; i++)
        {
            model.Forward([tokens[i]], grown, buffers, step, LogitsMode.Last);
            sizes.Add(grown.Allocated);
            if (i is 255 or 256 or 511 or 512 or 599)
                for (var j = 0; j < v; j++) Assert.Equal(all[i * v + j], step[j], 1e-4f);
        }
        Assert.Equal([256, 512, 1024], sizes);
    }

    [Fact]
    public void Reserve_grows_geometrically_and_stops_at_the_context()
    {
        using var cache = new KvCache(AwqRuntime.Backends.CpuBackend.Instance, 2, 16, 1000);
        cache.Reserve(257);
        Assert.Equal(512, cache.Allocated);
        cache.Reserve(600);
        Assert.Equal(1000, cache.Allocated);
        Assert.Throws<InvalidOperationException>(() => cache.Reserve(1001));
    }

    [Fact]
    public void A_context_too_large_for_memory_is_one_line_naming_the_file_field_and_value()
    {
        using var dir = new TempDir("kv");
        SyntheticModel.WriteHf(dir.Path, new SyntheticModelOptions { VocabSize = 300, Seed = 1 });
        var config = dir.File("config.json");
        var json = File.ReadAllText(config);
        Assert.Contains("\"max_position_embeddings\": 512", json);
        File.WriteAllText(config, json.Replace("\"max_position_embeddings\": 512", "\"max_position_embeddings\": 2147483647"));
        using var src = HfWeightSource.Open(dir.Path);
        var model = LlamaModel.FromWeights(src);
        using var cache = model.CreateCache(model.Config.MaxPositionEmbeddings);
        // 2 layers × 2 (K, V) × 2^31 positions × 64 floats: 2 TiB, more than this machine has.
        var ex = Assert.Throws<InsufficientMemoryException>(() => cache.Reserve(int.MaxValue));
        Assert.Contains($"{Path.Combine(dir.Path, "config.json")}: max_position_embeddings 2147483647", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
