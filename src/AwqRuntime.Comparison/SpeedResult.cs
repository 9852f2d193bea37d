namespace AwqRuntime.Comparison;

/// <summary>Median prefill and decode speed of one row (tokens per second).</summary>
public sealed record SpeedResult(double PrefillTokensPerSecond, double DecodeTokensPerSecond);
