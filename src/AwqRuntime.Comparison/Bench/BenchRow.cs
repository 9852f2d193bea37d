namespace AwqRuntime.Comparison.Bench;

/// <summary>
/// One measurement of `awq bench`: a runtime and format at a thread count. Tokens/s are medians
/// after a warm-up (<see cref="SpeedBenchmark"/>); <see cref="DecodeRooflinePercent"/> is decode
/// tokens/s × <see cref="BytesPerToken"/> as a share of the measured read bandwidth at that thread count.
/// </summary>
public sealed record BenchRow(
    string Name,
    string Runtime,
    int Threads,
    long BytesPerToken,
    double PrefillTokensPerSecond,
    double DecodeTokensPerSecond,
    double? BandwidthBytesPerSecond)
{
    public double? DecodeRooflinePercent => BandwidthBytesPerSecond is { } bw && bw > 0
        ? 100 * DecodeTokensPerSecond * BytesPerToken / bw
        : null;
}
