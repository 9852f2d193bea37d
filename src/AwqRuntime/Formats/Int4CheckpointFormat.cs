namespace AwqRuntime.Formats;

/// <summary>How an INT4 checkpoint stores its quantized linears (both load back with the same weights).</summary>
public enum Int4CheckpointFormat
{
    /// <summary>AutoAWQ's GEMM layout (qweight, qzeros, scales; quant_method "awq"): AutoAWQ, vLLM, transformers.</summary>
    AutoAwq,

    /// <summary>compressed-tensors' pack-quantized layout (quant_method "compressed-tensors"), what llm-compressor writes: vLLM, transformers.</summary>
    CompressedTensors,
}
