namespace AwqRuntime.Comparison.Bench;

/// <summary>
/// Something `awq bench` times: a name, its runtime ("ours" or "llama.cpp"), the weight bytes it reads
/// per decoded token, and how to measure it at a thread count (prompt tokens, first decode token).
/// </summary>
public sealed record BenchSubject(string Name, string Runtime, long BytesPerToken, Func<int, int[], int, SpeedResult> Measure);
