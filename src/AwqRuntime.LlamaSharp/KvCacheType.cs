namespace AwqRuntime.LlamaSharp;

/// <summary>Element type of llama.cpp's KV cache (context params type_k / type_v).</summary>
public enum KvCacheType
{
    /// <summary>llama.cpp's default; rounds K and V to half precision (stories260K: logits move by up to 0.045).</summary>
    F16,

    /// <summary>Full precision: needed when comparing logits against an FP32 reference at 1e-4.</summary>
    F32,
}
