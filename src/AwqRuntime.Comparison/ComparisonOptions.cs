using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Comparison;

/// <summary>Everything one comparison run needs; defaults follow llama.cpp's perplexity tool and llama-bench.</summary>
public sealed record ComparisonOptions
{
    /// <summary>The full-precision source: an HF folder, a .gguf, or a llama2.c .bin (with <see cref="TokenizerPath"/>).</summary>
    public required string ModelPath { get; init; }

    public string? TokenizerPath { get; init; }

    /// <summary>Evaluation text file (tokenized once with our tokenizer; every row sees those ids).</summary>
    public required string EvalTextPath { get; init; }

    /// <summary>Calibration text file for AWQ (never the evaluation text).</summary>
    public required string CalibrationTextPath { get; init; }

    public int CalibrationSamples { get; init; } = 128;

    public int CalibrationSeqLen { get; init; } = 512;

    /// <summary>Evaluation window (llama.cpp's n_ctx); the second half of each window is scored.</summary>
    public int Context { get; init; } = 512;

    /// <summary>Evaluate at most this many windows (null: all the text holds).</summary>
    public int? MaxChunks { get; init; }

    /// <summary>Threads for both runtimes (null: all logical processors).</summary>
    public int? Threads { get; init; }

    /// <summary>Timed runs per speed measurement after one warm-up; the median is reported.</summary>
    public int SpeedRuns { get; init; } = 3;

    /// <summary>Prompt length of the prefill measurement (llama-bench's pp512); 0 skips speed.</summary>
    public int SpeedPromptTokens { get; init; } = 512;

    /// <summary>Tokens of the decode measurement, generated after BOS from an empty cache (llama-bench's tg128).</summary>
    public int SpeedDecodeTokens { get; init; } = 128;

    /// <summary>Folder for checkpoints and GGUF files (created; files in it are replaced).</summary>
    public required string WorkFolder { get; init; }

    /// <summary>The training settings of QAT rows.</summary>
    public AwqRuntime.Quantization.Qat.QatOptions Qat { get; init; } = new();

    public IReadOnlyList<ComparisonRowSpec> Rows { get; init; } = ComparisonRowSpec.Defaults;

    /// <summary>
    /// Apply AWQ's clipping too before handing AWQ-scaled weights to llama.cpp. Off by default: the
    /// clip thresholds are searched for our asymmetric min/max INT4 grid and would cut weights that
    /// llama.cpp's own formats (symmetric Q4_0, super-block Q4_K) represent on a different grid;
    /// scaling alone is an exact transformation of the FP model that any format can then quantize.
    /// </summary>
    public bool AwqScaledClip { get; init; }

    /// <summary>KV cache of every llama.cpp row. F32 (our runtime's cache is fp32) so rows differ only by weights.</summary>
    public KvCacheType LlamaCppKvCache { get; init; } = KvCacheType.F32;

    /// <summary>Recorded in the report's metadata (e.g. the exact awq command line).</summary>
    public string? CommandLine { get; init; }

    /// <summary>Recorded in the report's metadata when known.</summary>
    public string? GitCommit { get; init; }

    internal void Validate()
    {
        if (Context < 4) throw new ArgumentException($"context must be at least 4 tokens (got {Context})");
        if (MaxChunks is < 1) throw new ArgumentException($"chunks must be positive (got {MaxChunks})");
        if (Threads is < 1) throw new ArgumentException($"threads must be positive (got {Threads})");
        if (SpeedRuns < 1) throw new ArgumentException($"speed runs must be at least 1 (got {SpeedRuns})");
        if (SpeedPromptTokens < 0 || SpeedDecodeTokens < 0) throw new ArgumentException("speed token counts must not be negative");
        if (CalibrationSamples < 1 || CalibrationSeqLen < 1) throw new ArgumentException("calibration samples and sequence length must be positive");
        if (Rows.Count == 0) throw new ArgumentException("no rows to compare");
        var duplicate = Rows.GroupBy(r => r.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ArgumentException($"row '{duplicate.Key}' is listed twice");
        if (Rows.Count(r => r.Kind == ComparisonRowKind.OursFp32) > 1) throw new ArgumentException("only one FP32 reference row");
        foreach (var path in new[] { EvalTextPath, CalibrationTextPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"text file not found: {path}", path);
    }
}
