using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AwqRuntime.Cli.Soak;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Server;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>
/// `awq bench-serve MODEL --vs F.gguf`: serving throughput under continuous batching. For each client
/// count N: our server with N slots and N concurrent streaming clients over HTTP (greedy, distinct
/// prompts, end-of-sequence ignored so every client gets exactly --gen tokens), against llama.cpp's
/// batched decode (LLamaSharp's BatchedExecutor) on the GGUF with the same N, prompts and threads, in
/// the same run. Aggregate completion tokens/s = N·gen / wall time from the first request to the last token.
/// With --soak SECONDS: the largest N's clients send request after request for that long instead
/// (<see cref="ServeSoak"/>), reporting latency per window, the first window against the last, and RSS.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var vs = new Option<string?>("--vs") { Description = "GGUF file for llama.cpp's batched decode in the same run (e.g. the model's Q4_0)" };
        var clients = new Option<string>("--clients") { Description = "Concurrent clients, comma-separated", DefaultValueFactory = _ => "1,4,16" };
        var gen = new Option<int>("--gen") { Description = "Completion tokens per client", DefaultValueFactory = _ => 64 };
        var promptTokens = new Option<int>("--prompt") { Description = "Prompt tokens per client", DefaultValueFactory = _ => 16 };
        var soak = new Option<int>("--soak") { Description = "Seconds of continuous load by the largest --clients count (latency first vs last window, RSS); 0 = off", DefaultValueFactory = _ => 0 };
        var soakWindow = new Option<int>("--soak-window") { Description = "Seconds per latency window of --soak", DefaultValueFactory = _ => 60 };
        var runtime = new RuntimeChoices();
        var threads = CliOptions.Threads();
        var json = CliOptions.Json();
        var cmd = new Command("bench-serve", "Throughput of `awq serve` with N concurrent streaming clients, against llama.cpp's batched decode")
        {
            model, tokenizer, vs, clients, gen, promptTokens, soak, soakWindow, runtime.Classifier, runtime.Kernel, runtime.Device, threads, json,
        };
        cmd.SetAction((parse, cancel) => CliErrors.RunAsync(async () =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            var nThreads = parse.GetValue(threads) is > 0 and var t ? t : Environment.ProcessorCount;
            var counts = parse.GetValue(clients)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.TryParse(s, out var n) && n is > 0 and <= 256 ? n : throw new ArgumentException($"--clients: '{s}' is not a count of 1..256")).ToArray();
            var g = parse.GetValue(gen);
            var p = parse.GetValue(promptTokens);
            if (g < 1 || p < 1) throw new ArgumentException("--gen and --prompt must be positive");
            var gguf = parse.GetValue(vs);
            if (gguf != null && !File.Exists(gguf)) throw new FileNotFoundException($"{gguf}: GGUF file not found", gguf);
            var soakSeconds = CliOptions.InRange(parse.GetValue(soak), "--soak", 0, meaning: "0 = off");
            var windowSeconds = CliOptions.InRange(parse.GetValue(soakWindow), "--soak-window", 1);
            if (soakSeconds > 0 && gguf != null) throw new ArgumentException("--soak runs our server alone; leave out --vs");
            if (soakSeconds > 0 && windowSeconds > soakSeconds) throw new ArgumentException($"--soak-window {windowSeconds} is longer than --soak {soakSeconds}");
            using var m = AwqModel.Load(parse.GetValue(model)!, parse.GetValue(tokenizer));
            runtime.Apply(parse, m);
            var rng = new Random(1234);
            var vocab = m.Config.VocabSize;
            var prompts = Enumerable.Range(0, Math.Max(counts.Max(), soakSeconds > 0 ? 64 : 0))
                .Select(_ => new[] { m.Tokenizer.Spec.BosId }.Concat(Enumerable.Range(0, p - 1).Select(_ => rng.Next(3, vocab))).ToArray()).ToArray();
            if (soakSeconds > 0)
                return await Soak(parse.GetValue(model)!, m, counts.Max(), prompts, g, soakSeconds, windowSeconds, nThreads, parse.GetValue(json), cancel);
            var rows = new List<(int N, double Ours, double? LlamaCpp)>();
            foreach (var n in counts)
            {
                var ours = await Ours(m, prompts[..n], g, cancel);
                double? theirs = gguf != null ? LlamaCppBatchedDecode.Run(gguf, prompts[..n], g, nThreads).AggregateTokensPerSecond : null;
                rows.Add((n, ours, theirs));
                if (!parse.GetValue(json))
                {
                    var vsText = theirs is { } x ? FormattableString.Invariant($", llama.cpp {x,8:F1} tok/s ({ours / x:F2}x)") : "";
                    Console.Error.WriteLine(FormattableString.Invariant($"{n,3} clients: ours {ours,8:F1} tok/s") + vsText);
                }
            }
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(new
                {
                    model = parse.GetValue(model), gguf, threads = nThreads, gen = g, prompt = p,
                    rows = rows.Select(r => new { clients = r.N, ours_tokens_per_second = r.Ours, llamacpp_tokens_per_second = r.LlamaCpp }),
                });
                return 0;
            }
            var table = new Table().Title(Markup.Escape($"aggregate completion tokens/s, {nThreads} threads, {p} prompt + {g} generated tokens per client"))
                .AddColumn("clients").AddColumn(new TableColumn("ours").RightAligned()).AddColumn(new TableColumn("llama.cpp").RightAligned())
                .AddColumn(new TableColumn("ours / llama.cpp").RightAligned()).AddColumn(new TableColumn("ours vs 1 client").RightAligned());
            foreach (var r in rows)
                table.AddRow(r.N.ToString(CultureInfo.InvariantCulture), r.Ours.ToString("F1", CultureInfo.InvariantCulture),
                    r.LlamaCpp?.ToString("F1", CultureInfo.InvariantCulture) ?? "—",
                    r.LlamaCpp is { } l ? (r.Ours / l).ToString("F2", CultureInfo.InvariantCulture) + "x" : "—",
                    (r.Ours / rows[0].Ours).ToString("F2", CultureInfo.InvariantCulture) + "x");
            CliOptions.Status.Write(table);
            return 0;
        }));
        return cmd;
    }

    private static async Task<int> Soak(string modelPath, AwqModel m, int clients, int[][] prompts, int gen, int seconds, int window, int threads, bool json, CancellationToken cancel)
    {
        var windows = (seconds + window - 1) / window;
        Console.Error.WriteLine(FormattableString.Invariant($"soak: {clients} streaming clients for {seconds} s, {prompts[0].Length} prompt + {gen} generated tokens a request"));
        var report = await ServeSoak.RunAsync(m, clients, prompts, gen, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(window), threads,
            w => Console.Error.WriteLine(FormattableString.Invariant(
                $"window {w.Index + 1}/{windows}: {w.Requests} requests ({w.Failed} failed), p50 {w.LatencyP50Ms:F1} ms, p99 {w.LatencyP99Ms:F1} ms, {w.TokensPerSecond:F0} tok/s, RSS peak {w.RssPeakBytes / 1048576.0:F1} MiB")),
            cancel);
        if (json) CliOptions.PrintJson(report.Json(modelPath));
        else foreach (var line in report.Lines()) Console.Error.WriteLine(line);
        return report.Failed == 0 ? 0 : 1;
    }

    /// <summary>N streaming HTTP clients against a fresh server with N slots; aggregate completion tokens/s.</summary>
    private static async Task<double> Ours(AwqModel m, int[][] prompts, int gen, CancellationToken cancel)
    {
        var n = prompts.Length;
        await using var server = new AwqServer(m.Model, m.Tokenizer, new ServerOptions
        {
            Port = 0, Parallel = n, ContextSize = prompts.Max(x => x.Length) + gen + 8, MaxQueue = n, ModelId = "bench",
        });
        await server.StartAsync(cancel);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(30) };
        async Task<int> Client(int[] prompt)
        {
            var body = JsonContent.Create(new { prompt, max_tokens = gen, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } });
            using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = body };
            using var res = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cancel);
            res.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await res.Content.ReadAsStreamAsync(cancel));
            var tokens = 0;
            while (await reader.ReadLineAsync(cancel) is { } line)
            {
                if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
                using var doc = JsonDocument.Parse(line["data: ".Length..]);
                if (doc.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) tokens = u.GetProperty("completion_tokens").GetInt32();
            }
            return tokens;
        }
        await Client(prompts[0]); // warm-up: first-touch of the weights and the server's code paths
        var clock = Stopwatch.StartNew();
        var counts = await Task.WhenAll(prompts.Select(Client));
        var seconds = clock.Elapsed.TotalSeconds;
        if (counts.Any(c => c != gen)) throw new InvalidOperationException($"a client got {counts.Min()} tokens instead of {gen}");
        return counts.Sum() / seconds;
    }
}
