using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Quantization;

namespace AwqRuntime.Comparison;

/// <summary>The report's sentences: how its numbers were obtained (<see cref="ComparisonMetadata.Notes"/>) and what a row keeps unquantized.</summary>
internal static class ComparisonNotes
{
    /// <summary>Quality, size, llama.cpp and speed: the notes every report starts with.</summary>
    public static IReadOnlyList<string> Method(ComparisonOptions o, LlamaConfig c, int windows, int evalTokens, int threads) =>
    [
        $"Quality: every row is scored on the same {windows} windows of {o.Context} token ids (our tokenizer's; the first id of each window is BOS, the second half is scored, as llama.cpp's perplexity tool does) against FP32 (ours): KLD = KL(P_FP32 ‖ P_row), top-1 = same most likely token, RMS Δp = RMS change of the probability of the observed next token.",
        $"Size: bytes counted from each file's tensors (metadata excluded), so tensors that llama.cpp kept at a fallback type are counted; bits/weight (file) over all {LlamaWeightShapes.ParameterCount(c):N0} parameters, bits/weight (linears) over the seven linears of the {c.NumLayers} blocks.",
        $"llama.cpp: LLamaSharp 0.30.0 (llama.cpp b10221), KV cache {o.LlamaCppKvCache}{(o.LlamaCppKvCache == KvCacheType.F32 ? "" : " (F32 for the F32 row)")}, flash attention off; GGUFs quantized from one F32 export with quantize_output_tensor on, as llama-quantize does.",
        o.SpeedPromptTokens > 0 || o.SpeedDecodeTokens > 0
            ? $"Speed: {threads} threads for both runtimes; prefill = a {Math.Min(o.SpeedPromptTokens, evalTokens)}-token prompt in one batch from an empty cache, decode = {o.SpeedDecodeTokens} greedy tokens after BOS (llama-bench's pp/tg); median of {o.SpeedRuns} runs after one warm-up."
            : "Speed: not measured.",
    ];

    /// <summary>For a model whose classifier is its embedding, when llama.cpp rows are in the report.</summary>
    public const string TiedClassifier =
        "The model ties its classifier to the embedding: our checkpoints store the matrix once, the GGUF export writes output.weight as well (llama.cpp quantizes it as its own tensor), and each file's bits/weight counts the tensors it holds.";

    public static string Calibration(CalibrationSet calibration, string calibrationTextPath) =>
        $"Calibration: {calibration.Samples.Length} × {calibration.SeqLen} tokens from {Path.GetFileName(calibrationTextPath)}; AWQ rows: duo scaling, 20-point α grid, clipping search; RTN rows: the same format (width, groups) without the search.";

    /// <summary>How the AWQ-scaled rows were made; <paramref name="reused"/>: their scales came from the AWQ rows of the same run.</summary>
    public static string AwqScaled(IReadOnlyList<int> groups, bool clip, bool reused)
    {
        var from = reused ? $" (the scales the AWQ g{string.Join("/", groups)} row chose, not a second search)" : "";
        return $"AWQ-scaled rows: AWQ's scale search (groups of {string.Join("/", groups)}, the block size of Q4_0/Q4_1 and the sub-block of Q4_K) folded into the FP32 weights without rounding{(clip ? ", with AWQ's clipping" : " or clipping")}{from}, exported as F32 GGUF and quantized by llama.cpp.";
    }

    /// <summary>The llama.cpp-compatible AWQ row is left out when llama.cpp's blocks split every linear.</summary>
    public static string RowOmitted(string name) =>
        $"Row \"{name}\" omitted: llama.cpp's 32-element blocks split every linear of this model, so the plain AWQ rows are already comparable.";

    /// <summary>A row note: the linear kinds an AWQ row keeps in fp16 because 32 does not divide their rows.</summary>
    public static string KeptInFp16(IReadOnlyList<string> kinds, LlamaConfig c) =>
        $"{string.Join(", ", kinds)} kept in fp16 (modules_to_not_convert), as llama.cpp's plain formats must keep them: their rows ({string.Join("/", kinds.Select(k => LinearKinds.Parse(k).Shape(c)[1]).Distinct())}) are not a multiple of 32";
}
