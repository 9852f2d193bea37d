using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using AwqRuntime.Server;

namespace AwqRuntime.Cli.Soak;

/// <summary>
/// `awq bench-serve --soak SECONDS`: our server on 127.0.0.1 with one slot per client, and that many
/// streaming clients sending request after request (greedy, end-of-sequence ignored, so each gets
/// exactly the asked-for tokens) for the whole time. Every request's latency goes to a
/// <see cref="SoakRecorder"/>; the process's RSS is sampled once a second. The server runs in this
/// process, so RSS counts the clients too (a few MiB, flat); memory that grows with time is what to look for.
/// </summary>
internal static class ServeSoak
{
    public static async Task<SoakReport> RunAsync(AwqModel m, int clients, int[][] prompts, int gen, TimeSpan duration, TimeSpan window,
        int threads, Action<LatencyWindow>? progress, CancellationToken cancel)
    {
        await using var server = new AwqServer(m.Model, m.Tokenizer, new ServerOptions
        {
            Port = 0, Parallel = clients, ContextSize = prompts.Max(x => x.Length) + gen + 8, MaxQueue = clients, ModelId = "soak",
        });
        await server.StartAsync(cancel);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(5) };

        // Warm-up: every client once, so first-touch costs (JIT, pages, connections) stay out of the first window.
        await Task.WhenAll(Enumerable.Range(0, clients).Select(k => OneRequest(http, prompts[k % prompts.Length], gen, null, cancel)));
        var managedStart = ProcessMemory.ManagedBytesAfterFullCollection();
        var rssStart = ProcessMemory.RssBytes();

        var windows = (int)Math.Ceiling(duration.TotalSeconds / window.TotalSeconds);
        var recorder = new SoakRecorder(window.TotalSeconds, windows, progress);
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var sampler = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await tick.WaitForNextTickAsync(stop.Token)) recorder.Memory(clock.Elapsed.TotalSeconds, ProcessMemory.RssBytes(), ProcessMemory.GcCommittedBytes());
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);

        async Task Client(int k)
        {
            for (var r = 0; clock.Elapsed < duration && !cancel.IsCancellationRequested; r++)
            {
                var start = clock.Elapsed.TotalSeconds;
                var (tokens, firstEvent) = await OneRequest(http, prompts[(k + r * clients) % prompts.Length], gen, clock, cancel);
                var end = clock.Elapsed.TotalSeconds;
                recorder.Request(end, end - start, firstEvent - start, tokens, ok: tokens == gen);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, clients).Select(Client));
        var seconds = clock.Elapsed.TotalSeconds;
        recorder.Memory(seconds, ProcessMemory.RssBytes(), ProcessMemory.GcCommittedBytes());
        await stop.CancelAsync();
        await sampler;
        // The recorder's open windows (latency lists) are dropped first, so the managed heap at the end is the server's and the clients'.
        var windowSummaries = recorder.Finish();
        var managedEnd = ProcessMemory.ManagedBytesAfterFullCollection();
        var rssEnd = ProcessMemory.RssBytes();
        return new SoakReport(clients, prompts[0].Length, gen, seconds, threads, windowSummaries, rssStart, rssEnd, managedStart, managedEnd);
    }

    /// <summary>One streaming completion: the tokens its usage reports (0 when it failed), and when its first event arrived on <paramref name="clock"/>.</summary>
    private static async Task<(int Tokens, double? FirstEvent)> OneRequest(HttpClient http, int[] prompt, int gen, Stopwatch? clock, CancellationToken cancel)
    {
        try
        {
            var body = JsonContent.Create(new { prompt, max_tokens = gen, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } });
            using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = body };
            using var res = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cancel);
            if (!res.IsSuccessStatusCode) return (0, null);
            using var reader = new StreamReader(await res.Content.ReadAsStreamAsync(cancel));
            var tokens = 0;
            double? first = null;
            while (await reader.ReadLineAsync(cancel) is { } line)
            {
                if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
                first ??= clock?.Elapsed.TotalSeconds;
                using var doc = JsonDocument.Parse(line.AsMemory("data: ".Length));
                if (doc.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) tokens = u.GetProperty("completion_tokens").GetInt32();
            }
            return (tokens, first);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException && !cancel.IsCancellationRequested)
        {
            return (0, null);
        }
    }
}
