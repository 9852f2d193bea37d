namespace AwqRuntime.Comparison;

/// <summary>What a comparison row is built from.</summary>
public enum ComparisonRowKind
{
    /// <summary>Our runtime on the full-precision source: the reference every other row is compared with.</summary>
    OursFp32,

    /// <summary>Our AWQ INT4 (quantized, saved as an AutoAWQ checkpoint, reloaded).</summary>
    OursAwq,

    /// <summary>Our round-to-nearest INT4 baseline (same format as AWQ, no scale search).</summary>
    OursRtn,

    /// <summary>
    /// Our AWQ INT4 with every linear kind that llama.cpp's 32-element blocks cannot split kept in
    /// fp16 (AutoAWQ's modules_to_not_convert), so that it quantizes exactly what llama.cpp's plain
    /// formats quantize. Built only when the model has such linears (stories260K: down_proj, 172 wide).
    /// </summary>
    OursAwqLlamaCppCompatible,

    /// <summary>llama.cpp on the F32 GGUF export of the source (F32 KV cache): our FP32 and this must agree.</summary>
    LlamaCppF32,

    /// <summary>llama.cpp on that GGUF quantized by llama.cpp to <see cref="ComparisonRowSpec.GgufType"/>.</summary>
    LlamaCppQuantized,

    /// <summary>AWQ scales folded into the FP weights (no rounding), exported as GGUF, quantized by llama.cpp.</summary>
    AwqScaledLlamaCpp,

    /// <summary>
    /// Our AWQ INT4 checkpoint written into GGUF Q4_1 blocks as it is (a 32-weight block per part of a
    /// group: d = scale, m = −scale·zero; no re-rounding) and run by llama.cpp: AWQ's own rounding on llama.cpp.
    /// </summary>
    AwqAsQ4_1LlamaCpp,

    /// <summary>llama.cpp's quantizer over the F32 GGUF with our calibration statistics as its importance matrix (llama-quantize --imatrix).</summary>
    LlamaCppImatrix,

    /// <summary>Ours by another quantization method (GPTQ, AWQ + GPTQ, QAT, W8A8): <see cref="ComparisonRowSpec.Method"/>.</summary>
    OursMethod,
}
