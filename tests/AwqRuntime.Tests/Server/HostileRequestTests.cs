using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// More than a thousand malformed or hostile requests against the server (<see cref="HostileRequests"/>),
/// slow clients alongside: every answer is a 4xx in OpenAI's error JSON naming the field (Kestrel's own
/// refusals of broken HTTP excepted, which have no body), nothing is a 5xx, the server never fails
/// internally, every slot is free afterwards, and a greedy request answers as it did before.
/// </summary>
// Slow clients are timed against the server's limits: run alone, after the parallel tests, so a starved thread pool cannot stretch them.
[Collection(AwqRuntime.Tests.Generation.TimingSensitiveCollection.Name)]
public class HostileRequestTests(HostileServer f, ITestOutputHelper output) : IClassFixture<HostileServer>
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_thousand_hostile_requests_get_4xx_error_json_crash_nothing_and_leak_no_slot()
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 16,
            // Below the server's 3 s idle timeout: a pooled connection is never reused just as the server closes it.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
        }) { BaseAddress = f.Url, Timeout = CaseTimeout };
        var before = await Greedy(http);

        var cases = HostileRequests.All();
        Assert.True(cases.Count >= 1000, $"only {cases.Count} cases");
        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<(string Category, string Status), int>();
        var slow = SlowClients.RunAsync(f.Url, each: 3);
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, _) =>
        {
            try
            {
                var answer = c switch
                {
                    HttpCase h => await SendAsync(http, h),
                    RawCase r => await SendAsync(r),
                    _ => throw new InvalidOperationException(c.GetType().Name),
                };
                statuses.AddOrUpdate((c.Category, answer?.Status.ToString() ?? "-"), 1, (_, n) => n + 1);
                if (Problem(c, answer) is { } problem) failures.Enqueue($"[{c.Category}] {c.Name}: {problem}");
            }
            catch (Exception e)
            {
                failures.Enqueue($"[{c.Category}] {c.Name}: {e.GetType().Name}: {e.Message}");
            }
        });
        var slowResults = await slow;
        foreach (var r in slowResults)
            if (SlowProblem(r) is { } problem) failures.Enqueue($"[slow clients] {r.Kind}: {problem}");

        var counts = cases.GroupBy(c => c.Category).Select(g => (Category: g.Key, Count: g.Count())).Append((Category: "slow clients", Count: slowResults.Length)).ToList();
        foreach (var (category, count) in counts)
            output.WriteLine($"{count,5}  {category,-28} " + string.Join(" ", statuses.Where(s => s.Key.Category == category).OrderBy(s => s.Key.Status).Select(s => $"{s.Key.Status}×{s.Value}")));
        output.WriteLine($"{counts.Sum(c => c.Count),5}  in all, {failures.Count} failed, barrage {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("slow clients held: " + string.Join(", ", slowResults.Select(r => $"{r.Kind} {r.Held.TotalSeconds:F1} s{(r.Answer is { } a ? $" ({a.Status})" : "")}")));
        foreach (var failure in failures) output.WriteLine(failure);
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} hostile requests were mishandled:\n" + string.Join("\n", failures.Take(40)));

        await NoSlotLeft(http);
        Assert.True(f.Server.InternalErrors == 0, $"{f.Server.InternalErrors} internal errors:\n" + string.Join("\n", f.Server.RecentInternalErrors));
        Assert.Equal(before, await Greedy(http));
        output.WriteLine($"total {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>A greedy completion, the same before and after the barrage.</summary>
    private static async Task<string> Greedy(HttpClient http)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, HostileRequests.Completions)
        {
            Content = new StringContent("""{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0}""", Encoding.UTF8, "application/json"),
        };
        req.Headers.TryAddWithoutValidation("Authorization", HttpCase.ValidAuth);
        using var res = await http.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    /// <summary>Waits until no request is decoding, queued or counted in flight, in the scheduler and in /health.</summary>
    private async Task NoSlotLeft(HttpClient http)
    {
        var s = f.Server.Scheduler;
        var deadline = Stopwatch.StartNew();
        while ((s.Active, s.Queued, s.InFlight) != (0, 0, 0) && deadline.Elapsed < TimeSpan.FromSeconds(15)) await Task.Delay(50);
        Assert.True((s.Active, s.Queued, s.InFlight) == (0, 0, 0), $"slots leaked: {s.Active} active, {s.Queued} queued, {s.InFlight} in flight");
        var health = JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement;
        Assert.Equal(0, health.GetProperty("active").GetInt32());
        Assert.Equal(0, health.GetProperty("queued").GetInt32());
    }

    private static async Task<RawHttp.Response?> SendAsync(HttpClient http, HttpCase c)
    {
        using var req = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
        if (c.Body.Length > 0 || c.Method != "GET")
        {
            req.Content = c.Chunked ? new StreamContent(new MemoryStream(c.Body)) : new ByteArrayContent(c.Body);
            if (c.ContentType != null) req.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        }
        if (c.Auth != null) req.Headers.TryAddWithoutValidation("Authorization", c.Auth);
        HttpResponseMessage res;
        try
        {
            res = await http.SendAsync(req);
        }
        catch (HttpRequestException) when (c.Body.Length > HostileServer.BodyLimit)
        {
            // The server answered 413 and closed while the client was still sending; the client may see the reset instead.
            return null;
        }
        using (res)
        {
            var headers = res.Headers.Concat(res.Content.Headers).ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(", ", h.Value));
            return new RawHttp.Response((int)res.StatusCode, headers, await res.Content.ReadAsByteArrayAsync());
        }
    }

    private async Task<RawHttp.Response?> SendAsync(RawCase c)
    {
        using var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(CaseTimeout);
        await tcp.ConnectAsync(f.Url.Host, f.Url.Port, cts.Token);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(c.Bytes, cts.Token);
        }
        catch (IOException)
        {
            // Closed by the server while the request was still being written; its answer may still be there.
        }
        switch (c.Mode)
        {
            case RawMode.Close:
                return null;
            case RawMode.Reset:
                tcp.Client.LingerState = new LingerOption(true, 0);
                return null;
            case RawMode.CloseAfterFirstBytes or RawMode.ResetAfterFirstBytes:
                try
                {
                    _ = await stream.ReadAsync(new byte[256], cts.Token); // the first bytes, however many: then hang up
                }
                catch (IOException)
                {
                }
                if (c.Mode == RawMode.ResetAfterFirstBytes) tcp.Client.LingerState = new LingerOption(true, 0);
                return null;
            case RawMode.HalfCloseThenRead:
                try
                {
                    tcp.Client.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                }
                break;
        }
        var head = Encoding.ASCII.GetString(c.Bytes, 0, Math.Min(5, c.Bytes.Length)) == "HEAD ";
        return await RawHttp.ReadResponseAsync(stream, cts.Token, head);
    }

    /// <summary>What is wrong with <paramref name="answer"/> to <paramref name="c"/>, or null.</summary>
    internal static string? Problem(HostileCase c, RawHttp.Response? answer)
    {
        var e = c.Expect;
        if (answer == null) return e.NoAnswerOk ? null : "no answer (the connection closed)";
        var body = answer.Text.Length > 300 ? answer.Text[..300] + "…" : answer.Text;
        // A 5xx only where the RFC makes it the answer (505 to an HTTP version Kestrel does not speak, RFC 9110 §15.6.6).
        if (!e.Statuses.Contains(answer.Status)) return $"{answer.Status} instead of {string.Join("/", e.Statuses)}: {body}";
        if (answer.Status < 400) return null;
        if (answer.Status == 401 && answer.Header("WWW-Authenticate")?.StartsWith("Bearer", StringComparison.Ordinal) != true)
            return "401 without WWW-Authenticate: Bearer (RFC 9110 §15.5.2)";
        if (answer.Status == 405 && answer.Header("Allow") is not { Length: > 0 } && !e.EmptyBodyOk)
            return "405 without Allow (RFC 9110 §15.5.6)";
        if (answer.Body.Length == 0)
            return e.EmptyBodyOk || c is RawCase { Bytes: [(byte)'H', (byte)'E', (byte)'A', (byte)'D', ..] } ? null : $"{answer.Status} with an empty body";
        if (answer.Header("Content-Type")?.StartsWith("application/json", StringComparison.Ordinal) != true)
            return $"{answer.Status} as {answer.Header("Content-Type")}: {body}";
        JsonElement error;
        try
        {
            error = JsonDocument.Parse(answer.Body).RootElement.GetProperty("error");
        }
        catch (Exception x) when (x is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"{answer.Status} without OpenAI's error JSON: {body}";
        }
        if (error.TryGetProperty("message", out var m) is false || m.ValueKind != JsonValueKind.String || m.GetString()!.Length == 0) return $"no error.message: {body}";
        if (error.TryGetProperty("type", out var t) is false || t.ValueKind != JsonValueKind.String) return $"no error.type: {body}";
        if (e.Param != null && (!error.TryGetProperty("param", out var p) || p.ValueKind != JsonValueKind.String || p.GetString() != e.Param))
            return $"param {(error.TryGetProperty("param", out var q) ? q.ToString() : "missing")} instead of {e.Param}: {body}";
        return null;
    }

    /// <summary>
    /// A slow client must be dropped within its timeout plus a margin for Kestrel's 1 s heartbeat on a loaded
    /// box (15 s: still well inside Kestrel's own defaults of 30 s for headers and 130 s idle, so a limit
    /// that was not applied fails); an answer, if any, a 408.
    /// </summary>
    private static string? SlowProblem(SlowClients.Result r)
    {
        var limit = r.Kind switch
        {
            SlowClients.Headers => HostileServer.HeadersTimeout,
            SlowClients.Body or SlowClients.Stalled => HostileServer.BodyTimeout,
            SlowClients.Idle => HostileServer.IdleTimeout,
            _ => (TimeSpan?)null,
        };
        if (limit == null) return r.BytesRead > 0 ? null : "the slow reader got nothing";
        if (!r.ServerClosed) return $"still connected after {r.Held.TotalSeconds:F1} s";
        if (r.Held > limit + TimeSpan.FromSeconds(15)) return $"held {r.Held.TotalSeconds:F1} s (limit {limit.Value.TotalSeconds} s)";
        if (r.Answer is { } a && a.Status != 408) return $"answered {a.Status}: {a.Text}";
        if (r.Answer is { Body.Length: > 0 } b && b.Header("Content-Type")?.StartsWith("application/json", StringComparison.Ordinal) != true) return $"408 as {b.Header("Content-Type")}";
        return null;
    }
}
