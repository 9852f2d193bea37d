using AwqRuntime.Generation;
using AwqRuntime.Generation.Batching;

namespace AwqRuntime.Tests.Generation;

/// <summary>Continuous batching on stories260K: results equal to one-at-a-time generation, slots freed, queue bounded.</summary>
[Collection(TimingSensitiveCollection.Name)]
public class BatchSchedulerTests
{
    private static readonly Lazy<AwqModel> Stories = new(() => AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512));

    private static readonly string[] Prompts =
    [
        "Once upon a time", "Lily had a red ball", "The sun was hot", "Tom and his dog", "One day, a bird", "The little girl",
        "Sam wanted to", "There was a big tree", "Mom said", "The cat", "A boy named Tim", "In the park",
        "The fish swam", "Ben was sad", "The box was", "It was a rainy day",
    ];

    private static async Task<(string Text, GenerationStats Stats)> Collect(GenerationStream s)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var c in s.ReadAllAsync()) text.Append(c.Text);
        return (text.ToString(), await s.Completion);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4)]
    public async Task Sixteen_concurrent_greedy_requests_each_get_their_single_request_output(int parallel)
    {
        var m = Stories.Value;
        var options = new GenerationOptions { MaxTokens = 40, Sampling = SamplingOptions.Greedy };
        var gen = m.CreateGenerator(256);
        var alone = Prompts.Select(p => gen.Generate(p, options).Text).ToArray();
        using var scheduler = new BatchScheduler(m.Model, m.Tokenizer, new BatchSchedulerOptions { Parallel = parallel, ContextSize = 256 });
        var streams = Prompts.Select(p => scheduler.Submit(gen.EncodePrompt(p, options), options)).ToArray();
        var results = await Task.WhenAll(streams.Select(Collect));
        for (var i = 0; i < Prompts.Length; i++) Assert.Equal(alone[i], results[i].Text);
        Assert.All(results, r => Assert.True(r.Stats.GeneratedTokens > 0));
        Assert.Equal(0, scheduler.Active);
    }

    [Fact]
    public async Task Sampled_requests_with_a_seed_repeat_exactly_alone_or_batched()
    {
        var m = Stories.Value;
        var options = new GenerationOptions { MaxTokens = 30, Sampling = new SamplingOptions { Temperature = 0.9f, Seed = 7 } };
        var gen = m.CreateGenerator(256);
        var alone = gen.Generate("Once upon a time", options).Text;
        using var scheduler = new BatchScheduler(m.Model, m.Tokenizer, new BatchSchedulerOptions { Parallel = 3, ContextSize = 256 });
        var prompt = gen.EncodePrompt("Once upon a time", options);
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Collect(scheduler.Submit(prompt, options))));
        Assert.All(results, r => Assert.Equal(alone, r.Text));
    }

    /// <summary>
    /// A model slow enough (32000-token classifier) that a 480-token answer is still running when the
    /// first chunk is read: stories260K is so fast it could finish before a cancellation lands.
    /// </summary>
    internal static readonly Lazy<(AwqRuntime.Model.LlamaModel Model, AwqRuntime.Tokenization.ITokenizer Tokenizer)> Slow = new(() =>
    {
        var tok = AwqRuntime.Tokenization.Tokenizer.FromFile(Path.Combine(SharedData.Llama2TokenizerDir, "tokenizer.model"));
        using var src = new AwqRuntime.Synthetic.SyntheticWeightSource(AwqRuntime.Synthetic.SyntheticModel.PresetConfig("tiny"), seed: 3);
        return (AwqRuntime.Model.LlamaModel.FromWeights(src), tok);
    });

    [Fact]
    public async Task A_cancelled_request_frees_its_slot_for_the_next()
    {
        var (model, tokenizer) = Slow.Value;
        using var scheduler = new BatchScheduler(model, tokenizer, new BatchSchedulerOptions { Parallel = 1, ContextSize = 512, MaxQueue = 4 });
        var prompt = tokenizer.Encode("Once upon a time", addBos: true);
        using var cts = new CancellationTokenSource();
        var endless = scheduler.Submit(prompt, new GenerationOptions { MaxTokens = 480, StopAtEos = false }, cts.Token);
        var waiting = scheduler.Submit(prompt, new GenerationOptions { MaxTokens = 5 });
        await endless.Chunks.ReadAsync(); // it is running
        cts.Cancel();
        var stats = await endless.Completion;
        Assert.Equal(StopReason.Cancelled, stats.StopReason);
        Assert.True(stats.GeneratedTokens < 480, $"{stats.GeneratedTokens} tokens: the cancellation did not stop it");
        var next = await Collect(waiting);
        Assert.Equal(5, next.Stats.GeneratedTokens);
    }

    [Fact]
    public void A_full_queue_and_a_prompt_too_long_are_refused_at_submit()
    {
        var m = Stories.Value;
        using var scheduler = new BatchScheduler(m.Model, m.Tokenizer, new BatchSchedulerOptions { Parallel = 1, ContextSize = 64, MaxQueue = 1 });
        var prompt = m.Tokenizer.Encode("Once upon a time", addBos: true);
        var endless = new GenerationOptions { MaxTokens = 60, StopAtEos = false };
        using var cts = new CancellationTokenSource();
        scheduler.Submit(prompt, endless, cts.Token);
        scheduler.Submit(prompt, endless, cts.Token);
        Assert.Throws<QueueFullException>(() => scheduler.Submit(prompt, endless, cts.Token));
        Assert.Contains("a slot holds 64", Assert.Throws<ArgumentException>(() => scheduler.Submit(new int[64], endless)).Message);
        Assert.Contains("max tokens", Assert.Throws<ArgumentException>(() => scheduler.Submit(prompt, new GenerationOptions { MaxTokens = -1 })).Message);
        cts.Cancel();
    }
}
