using System.Text.Json.Serialization;

namespace AwqRuntime.Comparison;

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
