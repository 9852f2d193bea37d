using System.Text.Json;
using AwqRuntime.Formats.HuggingFace;

namespace AwqRuntime.Model.Families;

/// <summary>
/// What one LLaMA-family architecture does differently from the others, in one place (AutoAWQ keeps
/// the same per family in awq/models/&lt;family&gt;.py): its Hugging Face and GGUF architecture names,
/// which linears carry biases, the AWQ scaling groups and which linears are clipped, the q/k row
/// layout llama.cpp expects, and the config.json keys of its own (rope scaling, sliding window).
/// Everything else — the decoder's shape, the tensor names, the forward pass — is shared.
/// A family is a stateless singleton; <see cref="ModelFamilies"/> lists them.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>Short name, also the synthetic preset's: "llama", "mistral", "qwen2".</summary>
    public abstract string Name { get; }

    /// <summary>config.json model_type.</summary>
    public abstract string HfModelType { get; }

    /// <summary>config.json architectures[0] (the transformers class).</summary>
    public abstract string HfArchitecture { get; }

    /// <summary>general.architecture of a GGUF llama.cpp loads, and the prefix of its hyper-parameter keys.</summary>
    public virtual string GgufArchitecture => "llama";

    /// <summary>
    /// True when llama.cpp's GGUF stores q/k rows in the interleaved-pair RoPE layout (LLAMA_ROPE_TYPE_NORM,
    /// what convert_hf_to_gguf's LlamaModel.permute makes); false when it keeps Hugging Face's rotate_half
    /// halves (LLAMA_ROPE_TYPE_NEOX, as for Qwen2).
    /// </summary>
    public virtual bool GgufQkInterleaved => true;

    /// <summary>True when the linear adds a bias (Qwen2's q/k/v).</summary>
    public virtual bool HasBias(LinearKind kind) => false;

    /// <summary>
    /// AutoAWQ's get_layers_for_scaling for a block of this family, in search order. Groups the shapes
    /// rule out are left out and described in <paramref name="skipped"/>.
    /// </summary>
    public virtual IReadOnlyList<ScalingGroupSpec> ScalingGroups(LlamaConfig c, List<string> skipped)
    {
        var groups = new List<ScalingGroupSpec>
        {
            new("input_layernorm→q,k,v", PrevOp.Of(BlockNorm.Attention), [LinearKind.QProj, LinearKind.KProj, LinearKind.VProj],
                InspectedModule.SelfAttention),
        };
        // AutoAWQ: "attn out" only when v_proj and o_proj have the same shape (not under GQA).
        if (LinearKind.VProj.Shape(c).SequenceEqual(LinearKind.OProj.Shape(c)))
            groups.Add(new("v_proj→o_proj", PrevOp.Of(LinearKind.VProj), [LinearKind.OProj], InspectedModule.Linear));
        else
            skipped.Add("v_proj→o_proj (v_proj and o_proj shapes differ: grouped-query attention)");
        groups.Add(new("post_attention_layernorm→gate,up", PrevOp.Of(BlockNorm.Ffn), [LinearKind.GateProj, LinearKind.UpProj], InspectedModule.Mlp));
        groups.Add(new("up_proj→down_proj", PrevOp.Of(LinearKind.UpProj), [LinearKind.DownProj], InspectedModule.Linear));
        return groups;
    }

    /// <summary>
    /// True when AWQ's clip search runs on the linear. AutoAWQ's avoid_clipping skips q and k: their
    /// errors pass through q·kᵀ, which the per-linear clip loss does not see.
    /// </summary>
    public virtual bool IsClipped(LinearKind kind) => !kind.IsRotary();

    /// <summary>Reads this family's own config.json keys into <paramref name="common"/> (the keys every family shares, already read).</summary>
    internal abstract LlamaConfig ReadHfConfig(HfConfigReader r, LlamaConfig common);

    /// <summary>This family's own config.json keys, as save_pretrained writes them (the caller sorts all keys).</summary>
    internal abstract void WriteHfConfig(IDictionary<string, Action<Utf8JsonWriter>> keys, LlamaConfig c);

    /// <summary>What rejects a config this family cannot run faithfully; called by <see cref="LlamaConfig.Validate"/>.</summary>
    internal virtual void Validate(LlamaConfig c, string source)
    {
        if (c.RopeScaling != null) throw new InvalidDataException($"{source}: rope_scaling is not supported for {Name} models");
        if (c.SlidingWindow != 0) throw new InvalidDataException($"{source}: a sliding window is not supported for {Name} models");
    }

    /// <summary>Refuses rope_scaling (and transformers v5's rope_parameters of a type other than "default") for a family that has none.</summary>
    internal void RequirePlainRope(HfConfigReader r)
    {
        if (r.Get("rope_scaling") is { } rs)
            throw new InvalidDataException($"{r.Path}: rope_scaling {HfConfigReader.Compact(rs)} is not supported for {Name} models (must be null)");
        var type = r.Object("rope_parameters")?.String("rope_type") ?? "default";
        if (type != "default") throw new InvalidDataException($"{r.Path}: rope_parameters.rope_type '{type}' is not supported for {Name} models (only plain RoPE)");
    }

    public override string ToString() => Name;
}
