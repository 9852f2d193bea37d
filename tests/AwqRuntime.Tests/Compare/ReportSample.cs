using AwqRuntime.Comparison;

namespace AwqRuntime.Tests.Compare;

/// <summary>A hand-made report with every kind of row (values of the order stories260K gives), one failed row and fallback notes.</summary>
internal static class ReportSample
{
    private static ComparisonRow Row(string name, ComparisonRowKind kind, string format, double bpw, double? kld, string? error = null) => new()
    {
        Name = name, Kind = kind, Runtime = kind is ComparisonRowKind.OursFp32 or ComparisonRowKind.OursAwq or ComparisonRowKind.OursRtn
            or ComparisonRowKind.OursAwqLlamaCppCompatible ? "ours" : "llama.cpp",
        Format = format, FileBytes = error == null ? (long)(bpw * 260_032 / 8) : null, BitsPerWeight = error == null ? bpw : null,
        LinearBitsPerWeight = error == null ? bpw * 0.95 : null, Perplexity = kld is { } k ? 3.70 + 2 * k : null, MeanKld = kld,
        KldP99 = kld * 7, Top1Agreement = kld is { } t ? 1 - 2 * t : null, RmsDeltaP = kld is { } d ? Math.Sqrt(d) / 3 : null,
        PrefillTokensPerSecond = error == null ? 5000 : null, DecodeTokensPerSecond = error == null ? 4000 : null, Error = error,
    };

    public static ComparisonReport Create() => new(
        new ComparisonMetadata
        {
            CommandLine = "awq compare stories260K.bin --data eval.txt", Model = "/data/stories260K.bin", Tokenizer = "/data/tok512.bin",
            EvalText = "/data/tinystories_eval.txt", CalibrationText = "/data/tinystories_calib.txt", CalibrationSamples = 128,
            CalibrationSeqLen = 512, EvalTokens = 133_029, Windows = 259, ScoredTokens = 66_045, Context = 512, Threads = 2,
            SpeedRuns = 3, SpeedPromptTokens = 512, SpeedDecodeTokens = 128, LlamaCppKvCache = "F32", Reference = "FP32 (ours)",
            Machine = new MachineInfo("Test CPU", 2, 1L << 34, "Linux", ".NET 10", "avx2"), Date = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
            GitCommit = "abc123", Elapsed = TimeSpan.FromMinutes(9), Notes = ["Quality: same windows for every row."],
        },
        [
            Row("FP32 (ours)", ComparisonRowKind.OursFp32, "FP32 (llama2.c file)", 32, 0),
            Row("F32 (llama.cpp)", ComparisonRowKind.LlamaCppF32, "GGUF F32", 32, 4.4e-12) with { TensorTypes = new Dictionary<string, int> { ["F32"] = 48 } },
            Row("AWQ g32", ComparisonRowKind.OursAwq, "INT4 g32 (AutoAWQ GEMM)", 6.15, 0.031),
            Row("AWQ g64", ComparisonRowKind.OursAwq, "INT4 g64 (AutoAWQ GEMM)", 5.9, 0.045),
            Row("AWQ g32, down_proj fp16", ComparisonRowKind.OursAwqLlamaCppCompatible, "INT4 g32 (AutoAWQ GEMM)", 8.54, 0.022)
                with { Notes = ["down_proj kept in fp16"] },
            Row("RTN g32", ComparisonRowKind.OursRtn, "INT4 g32 (AutoAWQ GEMM)", 6.15, 0.06),
            Row("RTN g64", ComparisonRowKind.OursRtn, "INT4 g64 (AutoAWQ GEMM)", 5.9, 0.09),
            Row("Q8_0", ComparisonRowKind.LlamaCppQuantized, "GGUF Q8_0", 10.1, 0.00067),
            Row("Q5_K_M", ComparisonRowKind.LlamaCppQuantized, "GGUF Q5_K_M", 8.3, 0.008),
            Row("Q4_K_M", ComparisonRowKind.LlamaCppQuantized, "GGUF Q4_K_M", 7.92, 0.0152)
                with { Notes = ["llama.cpp fell back (rows of 64/172 are not a multiple of 256): Q5_0 for attn_q ×5"], TensorTypes = new Dictionary<string, int> { ["Q5_0"] = 29, ["F32"] = 11 } },
            Row("Q4_1", ComparisonRowKind.LlamaCppQuantized, "GGUF Q4_1", 7.7, 0.0563),
            Row("Q4_0", ComparisonRowKind.LlamaCppQuantized, "GGUF Q4_0", 7.18, 0.0735)
                with { Notes = ["kept at F16 by a tensor-type override: ffn_down ×5"] },
            Row("AWQ-scaled Q4_K_M", ComparisonRowKind.AwqScaledLlamaCpp, "GGUF Q4_K_M", 7.92, 0.0141),
            Row("AWQ-scaled Q4_0", ComparisonRowKind.AwqScaledLlamaCpp, "GGUF Q4_0", 7.18, 0.066),
            Row("Q9_9", ComparisonRowKind.LlamaCppQuantized, "", 0, null, error: "build: unknown quantization type 'Q9_9' | with a pipe"),
        ]);
}
