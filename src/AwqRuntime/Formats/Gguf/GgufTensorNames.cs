using AwqRuntime.Model;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// GGUF (llama.cpp) tensor names ↔ canonical (Hugging Face) names for LLaMA, per ggml docs/gguf.md
/// "Standardized tensor names" and llama.cpp's convert_hf_to_gguf mapping (reference §8.3).
/// </summary>
public static class GgufTensorNames
{
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
        if (canonical.StartsWith(prefix, StringComparison.Ordinal) && canonical.EndsWith(".weight", StringComparison.Ordinal))
        {
            var rest = canonical[prefix.Length..^".weight".Length];
            var dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out var layer) && layer >= 0)
            {
                var part = rest[(dot + 1)..];
                foreach (var (g, c) in BlockParts)
                    if (c == part) return $"blk.{layer}.{g}.weight";
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
        if (gguf.StartsWith("blk.", StringComparison.Ordinal) && gguf.EndsWith(".weight", StringComparison.Ordinal))
        {
            var rest = gguf["blk.".Length..^".weight".Length];
            var dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out var layer) && layer >= 0)
            {
                var part = rest[(dot + 1)..];
                foreach (var (g, c) in BlockParts)
                    if (g == part) return $"model.layers.{layer}.{c}.weight";
            }
        }
        return null;
    }
}
