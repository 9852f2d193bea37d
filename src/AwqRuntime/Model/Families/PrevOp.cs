namespace AwqRuntime.Model.Families;

/// <summary>The two RMSNorms of a LLaMA-family block.</summary>
public enum BlockNorm
{
    /// <summary>input_layernorm, before self-attention.</summary>
    Attention,

    /// <summary>post_attention_layernorm, before the MLP.</summary>
    Ffn,
}

/// <summary>
/// The op whose output feeds an AWQ scaling group and absorbs 1/s when the scales are folded
/// (AutoAWQ's prev_op): one of the block's RMSNorms, or a linear whose output rows are divided.
/// </summary>
public readonly record struct PrevOp
{
    private PrevOp(BlockNorm? norm, LinearKind? linear)
    {
        Norm = norm;
        Linear = linear;
    }

    public static PrevOp Of(BlockNorm norm) => new(norm, null);

    public static PrevOp Of(LinearKind linear) => new(null, linear);

    public BlockNorm? Norm { get; }
    public LinearKind? Linear { get; }

    /// <summary>The Hugging Face module name: "input_layernorm", "post_attention_layernorm", "v_proj", …</summary>
    public string Name => Norm switch
    {
        BlockNorm.Attention => "input_layernorm",
        BlockNorm.Ffn => "post_attention_layernorm",
        _ => Linear!.Value.Name(),
    };

    public override string ToString() => Name;
}

/// <summary>What a scaling group's search loss is measured on (AutoAWQ's module2inspect).</summary>
public enum InspectedModule
{
    /// <summary>The whole self-attention (q, k, v through RoPE, attention and o_proj).</summary>
    SelfAttention,

    /// <summary>The whole MLP (gate, up, SiLU, down).</summary>
    Mlp,

    /// <summary>The group's single linear itself.</summary>
    Linear,
}

/// <summary>
/// One AWQ scaling group (AutoAWQ's get_layers_for_scaling entry): the op that absorbs 1/s, the
/// linears whose input columns are multiplied by s, and the module whose output defines the loss.
/// </summary>
public sealed record ScalingGroupSpec(string Name, PrevOp PrevOp, LinearKind[] Linears, InspectedModule Inspect);
