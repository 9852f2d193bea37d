namespace AwqRuntime.Cli.Soak;

/// <summary>
/// Collects a soak's requests and memory samples into fixed windows by completion time (window k holds
/// [k·w, (k+1)·w); whatever completes after the last window's end, the drain, counts in the last), and
/// closes a window, keeping only its summary, once requests two windows later arrive. What it holds
/// stays bounded however long the soak runs, so the recorder itself does not grow the memory it measures.
/// Thread-safe.
/// </summary>
internal sealed class SoakRecorder(double windowSeconds, int windows, Action<LatencyWindow>? closed = null)
{
    private sealed class Open
    {
        public readonly List<double> Latencies = [];
        public readonly List<double> FirstEvents = [];
        public int Failed;
        public long Tokens;
        public long RssPeak, RssLast, GcCommittedLast;
    }

    private readonly object _lock = new();
    private readonly SortedDictionary<int, Open> _open = [];
    private readonly List<LatencyWindow> _closed = [];
    private int _firstOpen; // windows below it are closed: a straggler for one of them counts in the oldest open window

    public double WindowSeconds { get; } = windowSeconds > 0 ? windowSeconds : throw new ArgumentOutOfRangeException(nameof(windowSeconds));
    public int Windows { get; } = windows > 0 ? windows : throw new ArgumentOutOfRangeException(nameof(windows));

    private int WindowOf(double seconds) => Math.Max(_firstOpen, Math.Clamp((int)(seconds / WindowSeconds), 0, Windows - 1));

    private Open At(int index)
    {
        if (!_open.TryGetValue(index, out var w)) _open[index] = w = new Open();
        return w;
    }

    /// <summary>A request that completed <paramref name="endSeconds"/> into the soak.</summary>
    public void Request(double endSeconds, double latencySeconds, double? firstEventSeconds, int tokens, bool ok)
    {
        lock (_lock)
        {
            var index = WindowOf(endSeconds);
            var w = At(index);
            if (ok)
            {
                w.Latencies.Add(latencySeconds * 1000);
                if (firstEventSeconds is { } f) w.FirstEvents.Add(f * 1000);
            }
            else w.Failed++;
            w.Tokens += tokens;
            CloseBefore(index - 1);
        }
    }

    /// <summary>A memory sample (resident set, GC-committed heap) taken <paramref name="atSeconds"/> into the soak.</summary>
    public void Memory(double atSeconds, long rssBytes, long gcCommittedBytes = 0)
    {
        lock (_lock)
        {
            var w = At(WindowOf(atSeconds));
            w.RssPeak = Math.Max(w.RssPeak, rssBytes);
            w.RssLast = rssBytes;
            w.GcCommittedLast = gcCommittedBytes;
        }
    }

    /// <summary>Closes every window (the soak is over) and returns them all, in order, empty ones included.</summary>
    public IReadOnlyList<LatencyWindow> Finish()
    {
        lock (_lock)
        {
            CloseBefore(int.MaxValue);
            for (var i = 0; i < Windows; i++)
                if (_closed.All(c => c.Index != i)) _closed.Add(Summarize(i, new Open()));
            return _closed.OrderBy(c => c.Index).ToList();
        }
    }

    private void CloseBefore(int index)
    {
        while (_open.Count > 0 && _open.Keys.First() is var first && first < index)
        {
            var summary = Summarize(first, _open[first]);
            _open.Remove(first);
            _firstOpen = Math.Min(first + 1, Windows - 1);
            _closed.Add(summary);
            closed?.Invoke(summary);
        }
    }

    private LatencyWindow Summarize(int index, Open w)
    {
        w.Latencies.Sort();
        w.FirstEvents.Sort();
        return new LatencyWindow(index, index * WindowSeconds, WindowSeconds, w.Latencies.Count + w.Failed, w.Failed, w.Tokens,
            LatencyWindow.Percentile(w.Latencies, 50), LatencyWindow.Percentile(w.Latencies, 99), w.Latencies.Count > 0 ? w.Latencies[^1] : double.NaN,
            LatencyWindow.Percentile(w.FirstEvents, 50), w.RssPeak, w.RssLast, w.GcCommittedLast);
    }
}
