using System.Text.Json.Serialization;

namespace AwqRuntime.Comparison;

/// <summary>The outcome of a comparison: one row per requested format, plus how and where it was measured.</summary>
public sealed record ComparisonReport(ComparisonMetadata Metadata, IReadOnlyList<ComparisonRow> Rows)
{
    public ComparisonRow? Row(string name) => Rows.FirstOrDefault(r => r.Name == name);
}

/// <summary>
/// One format. Quality metrics are against the FP32 reference on the same token ids (null when the
/// row failed or quality was not measured); sizes are counted from the file's tensor bytes, so every
/// fallback type is in them. <see cref="Error"/> is set when the row could not be built or run, and
/// then the row carries what was measured before the failure.
/// </summary>
public sealed record ComparisonRow
{
    public required string Name { get; init; }

    public ComparisonRowKind Kind { get; init; }

    /// <summary>The FP32 reference or llama.cpp's F32: no quantization, the agreement check.</summary>
    [JsonIgnore]
    public bool IsFullPrecision => Kind is ComparisonRowKind.OursFp32 or ComparisonRowKind.LlamaCppF32;

    /// <summary>"ours" or "llama.cpp".</summary>
    public required string Runtime { get; init; }

    /// <summary>Storage format, e.g. "INT4 g32 (AutoAWQ GEMM)" or "GGUF Q4_0".</summary>
    public required string Format { get; init; }

    /// <summary>Checkpoint file or folder the row ran from.</summary>
    public string? Path { get; init; }

    public long? FileBytes { get; init; }

    /// <summary>Tensor bytes × 8 / parameters over the whole checkpoint (metadata excluded).</summary>
    public double? BitsPerWeight { get; init; }

    /// <summary>The same over the seven linears of every block only.</summary>
    public double? LinearBitsPerWeight { get; init; }

    public double? Perplexity { get; init; }

    public double? MeanKld { get; init; }

    public double? KldP99 { get; init; }

    /// <summary>Fraction of scored positions whose most likely token matches the reference's.</summary>
    public double? Top1Agreement { get; init; }

    /// <summary>RMS of the change in the probability of the observed next token (a fraction).</summary>
    public double? RmsDeltaP { get; init; }

    public double? PrefillTokensPerSecond { get; init; }

    public double? DecodeTokensPerSecond { get; init; }

    /// <summary>Seconds spent building the row (quantization, export, llama.cpp quantization).</summary>
    public double? BuildSeconds { get; init; }

    /// <summary>Tensor count per ggml type of a GGUF row, e.g. {Q5_0: 29, Q8_0: 3, F16: 5, F32: 11}.</summary>
    public IReadOnlyDictionary<string, int>? TensorTypes { get; init; }

    /// <summary>What differs from the nominal format: tensors kept at a fallback type and why, modules left unquantized.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public string? Error { get; init; }
}

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
