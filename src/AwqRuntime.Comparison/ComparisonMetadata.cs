namespace AwqRuntime.Comparison;

/// <summary>Provenance of a report: inputs, settings and the machine.</summary>
public sealed record ComparisonMetadata
{
    public string? CommandLine { get; init; }
    public required string Model { get; init; }
    public string? Tokenizer { get; init; }
    public required string EvalText { get; init; }
    public required string CalibrationText { get; init; }
    public int CalibrationSamples { get; init; }
    public int CalibrationSeqLen { get; init; }
    public int EvalTokens { get; init; }
    public int Windows { get; init; }
    public long ScoredTokens { get; init; }
    public int Context { get; init; }
    public int Threads { get; init; }
    public int SpeedRuns { get; init; }
    public int SpeedPromptTokens { get; init; }
    public int SpeedDecodeTokens { get; init; }

    /// <summary>1-minute load average before and after the speed measurements (null where unknown or not measured).</summary>
    public double? LoadAverageBeforeSpeed { get; init; }
    public double? LoadAverageAfterSpeed { get; init; }
    public required string LlamaCppKvCache { get; init; }
    public required string Reference { get; init; }
    public required MachineInfo Machine { get; init; }
    public DateTimeOffset Date { get; init; }
    public string? GitCommit { get; init; }
    public TimeSpan Elapsed { get; init; }

    /// <summary>How the numbers were obtained, in sentences a reader of the report needs.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
