namespace AwqRuntime.Model;

/// <summary>
/// Canonical tensor names inside AwqRuntime: Hugging Face's names. Every loader maps its format's
/// names onto these (GGUF blk.N.attn_q → model.layers.N.self_attn.q_proj, llama2.c wq[N] → same).
/// Canonical LAYOUT of q_proj/k_proj rows is the interleaved-pair RoPE layout (Meta / llama.cpp /
/// llama2.c); HF checkpoints, stored for rotate_half, are un-permuted on load and re-permuted on save.
/// Weights are [out, in] row-major, as nn.Linear stores them.
/// </summary>
public static class LlamaTensorNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string Output = "lm_head.weight";

    /// <summary>The seven linear projections of a block, in AutoAWQ's order.</summary>
    public static readonly string[] LinearKinds = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public static string Prefix(int layer) => $"model.layers.{layer}";
    public static string AttnNorm(int layer) => $"model.layers.{layer}.input_layernorm.weight";
    public static string FfnNorm(int layer) => $"model.layers.{layer}.post_attention_layernorm.weight";

    /// <summary>Module path of a linear ("model.layers.3.mlp.down_proj"), without ".weight".</summary>
    public static string LinearModule(int layer, string kind) => kind switch
    {
        "q_proj" or "k_proj" or "v_proj" or "o_proj" => $"model.layers.{layer}.self_attn.{kind}",
        "gate_proj" or "up_proj" or "down_proj" => $"model.layers.{layer}.mlp.{kind}",
        _ => throw new ArgumentException($"unknown linear kind '{kind}'", nameof(kind)),
    };

    public static string Linear(int layer, string kind) => LinearModule(layer, kind) + ".weight";
}
