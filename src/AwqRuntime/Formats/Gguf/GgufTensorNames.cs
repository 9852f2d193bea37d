using AwqRuntime.Model;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// GGUF (llama.cpp) tensor names ↔ canonical (Hugging Face) names for the LLaMA-family block, per
/// ggml docs/gguf.md "Standardized tensor names" and llama.cpp's gguf-py tensor_mapping.py; weights
/// end in ".weight", biases (Qwen2's blk.N.attn_q.bias) in ".bias".
/// </summary>
public static class GgufTensorNames
{
    /// <summary>The RoPE frequency factors llama.cpp divides angles by (Llama 3.1's rope scaling): F32 [rope_dim / 2].</summary>
    public const string RopeFreqs = "rope_freqs.weight";

    private static readonly (string Gguf, string Canonical)[] BlockParts =
    [
        ("attn_norm", "input_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];

    /// <summary>GGUF name of a canonical tensor ("model.layers.3.mlp.down_proj.weight" → "blk.3.ffn_down.weight").</summary>
    public static string ToGguf(string canonical)
    {
        switch (canonical)
        {
            case LlamaTensorNames.Embedding: return "token_embd.weight";
            case LlamaTensorNames.FinalNorm: return "output_norm.weight";
            case LlamaTensorNames.Output: return "output.weight";
        }
        const string prefix = "model.layers.";
        var suffix = canonical.EndsWith(".bias", StringComparison.Ordinal) ? ".bias" : ".weight";
        if (canonical.StartsWith(prefix, StringComparison.Ordinal) && canonical.EndsWith(suffix, StringComparison.Ordinal))
        {
            var rest = canonical[prefix.Length..^suffix.Length];
            var dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out var layer) && layer >= 0)
            {
                var part = rest[(dot + 1)..];
                foreach (var (g, c) in BlockParts)
                    if (c == part) return $"blk.{layer}.{g}{suffix}";
            }
        }
        throw new ArgumentException($"'{canonical}' is not a canonical LLaMA tensor name", nameof(canonical));
    }

    /// <summary>Canonical name of a GGUF tensor, or null for tensors outside the LLaMA set.</summary>
    public static string? ToCanonical(string gguf)
    {
        switch (gguf)
        {
            case "token_embd.weight": return LlamaTensorNames.Embedding;
            case "output_norm.weight": return LlamaTensorNames.FinalNorm;
            case "output.weight": return LlamaTensorNames.Output;
        }
        var suffix = gguf.EndsWith(".bias", StringComparison.Ordinal) ? ".bias" : ".weight";
        if (gguf.StartsWith("blk.", StringComparison.Ordinal) && gguf.EndsWith(suffix, StringComparison.Ordinal))
        {
            var rest = gguf["blk.".Length..^suffix.Length];
            var dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out var layer) && layer >= 0)
            {
                var part = rest[(dot + 1)..];
                foreach (var (g, c) in BlockParts)
                    if (g == part) return $"model.layers.{layer}.{c}{suffix}";
            }
        }
        return null;
    }
}
