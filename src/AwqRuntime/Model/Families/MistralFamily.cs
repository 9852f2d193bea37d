using System.Text.Json;
using AwqRuntime.Formats.HuggingFace;

namespace AwqRuntime.Model.Families;

/// <summary>
/// Mistral (transformers' MistralForCausalLM; AutoAWQ awq/models/mistral.py): LLaMA's block with
/// sliding-window attention. sliding_window W is honoured in attention: the token at position p
/// attends to positions p − W + 1 .. p (transformers' sliding-window causal mask; Mistral v0.2 and
/// later set it to null, which means full attention). llama.cpp runs Mistral GGUFs as the llama
/// architecture with full attention, so the two agree only while the context is within W.
/// </summary>
public sealed class MistralFamily : ModelFamily
{
    public static MistralFamily Instance { get; } = new();

    private MistralFamily()
    {
    }

    public override string Name => "mistral";
    public override string HfModelType => "mistral";
    public override string HfArchitecture => "MistralForCausalLM";

    internal override LlamaConfig ReadHfConfig(HfConfigReader r, LlamaConfig common)
    {
        RequirePlainRope(r);
        var window = r.Int("sliding_window") ?? 0;
        if (window < 0) throw new InvalidDataException($"{r.Path}: 'sliding_window' must be positive or null (got {window})");
        return common with { SlidingWindow = window };
    }

    internal override void WriteHfConfig(IDictionary<string, Action<Utf8JsonWriter>> keys, LlamaConfig c)
    {
        keys["sliding_window"] = w =>
        {
            if (c.SlidingWindow > 0) w.WriteNumber("sliding_window", c.SlidingWindow);
            else w.WriteNull("sliding_window");
        };
    }

    internal override void Validate(LlamaConfig c, string source)
    {
        if (c.RopeScaling != null) throw new InvalidDataException($"{source}: rope_scaling is not supported for mistral models");
        if (c.SlidingWindow < 0) throw new InvalidDataException($"{source}: sliding_window must be positive or 0 for none (got {c.SlidingWindow})");
    }
}
