namespace AwqRuntime.Model;

/// <summary>
/// Canonical tensor names inside AwqRuntime: Hugging Face's names, the same for every family. Every
/// loader maps its format's names onto these (GGUF blk.N.attn_q → model.layers.N.self_attn.q_proj,
/// llama2.c wq[N] → same). Canonical LAYOUT of q_proj/k_proj rows (and their biases) is the
/// interleaved-pair RoPE layout (Meta / llama.cpp / llama2.c); HF checkpoints, stored for
/// rotate_half, are un-permuted on load and re-permuted on save. Weights are [out, in] row-major,
/// as nn.Linear stores them.
/// </summary>
public static class LlamaTensorNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string Output = "lm_head.weight";

    public static string Prefix(int layer) => $"model.layers.{layer}";
    public static string AttnNorm(int layer) => $"model.layers.{layer}.input_layernorm.weight";
    public static string FfnNorm(int layer) => $"model.layers.{layer}.post_attention_layernorm.weight";

    /// <summary>Module path of a linear ("model.layers.3.mlp.down_proj"), without ".weight".</summary>
    public static string LinearModule(int layer, LinearKind kind) => $"model.layers.{layer}.{kind.Parent()}.{kind.Name()}";

    public static string Linear(int layer, LinearKind kind) => LinearModule(layer, kind) + ".weight";

    /// <summary>The linear's bias ("model.layers.0.self_attn.q_proj.bias"), present where the family has one.</summary>
    public static string Bias(int layer, LinearKind kind) => LinearModule(layer, kind) + ".bias";

    /// <summary>The layer and kind of a canonical q_proj/k_proj weight or bias name, for the RoPE row permutation.</summary>
    public static bool IsRotary(string name, out LinearKind kind)
    {
        var q = name.Contains(".self_attn.q_proj.", StringComparison.Ordinal);
        kind = q ? LinearKind.QProj : LinearKind.KProj;
        return (q || name.Contains(".self_attn.k_proj.", StringComparison.Ordinal))
               && name.StartsWith("model.layers.", StringComparison.Ordinal)
               && (name.EndsWith(".weight", StringComparison.Ordinal) || name.EndsWith(".bias", StringComparison.Ordinal));
    }
}
