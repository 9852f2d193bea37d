using System.Text.Json;
using AwqRuntime.Formats.HuggingFace;

namespace AwqRuntime.Model.Families;

/// <summary>
/// LLaMA 1/2/3 (transformers' LlamaForCausalLM; AutoAWQ awq/models/llama.py): no biases, the four
/// standard scaling groups, interleaved q/k rows in GGUF. Llama 3.1's rope_scaling "llama3" is read
/// and written (<see cref="RopeScaling"/>); any other rope_scaling type is refused by name.
/// </summary>
public sealed class LlamaFamily : ModelFamily
{
    public static LlamaFamily Instance { get; } = new();

    private LlamaFamily()
    {
    }

    public override string Name => "llama";
    public override string HfModelType => "llama";
    public override string HfArchitecture => "LlamaForCausalLM";

    internal override LlamaConfig ReadHfConfig(HfConfigReader r, LlamaConfig common)
    {
        if (r.Bool("attention_bias") == true) throw new InvalidDataException($"{r.Path}: attention_bias=true is not supported (LLaMA has no attention biases)");
        if (r.Bool("mlp_bias") == true) throw new InvalidDataException($"{r.Path}: mlp_bias=true is not supported (LLaMA has no MLP biases)");
        // transformers v5 moves rope_theta / rope_scaling into rope_parameters (rope_type "default" or "llama3").
        var scaling = r.Object("rope_scaling") ?? r.Object("rope_parameters");
        if (scaling is not { } s) return common;
        var type = s.String("rope_type") ?? s.String("type") ?? "default";
        if (type == "default") return common;
        if (type != RopeScaling.Llama3)
            throw new InvalidDataException($"{r.Path}: rope_scaling type '{type}' is not supported (only plain RoPE and \"llama3\")");
        var rs = new RopeScaling
        {
            Factor = s.Double("factor") ?? throw new InvalidDataException($"{s.Path}: 'factor' is missing"),
            LowFreqFactor = s.Double("low_freq_factor") ?? throw new InvalidDataException($"{s.Path}: 'low_freq_factor' is missing"),
            HighFreqFactor = s.Double("high_freq_factor") ?? throw new InvalidDataException($"{s.Path}: 'high_freq_factor' is missing"),
            OriginalMaxPositionEmbeddings = s.Int("original_max_position_embeddings")
                ?? throw new InvalidDataException($"{s.Path}: 'original_max_position_embeddings' is missing"),
        };
        return common with { RopeScaling = rs.Validate(r.Path) };
    }

    internal override void WriteHfConfig(IDictionary<string, Action<Utf8JsonWriter>> keys, LlamaConfig c)
    {
        keys["attention_bias"] = w => w.WriteBoolean("attention_bias", false);
        keys["mlp_bias"] = w => w.WriteBoolean("mlp_bias", false);
        keys["pretraining_tp"] = w => w.WriteNumber("pretraining_tp", 1);
        if (c.RopeScaling is { Type: RopeScaling.PerPairFactors })
            throw new InvalidOperationException(
                "RoPE frequency factors read from a GGUF's rope_freqs have no config.json form (rope_scaling needs Llama 3.1's parameters); export this model as GGUF instead");
        keys["rope_scaling"] = w =>
        {
            if (c.RopeScaling is not { } s)
            {
                w.WriteNull("rope_scaling");
                return;
            }
            w.WriteStartObject("rope_scaling");
            w.WriteNumber("factor", s.Factor);
            w.WriteNumber("high_freq_factor", s.HighFreqFactor);
            w.WriteNumber("low_freq_factor", s.LowFreqFactor);
            w.WriteNumber("original_max_position_embeddings", s.OriginalMaxPositionEmbeddings);
            w.WriteString("rope_type", s.Type);
            w.WriteEndObject();
        };
    }

    internal override void Validate(LlamaConfig c, string source)
    {
        c.RopeScaling?.Validate(source);
        if (c.SlidingWindow != 0) throw new InvalidDataException($"{source}: a sliding window is not supported for llama models");
    }
}
