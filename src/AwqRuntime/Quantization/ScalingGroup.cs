using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// One of the four AWQ scaling groups of a LLaMA block (reference §1.4): the op whose output feeds
/// the group (it absorbs 1/s), the linears whose input columns are multiplied by s, the cached
/// input they share, and the module whose output defines the search loss.
/// </summary>
internal sealed class ScalingGroup
{
    public required string Name { get; init; }

    /// <summary>"input_layernorm", "post_attention_layernorm" (RMSNorm weights) or a linear kind ("v_proj", "up_proj").</summary>
    public required string PrevOp { get; init; }

    public required string[] Linears { get; init; }

    /// <summary>Cached input of the linears, [tokens, in_features].</summary>
    public required float[] Input { get; init; }

    /// <summary>
    /// Runs the inspected module on <see cref="Input"/> with the given linears (same order as
    /// <see cref="Linears"/>) standing in for the block's, writing the module output.
    /// </summary>
    public required Action<FloatLinear[], float[]> Inspect { get; init; }
}
