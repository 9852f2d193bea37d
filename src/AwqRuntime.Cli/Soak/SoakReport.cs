using System.Globalization;

namespace AwqRuntime.Cli.Soak;

/// <summary>
/// What a soak found: per-window latency and throughput, the first window against the last (growth in
/// latency means something accumulates per request), and resident memory at the start (after warm-up
/// and a full collection), its peak, and at the end (after a full collection), with the managed heap
/// at both ends (growth there is a leak of objects; growth only in RSS, native memory or fragmentation).
/// </summary>
internal sealed record SoakReport(
    int Clients, int PromptTokens, int GenTokens, double Seconds, int Threads, IReadOnlyList<LatencyWindow> Windows,
    long RssStartBytes, long RssEndBytes, long ManagedStartBytes, long ManagedEndBytes)
{
    public int Requests => Windows.Sum(w => w.Requests);
    public int Failed => Windows.Sum(w => w.Failed);
    public long Tokens => Windows.Sum(w => w.Tokens);
    public double TokensPerSecond => Tokens / Seconds;
    public LatencyWindow First => Windows[0];
    public LatencyWindow Last => Windows[^1];
    public long RssPeakBytes => Math.Max(Math.Max(RssStartBytes, RssEndBytes), Windows.Max(w => w.RssPeakBytes));

    private static double MiB(long bytes) => Math.Round(bytes / 1048576.0, 1);

    private static object Window(LatencyWindow w) => new
    {
        index = w.Index, start_s = w.StartSeconds, requests = w.Requests, failed = w.Failed, tokens_per_second = Math.Round(w.TokensPerSecond, 1),
        latency_p50_ms = Math.Round(w.LatencyP50Ms, 2), latency_p99_ms = Math.Round(w.LatencyP99Ms, 2), latency_max_ms = Math.Round(w.LatencyMaxMs, 2),
        first_event_p50_ms = Math.Round(w.FirstEventP50Ms, 2), rss_peak_mib = MiB(w.RssPeakBytes), rss_last_mib = MiB(w.RssLastBytes),
        gc_committed_last_mib = MiB(w.GcCommittedLastBytes),
    };

    /// <summary>The report as `--json` prints it.</summary>
    public object Json(string model) => new
    {
        model, soak_seconds = Seconds, window_seconds = First.Seconds, clients = Clients, prompt = PromptTokens, gen = GenTokens, threads = Threads,
        requests = Requests, failed = Failed, tokens = Tokens, tokens_per_second = Math.Round(TokensPerSecond, 1),
        first_window = Window(First), last_window = Window(Last),
        latency_p50_growth = Math.Round(Last.LatencyP50Ms / First.LatencyP50Ms, 3), latency_p99_growth = Math.Round(Last.LatencyP99Ms / First.LatencyP99Ms, 3),
        rss_start_mib = MiB(RssStartBytes), rss_peak_mib = MiB(RssPeakBytes), rss_end_mib = MiB(RssEndBytes),
        managed_start_mib = MiB(ManagedStartBytes), managed_end_mib = MiB(ManagedEndBytes),
        windows = Windows.Select(Window),
    };

    /// <summary>The report as text, one fact a line.</summary>
    public IEnumerable<string> Lines()
    {
        static string Ms(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        yield return FormattableString.Invariant($"soak: {Seconds:F0} s, {Clients} streaming clients, {PromptTokens} prompt + {GenTokens} generated tokens a request, {Threads} threads");
        yield return FormattableString.Invariant($"requests: {Requests} ({Failed} failed), {Tokens} tokens, {TokensPerSecond:F1} tokens/s");
        yield return FormattableString.Invariant($"latency, first {First.Seconds:0.#} s: p50 {Ms(First.LatencyP50Ms)} ms, p99 {Ms(First.LatencyP99Ms)} ms ({First.Requests} requests)");
        yield return FormattableString.Invariant($"latency, last {Last.Seconds:0.#} s:  p50 {Ms(Last.LatencyP50Ms)} ms, p99 {Ms(Last.LatencyP99Ms)} ms ({Last.Requests} requests)");
        yield return FormattableString.Invariant($"RSS: start {MiB(RssStartBytes)} MiB, peak {MiB(RssPeakBytes)} MiB, end {MiB(RssEndBytes)} MiB; managed heap {MiB(ManagedStartBytes)} → {MiB(ManagedEndBytes)} MiB");
    }
}
