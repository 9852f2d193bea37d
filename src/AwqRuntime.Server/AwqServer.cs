using System.Text;
using System.Text.Json;
using AwqRuntime.Generation;
using AwqRuntime.Generation.Batching;
using AwqRuntime.Model;
using AwqRuntime.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AwqRuntime.Server;

/// <summary>
/// An OpenAI-compatible HTTP server over one model (llama-server's and vLLM's API shape):
/// POST /v1/chat/completions and /v1/completions (JSON, or server-sent events with stream: true,
/// ending in "data: [DONE]"), GET /v1/models, GET /health, GET / (a small chat page). Requests share
/// the model through continuous batching (<see cref="BatchScheduler"/>). Bound to loopback unless told
/// otherwise; an API key, a body limit, a bounded queue (429 beyond) and a per-request timeout guard it.
/// Every refusal is OpenAI's error JSON; nothing a client sends stops the server.
/// </summary>
public sealed class AwqServer : IAsyncDisposable
{
    private readonly LlamaModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly ChatPromptEncoder? _chatPrompt;
    private readonly ServerOptions _options;
    private readonly BatchScheduler _scheduler;
    private readonly WebApplication _app;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly IReadOnlySet<int> _endOfTurn;
    private readonly Dictionary<string, string[]> _allowed = new(StringComparer.OrdinalIgnoreCase);

    public AwqServer(LlamaModel model, ITokenizer tokenizer, ServerOptions options, ChatPromptEncoder? chatPrompt = null)
    {
        _model = model;
        _tokenizer = tokenizer;
        _options = options.Validate();
        _chatPrompt = chatPrompt;
        _endOfTurn = EndOfTurnTokens.Find(tokenizer.Spec);
        _scheduler = new BatchScheduler(model, tokenizer, new BatchSchedulerOptions
        {
            Parallel = options.Parallel, ContextSize = options.ContextSize, MaxQueue = options.MaxQueue,
        });
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            KestrelLimits.Apply(k.Limits, options);
            k.Listen(System.Net.IPAddress.Parse(options.Host), options.Port);
        });
        _app = builder.Build();
        _app.Use(Guard);
        Map("/health", ["GET", "HEAD"], http => http.Response.WriteAsJsonAsync(new
        {
            status = "ok", slots = _scheduler.Parallel, active = _scheduler.Active, queued = _scheduler.Queued, in_flight = _scheduler.InFlight,
        }));
        Map("/v1/models", ["GET", "HEAD"], http => http.Response.WriteAsJsonAsync(new
        {
            @object = "list",
            data = new[] { new { id = options.ModelId, @object = "model", created = _created, owned_by = "awqruntime" } },
        }));
        Map("/v1/completions", ["POST"], http => Complete(http, chat: false));
        Map("/v1/chat/completions", ["POST"], http => Complete(http, chat: true));
        Map("/", ["GET", "HEAD"], http =>
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            return http.Response.WriteAsync(ChatPage.Html);
        });
        // Every other path and method, file-like names included ({*path} without :nonfile): 405 naming the
        // methods a known path takes (RFC 9110 §15.5.6 requires the Allow field), else 404.
        _app.MapFallback("{*path}", http =>
        {
            var path = http.Request.Path.Value is { Length: > 1 } p ? p.TrimEnd('/') : "/";
            if (_allowed.TryGetValue(path, out var methods))
            {
                http.Response.Headers.Allow = string.Join(", ", methods);
                return new ApiError(405, $"{path} takes {string.Join(" or ", methods)}, not {http.Request.Method}", type: "invalid_request_error", code: "method_not_allowed").WriteAsync(http);
            }
            return new ApiError(404, $"no route {http.Request.Method} {http.Request.Path}", type: "not_found_error").WriteAsync(http);
        });
    }

    /// <summary>Routes <paramref name="path"/> for <paramref name="methods"/> and remembers them for 405's Allow field.</summary>
    private void Map(string path, string[] methods, RequestDelegate handler)
    {
        _app.MapMethods(path, methods, handler);
        _allowed[path] = methods;
    }

    private int _internalErrors;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _recentInternalErrors = new();

    /// <summary>Requests that failed inside the server (answered 500, or cut off mid-answer), as opposed to refused ones.</summary>
    internal int InternalErrors => Volatile.Read(ref _internalErrors);

    /// <summary>The last few of <see cref="InternalErrors"/>: request line and exception.</summary>
    internal IReadOnlyCollection<string> RecentInternalErrors => _recentInternalErrors;

    /// <summary>The scheduler that runs the requests (slot and queue counts).</summary>
    public BatchScheduler Scheduler => _scheduler;

    /// <summary>The address the server listens on, once started ("http://127.0.0.1:8080").</summary>
    public string Url { get; private set; } = "";

    public async Task StartAsync(CancellationToken cancel = default)
    {
        await _app.StartAsync(cancel);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Url = addresses.First();
    }

    public Task WaitForShutdownAsync(CancellationToken cancel = default) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancel);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _scheduler.Dispose();
    }

    /// <summary>API key check, and the one place unexpected errors become a 500 instead of a dropped connection.</summary>
    private async Task Guard(HttpContext http, Func<Task> next)
    {
        if (_options.ApiKey is { } key && http.Request.Path.StartsWithSegments("/v1") && !BearerToken.Matches(http.Request.Headers.Authorization, key))
        {
            http.Response.Headers.WWWAuthenticate = BearerToken.Challenge(http.Request.Headers.Authorization);
            await new ApiError(401, "invalid or missing API key (send Authorization: Bearer KEY)", type: "invalid_request_error", code: "invalid_api_key").WriteAsync(http);
            return;
        }
        try
        {
            await next();
        }
        catch (ApiError e)
        {
            await e.WriteAsync(http);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away (a cancelled read or write, a reset connection); its slot was freed by the scheduler.
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _internalErrors);
            _recentInternalErrors.Enqueue($"{http.Request.Method} {http.Request.Path}: {e}");
            while (_recentInternalErrors.Count > 16) _recentInternalErrors.TryDequeue(out _);
            if (http.Response.HasStarted) http.Abort(); // cut off mid-answer: a stream without its end says so (RFC 9112 §7.1)
            else await new ApiError(500, $"internal error: {e.Message}", type: "server_error").WriteAsync(http);
        }
    }

    private async Task Complete(HttpContext http, bool chat)
    {
        var doc = await JsonBody.ReadAsync(http, _options);
        OpenAiRequest req;
        using (doc) req = OpenAiRequest.Parse(doc.RootElement, chat, _options);
        if (req.Model is { } m && m != _options.ModelId)
            throw new ApiError(404, $"the model '{m}' does not exist (this server serves '{_options.ModelId}')", "model", code: "model_not_found");

        int[] prompt;
        try
        {
            prompt = chat
                ? (_chatPrompt ?? throw ApiError.BadRequest("this model has no chat template; start the server with --chat-template NAME|FILE", "messages"))(req.Messages!)
                : req.PromptTokens ?? _tokenizer.Encode(req.Prompt!, _tokenizer.Spec.AddBos);
        }
        catch (ArgumentException e)
        {
            throw ApiError.BadRequest(e.Message, chat ? "messages" : "prompt");
        }
        if (req.PromptTokens?.FirstOrDefault(t => t >= _model.Config.VocabSize, -1) is >= 0 and var outside)
            throw ApiError.BadRequest($"'prompt' token id {outside} is outside the vocabulary of {_model.Config.VocabSize}", "prompt");
        if (prompt.Length >= _scheduler.ContextSize)
            throw ApiError.BadRequest($"the prompt has {prompt.Length} tokens; the context holds {_scheduler.ContextSize} (prompt and completion together)",
                chat ? "messages" : "prompt");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(_options.RequestTimeout);
        GenerationStream stream;
        try
        {
            // A chat answer ends at the template's end-of-turn token as well as at EOS (unless ignore_eos).
            var generation = chat && req.Options.StopAtEos ? req.Options with { StopTokens = _endOfTurn } : req.Options;
            stream = _scheduler.Submit(prompt, generation, timeout.Token);
        }
        catch (QueueFullException e)
        {
            http.Response.Headers.RetryAfter = "1";
            throw new ApiError(429, e.Message, type: "rate_limit_error", code: "queue_full");
        }
        catch (ArgumentException e)
        {
            throw ApiError.BadRequest(e.Message);
        }

        var id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        try
        {
            if (req.Stream) await StreamResponse(http, stream, req, chat, id, created);
            else await JsonResponse(http, stream, req, chat, id, created);
        }
        finally
        {
            // However the answer ended, the generation ends with it (a no-op once it has finished).
            timeout.Cancel();
        }
    }

    private async Task JsonResponse(HttpContext http, GenerationStream stream, OpenAiRequest req, bool chat, string id, long created)
    {
        var text = new StringBuilder();
        var logprobs = new List<TokenLogprob>();
        await foreach (var c in stream.ReadAllAsync(http.RequestAborted))
        {
            text.Append(c.Text);
            if (c.Logprob != null) logprobs.Add(c.Logprob);
        }
        var stats = await stream.Completion;
        object choice = chat
            ? new { index = 0, message = new { role = "assistant", content = text.ToString() }, logprobs = req.Options.Logprobs ? ChatLogprobs(logprobs) : null, finish_reason = FinishReason(stats) }
            : new { index = 0, text = text.ToString(), logprobs = req.Options.Logprobs ? CompletionLogprobs(logprobs) : null, finish_reason = FinishReason(stats) };
        await http.Response.WriteAsJsonAsync(new
        {
            id, @object = chat ? "chat.completion" : "text_completion", created, model = _options.ModelId,
            choices = new[] { choice }, usage = Usage(stats),
        });
    }

    private async Task StreamResponse(HttpContext http, GenerationStream stream, OpenAiRequest req, bool chat, string id, long created)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var kind = chat ? "chat.completion.chunk" : "text_completion";
        async Task Send(object payload)
        {
            await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(payload) + "\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
        object Chunk(object choice) => new { id, @object = kind, created, model = _options.ModelId, choices = new[] { choice } };
        if (chat) await Send(Chunk(new { index = 0, delta = new { role = "assistant", content = "" }, logprobs = (object?)null, finish_reason = (string?)null }));
        await foreach (var c in stream.ReadAllAsync(http.RequestAborted))
        {
            if (c.Text.Length == 0 && c.Logprob == null) continue;
            var lp = c.Logprob is { } l ? (chat ? ChatLogprobs([l]) : CompletionLogprobs([l])) : null;
            await Send(Chunk(chat
                ? new { index = 0, delta = new { content = c.Text }, logprobs = lp, finish_reason = (string?)null }
                : new { index = 0, text = c.Text, logprobs = lp, finish_reason = (string?)null }));
        }
        var stats = await stream.Completion;
        await Send(Chunk(chat
            ? new { index = 0, delta = new { }, logprobs = (object?)null, finish_reason = FinishReason(stats) }
            : new { index = 0, text = "", logprobs = (object?)null, finish_reason = FinishReason(stats) }));
        if (req.IncludeUsage)
            await Send(new { id, @object = kind, created, model = _options.ModelId, choices = Array.Empty<object>(), usage = Usage(stats) });
        await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
    }

    private static object Usage(GenerationStats s) =>
        new { prompt_tokens = s.PromptTokens, completion_tokens = s.GeneratedTokens, total_tokens = s.PromptTokens + s.GeneratedTokens };

    /// <summary>OpenAI's finish_reason: "stop" for end-of-sequence and stop strings, "length" for max_tokens, a full context or the timeout.</summary>
    private static string FinishReason(GenerationStats s) => s.StopReason switch
    {
        StopReason.EndOfSequence or StopReason.StopString => "stop",
        _ => "length",
    };

    private string TokenText(int id) => Encoding.UTF8.GetString(_tokenizer.TokenBytes(id, renderSpecial: true));

    private object ChatLogprobs(IEnumerable<TokenLogprob> tokens) => new
    {
        content = tokens.Select(t => new
        {
            token = TokenText(t.TokenId), logprob = t.Logprob, bytes = _tokenizer.TokenBytes(t.TokenId, renderSpecial: true).ToArray().Select(b => (int)b),
            top_logprobs = t.Top.Select(a => new { token = TokenText(a.TokenId), logprob = a.Logprob, bytes = _tokenizer.TokenBytes(a.TokenId, renderSpecial: true).ToArray().Select(b => (int)b) }),
        }),
    };

    private object CompletionLogprobs(IReadOnlyList<TokenLogprob> tokens) => new
    {
        tokens = tokens.Select(t => TokenText(t.TokenId)),
        token_logprobs = tokens.Select(t => t.Logprob),
        top_logprobs = tokens.Select(t => t.Top.GroupBy(a => TokenText(a.TokenId)).ToDictionary(g => g.Key, g => g.First().Logprob)),
    };
}
