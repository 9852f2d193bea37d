using AwqRuntime.Generation;
using Microsoft.Extensions.AI;

namespace AwqRuntime.Tests.Generation;

/// <summary>IChatClient over the in-process model (stories260K with an explicit chat format).</summary>
[Collection(TimingSensitiveCollection.Name)]
public class AwqChatClientTests
{
    private static readonly Lazy<AwqModel> Stories = new(() => AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512));

    private static string Render(IReadOnlyList<ChatTurn> turns) => string.Concat(turns.Select(t => $"[{t.Role}]: {t.Content}\n")) + "[assistant]:";

    private static AwqChatClient Client() =>
        new(Stories.Value.Model, Stories.Value.Tokenizer, turns => Stories.Value.Tokenizer.Encode(Render(turns), addBos: true), "stories260K", parallel: 2, contextSize: 256);

    private static string Greedy(string prompt, int n) =>
        Stories.Value.CreateGenerator(256).Generate(prompt, new GenerationOptions { MaxTokens = n, Sampling = SamplingOptions.Greedy }).Text;

    [Fact]
    public async Task Non_streaming_and_streaming_answers_equal_greedy_generation_with_usage_and_finish_reason()
    {
        using IChatClient client = Client();
        var messages = new[] { new ChatMessage(ChatRole.System, "You tell stories."), new ChatMessage(ChatRole.User, "A story about a dog") };
        var expected = Greedy(Render([new("system", "You tell stories."), new("user", "A story about a dog")]), 20);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };

        var response = await client.GetResponseAsync(messages, options);
        Assert.Equal(expected, response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(20, response.Usage!.OutputTokenCount);
        Assert.Equal("stories260K", response.ModelId);

        var streamed = new System.Text.StringBuilder();
        ChatFinishReason? reason = null;
        UsageDetails? usage = null;
        await foreach (var update in client.GetStreamingResponseAsync(messages, options))
        {
            streamed.Append(update.Text);
            reason ??= update.FinishReason;
            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        }
        Assert.Equal(expected, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, reason);
        Assert.Equal(20, usage!.OutputTokenCount);
        Assert.Equal("stories260K", client.GetService<ChatClientMetadata>()!.DefaultModelId);
    }

    [Fact]
    public async Task Works_through_chat_client_builder_middleware_with_stop_sequences_and_seeds()
    {
        var calls = 0;
        using var client = new ChatClientBuilder(Client())
            .ConfigureOptions(o => { o.MaxOutputTokens ??= 30; o.Seed ??= 11; })
            .Use(async (messages, options, next, cancel) =>
            {
                calls++;
                await next(messages, options, cancel);
            })
            .Build();
        var sampled = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello")], new ChatOptions { Temperature = 0.9f });
        var again = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello")], new ChatOptions { Temperature = 0.9f });
        Assert.Equal(sampled.Text, again.Text); // the same seed through the middleware
        // ConfigureOptions supplied MaxOutputTokens = 30.
        if (sampled.FinishReason == ChatFinishReason.Length) Assert.Equal(30, sampled.Usage!.OutputTokenCount);
        else Assert.True(sampled.Usage!.OutputTokenCount <= 30);
        Assert.Equal(2, calls);

        var text = Greedy(Render([new("user", "Hello")]), 30);
        var stop = text.Substring(8, 3);
        var stopped = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello")], new ChatOptions { Temperature = 0, StopSequences = [stop] });
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
    }

    [Fact]
    public async Task Cancellation_stops_a_long_answer()
    {
        var (model, tokenizer) = BatchSchedulerTests.Slow.Value;
        using var scheduler = new AwqRuntime.Generation.Batching.BatchScheduler(model, tokenizer,
            new AwqRuntime.Generation.Batching.BatchSchedulerOptions { Parallel = 1, ContextSize = 512 });
        // A model slow enough that 480 tokens take far longer than reading three updates and cancelling.
        using IChatClient client = new AwqChatClient(scheduler, turns => tokenizer.Encode(Render(turns), addBos: true), "slow");
        using var cts = new CancellationTokenSource();
        var count = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Go on")],
                               new ChatOptions { MaxOutputTokens = 480, Temperature = 0 }, cts.Token))
                if (++count == 3) cts.Cancel();
        });
        Assert.True(count < 480, $"{count} updates arrived: the cancellation did not stop the answer");
    }
}
