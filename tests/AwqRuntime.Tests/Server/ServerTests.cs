using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using AwqRuntime.Generation;
using OpenAI;
using OpenAI.Chat;

namespace AwqRuntime.Tests.Server;

/// <summary>The OpenAI-compatible server: the official client, streaming, batching equality, refusals.</summary>
public class ServerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private string Greedy(string prompt, int maxTokens) =>
        f.Model.CreateGenerator(256).Generate(prompt, new GenerationOptions { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy }).Text;

    private Task<HttpResponseMessage> Post(string path, string json) =>
        f.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<List<JsonElement>> Events(HttpResponseMessage res)
    {
        var body = await res.Content.ReadAsStringAsync();
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        return events[..^1].Select(e =>
        {
            Assert.StartsWith("data: ", e);
            return JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone();
        }).ToList();
    }

    [Fact]
    public async Task The_official_openai_client_gets_a_chat_completion_and_a_stream_equal_to_generate()
    {
        var client = new ChatClient("stories260K", new ApiKeyCredential(ServerFixture.Key), new OpenAIClientOptions { Endpoint = new Uri(f.Server.Url + "/v1") });
        ChatMessage[] messages = [new UserChatMessage("Tell me about a cat")];
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 32 };
        var expected = Greedy(ServerFixture.Render([new("user", "Tell me about a cat")]), 32);

        ChatCompletion done = await client.CompleteChatAsync(messages, options);
        Assert.Equal(expected, done.Content[0].Text);
        Assert.Equal(32, done.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, done.FinishReason);

        var streamed = new StringBuilder();
        ChatFinishReason? reason = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            reason ??= update.FinishReason;
        }
        Assert.Equal(expected, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, reason);
    }

    [Fact]
    public async Task Completions_json_and_stream_agree_with_generate_and_report_usage()
    {
        var expected = Greedy("Once upon a time", 24);
        var res = await Post("/v1/completions", """{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0}""");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var json = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.Equal(expected, json.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(24, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var stream = await Post("/v1/completions",
            """{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}""");
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType!.MediaType);
        var events = await Events(stream);
        var text = string.Concat(events.Where(e => e.GetProperty("choices").GetArrayLength() > 0).Select(e => e.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(expected, text);
        Assert.Equal("length", events[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(24, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Logprobs_are_log_softmax_values_and_a_stop_string_ends_with_finish_reason_stop()
    {
        var res = await Post("/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "temperature": 0, "logprobs": true, "top_logprobs": 3}""");
        var choice = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
        var content = choice.GetProperty("logprobs").GetProperty("content");
        Assert.Equal(8, content.GetArrayLength());
        foreach (var t in content.EnumerateArray())
        {
            var lp = t.GetProperty("logprob").GetDouble();
            var top = t.GetProperty("top_logprobs");
            Assert.Equal(3, top.GetArrayLength());
            Assert.True(lp <= 0);
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(top[0].GetProperty("logprob").GetDouble(), lp, 9);
            Assert.True(top[0].GetProperty("logprob").GetDouble() >= top[1].GetProperty("logprob").GetDouble());
        }
        var text = Greedy("Once upon a time", 40);
        var stop = text.Substring(10, 4);
        var stopped = await Post("/v1/completions", JsonSerializer.Serialize(new { prompt = "Once upon a time", max_tokens = 40, temperature = 0, stop = new[] { stop } }));
        var c = JsonDocument.Parse(await stopped.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
        Assert.Equal("stop", c.GetProperty("finish_reason").GetString());
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], c.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Sixteen_concurrent_streaming_clients_each_get_their_single_client_output()
    {
        var prompts = Enumerable.Range(0, 16).Select(i => $"Story number {i}: once there was").ToArray();
        var expected = prompts.Select(p => Greedy(p, 20)).ToArray();
        var results = await Task.WhenAll(prompts.Select(async p =>
        {
            var res = await Post("/v1/completions", JsonSerializer.Serialize(new { prompt = p, max_tokens = 20, temperature = 0, stream = true }));
            var events = await Events(res);
            return string.Concat(events.Select(e => e.GetProperty("choices")[0].GetProperty("text").GetString()));
        }));
        for (var i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], results[i]);
    }

    [Theory]
    [InlineData("/v1/chat/completions", "{not json", 400, null)]
    [InlineData("/v1/chat/completions", """{"messages": []}""", 400, "messages")]
    [InlineData("/v1/chat/completions", """{"messages": "hi"}""", 400, "messages")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "wizard", "content": "x"}]}""", 400, "messages[0].role")]
    [InlineData("/v1/completions", """{"prompt": "x", "max_tokens": -1}""", 400, "max_tokens")]
    [InlineData("/v1/completions", """{"prompt": "x", "temperature": "hot"}""", 400, "temperature")]
    [InlineData("/v1/completions", """{"prompt": "x", "n": 2}""", 400, "n")]
    [InlineData("/v1/completions", """{"prompt": 7}""", 400, "prompt")]
    [InlineData("/v1/completions", """{"prompt": "x", "stop": [1]}""", 400, "stop")]
    [InlineData("/v1/completions", """{"prompt": "x", "model": "gpt-9"}""", 404, "model")]
    [InlineData("/v1/nothing", "{}", 404, null)]
    public async Task Bad_requests_get_openai_error_json_with_the_right_status_and_field(string path, string body, int status, string? param)
    {
        var res = await Post(path, body);
        Assert.Equal(status, (int)res.StatusCode);
        var error = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        if (param != null) Assert.Equal(param, error.GetProperty("param").GetString());
        await ServerStillAnswers();
    }

    [Fact]
    public async Task An_oversized_prompt_a_body_over_the_limit_and_a_wrong_key_are_refused()
    {
        var longPrompt = string.Join(" ", Enumerable.Repeat("the cat sat", 200));
        var res = await Post("/v1/completions", JsonSerializer.Serialize(new { prompt = longPrompt }));
        Assert.Equal(400, (int)res.StatusCode);
        Assert.Contains("context holds 256", await res.Content.ReadAsStringAsync());

        var huge = await Post("/v1/completions", JsonSerializer.Serialize(new { prompt = new string('a', 100_000) }));
        Assert.Equal(413, (int)huge.StatusCode);

        using var anonymous = new HttpClient { BaseAddress = f.Http.BaseAddress };
        var denied = await anonymous.PostAsync("/v1/completions", new StringContent("""{"prompt": "x"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(401, (int)denied.StatusCode);
        Assert.Equal("invalid_api_key", JsonDocument.Parse(await denied.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode); // health needs no key
        await ServerStillAnswers();
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_frees_its_slot()
    {
        using var cts = new CancellationTokenSource();
        var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"prompt": "Once", "max_tokens": 200, "stream": true}""", Encoding.UTF8, "application/json"),
        };
        var res = await f.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var body = await res.Content.ReadAsStreamAsync(cts.Token);
        var buffer = new byte[64];
        Assert.True(await body.ReadAsync(buffer, cts.Token) > 0);
        cts.Cancel();
        res.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (f.Server.Scheduler.Active > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, f.Server.Scheduler.Active);
        await ServerStillAnswers();
    }

    [Fact]
    public async Task Models_and_health_describe_the_server()
    {
        var models = JsonDocument.Parse(await f.Http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("stories260K", models.GetProperty("data")[0].GetProperty("id").GetString());
        var health = JsonDocument.Parse(await f.Http.GetStringAsync("/health")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(16, health.GetProperty("slots").GetInt32());
        Assert.Contains("/v1/chat/completions", await f.Http.GetStringAsync("/"));
    }

    private async Task ServerStillAnswers()
    {
        var res = await Post("/v1/completions", """{"prompt": "Once upon a time", "max_tokens": 3, "temperature": 0}""");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
    }
}
