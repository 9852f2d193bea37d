using System.Text.Json;
using AwqRuntime.Cli.Soak;
using AwqRuntime.Tests.Acceptance;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// `awq bench-serve --soak`: the windowing and percentiles of its summary on made-up requests, and a
/// three-second soak through the CLI (the ten-minute one is a measurement, not a test).
/// </summary>
public class ServeSoakTests
{
    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var hundred = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
        Assert.Equal(50, LatencyWindow.Percentile(hundred, 50));
        Assert.Equal(99, LatencyWindow.Percentile(hundred, 99));
        Assert.Equal(100, LatencyWindow.Percentile(hundred, 100));
        Assert.Equal(1, LatencyWindow.Percentile(hundred, 0));
        Assert.Equal(7, LatencyWindow.Percentile([7.0], 99));
        Assert.True(double.IsNaN(LatencyWindow.Percentile([], 50)));
        // Ten values: p99 is the largest, p50 the fifth.
        var ten = Enumerable.Range(1, 10).Select(i => i * 10.0).ToList();
        Assert.Equal(100, LatencyWindow.Percentile(ten, 99));
        Assert.Equal(50, LatencyWindow.Percentile(ten, 50));
    }

    [Fact]
    public void Requests_fall_into_windows_by_completion_the_drain_counts_in_the_last_and_windows_close_two_behind()
    {
        var closed = new List<int>();
        var r = new SoakRecorder(windowSeconds: 10, windows: 3, w => closed.Add(w.Index));
        for (var i = 1; i <= 100; i++) r.Request(endSeconds: i * 0.05, latencySeconds: i / 1000.0, firstEventSeconds: 0.001, tokens: 4, ok: true); // window 0: 1..100 ms
        r.Request(5, 1, null, tokens: 0, ok: false);
        r.Memory(3, 100 << 20);
        r.Memory(9, 90 << 20);
        r.Request(15, 0.2, 0.002, 4, ok: true); // window 1
        Assert.Empty(closed);
        r.Request(25, 0.3, 0.003, 4, ok: true); // window 2 closes window 0
        Assert.Equal([0], closed);
        r.Request(31, 0.4, 0.004, 4, ok: true); // after the end: the drain, in window 2
        var windows = r.Finish();

        Assert.Equal([0, 1, 2], windows.Select(w => w.Index));
        Assert.Equal([0, 1, 2], closed);
        var first = windows[0];
        Assert.Equal((101, 1, 400L), (first.Requests, first.Failed, first.Tokens));
        Assert.Equal((50.0, 99.0, 100.0), (first.LatencyP50Ms, first.LatencyP99Ms, first.LatencyMaxMs));
        Assert.Equal(1, first.FirstEventP50Ms, 9);
        Assert.Equal((100L << 20, 90L << 20), (first.RssPeakBytes, first.RssLastBytes));
        Assert.Equal(40, first.TokensPerSecond, 9);
        Assert.Equal(2, windows[2].Requests);
        Assert.Equal(400, windows[2].LatencyMaxMs, 9);
        Assert.Equal(20, windows[2].StartSeconds);
    }

    [Fact]
    public void A_window_with_nothing_in_it_is_reported_empty()
    {
        var r = new SoakRecorder(1, 3);
        r.Request(0.5, 0.1, null, 1, true);
        r.Request(2.5, 0.1, null, 1, true);
        var windows = r.Finish();
        Assert.Equal(3, windows.Count);
        Assert.Equal(0, windows[1].Requests);
        Assert.True(double.IsNaN(windows[1].LatencyP50Ms));
    }

    [Fact]
    public void The_report_compares_the_first_window_with_the_last_and_takes_the_rss_peak_over_all_samples()
    {
        LatencyWindow W(int i, double p50, long rss) => new(i, i * 60, 60, 100, 0, 6400, p50, p50 * 2, p50 * 3, 1, rss, rss, rss / 2);
        var report = new SoakReport(16, 16, 64, 180, 2, [W(0, 10, 200 << 20), W(1, 11, 260 << 20), W(2, 12, 210 << 20)], 150 << 20, 205 << 20, 4 << 20, 4 << 20);
        Assert.Equal(300, report.Requests);
        Assert.Equal(19200 / 180.0, report.TokensPerSecond, 9);
        Assert.Equal(260L << 20, report.RssPeakBytes);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report.Json("m")));
        Assert.Equal(1.2, json.RootElement.GetProperty("latency_p50_growth").GetDouble(), 9);
        Assert.Equal(150, json.RootElement.GetProperty("rss_start_mib").GetDouble());
        Assert.Equal(260, json.RootElement.GetProperty("rss_peak_mib").GetDouble());
        Assert.Equal(3, json.RootElement.GetProperty("windows").GetArrayLength());
        Assert.Contains(report.Lines(), l => l.StartsWith("latency, last 60 s:  p50 12.0 ms, p99 24.0 ms", StringComparison.Ordinal));
    }

    [Fact]
    public void A_three_second_soak_of_four_streaming_clients_reports_every_window_without_failures()
    {
        var r = AwqCli.Run(TimeSpan.FromMinutes(2), "bench-serve", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512,
            "--clients", "4", "--gen", "16", "--soak", "3", "--soak-window", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(4, root.GetProperty("clients").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.True(root.GetProperty("requests").GetInt32() > 4, r.Stdout);
        Assert.Equal(3, root.GetProperty("windows").GetArrayLength());
        Assert.Equal(16 * root.GetProperty("requests").GetInt64(), root.GetProperty("tokens").GetInt64());
        foreach (var key in new[] { "rss_start_mib", "rss_peak_mib", "rss_end_mib", "tokens_per_second" })
            Assert.True(root.GetProperty(key).GetDouble() > 0, key);
        Assert.True(root.GetProperty("first_window").GetProperty("latency_p99_ms").GetDouble() >= root.GetProperty("first_window").GetProperty("latency_p50_ms").GetDouble());
        Assert.Contains("window 3/3:", r.Stderr);
    }

    [Theory]
    [InlineData("--soak-window 5 is longer than --soak 2", "--soak", "2", "--soak-window", "5")]
    [InlineData("--soak must be ≥ 0", "--soak", "-1")]
    [InlineData("--soak runs our server alone; leave out --vs", "--soak", "2", "--vs", "GGUF")]
    public void Soak_options_out_of_range_are_one_line_errors(string message, params string[] options) =>
        AwqCli.FailWithOneLine(message, ["bench-serve", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512,
            .. options.Select(o => o == "GGUF" ? SharedData.Stories260KGguf : o)]);
}
