namespace AwqRuntime.Cli.Soak;

/// <summary>
/// One stretch of a soak (a minute, by default): the requests that completed in it, their latency
/// (request sent to last byte) and time to the first event, as nearest-rank percentiles, the tokens
/// they got, and the process's resident memory (peak and last sample) and the GC's committed heap
/// (last sample) meanwhile.
/// </summary>
internal sealed record LatencyWindow(
    int Index, double StartSeconds, double Seconds, int Requests, int Failed, long Tokens,
    double LatencyP50Ms, double LatencyP99Ms, double LatencyMaxMs, double FirstEventP50Ms, long RssPeakBytes, long RssLastBytes, long GcCommittedLastBytes)
{
    public double TokensPerSecond => Tokens / Seconds;

    /// <summary>
    /// The nearest-rank percentile of <paramref name="sorted"/> (ascending): the smallest value with at
    /// least <paramref name="p"/>% of the values at or below it (Hyndman and Fan 1996, definition 1); NaN when empty.
    /// </summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
