using System.Text.Json;
using AwqRuntime.Formats.HuggingFace;

namespace AwqRuntime.Model.Families;

/// <summary>
/// Qwen2 / Qwen2.5 (transformers' Qwen2ForCausalLM; AutoAWQ awq/models/qwen2.py): LLaMA's block
/// with biases on q_proj, k_proj and v_proj, and the same four scaling groups. A bias is added after
/// the matmul, so scaling a linear's input columns leaves it alone; when v_proj is a group's prev_op
/// its bias is divided with its rows (AutoAWQ's scale_fc_fc). llama.cpp's qwen2 architecture uses
/// NEOX RoPE, so its GGUF keeps q/k rows (and biases) in Hugging Face's order. use_sliding_window
/// (off in every released Qwen2 config) is refused.
/// </summary>
public sealed class Qwen2Family : ModelFamily
{
    public static Qwen2Family Instance { get; } = new();

    private Qwen2Family()
    {
    }

    public override string Name => "qwen2";
    public override string HfModelType => "qwen2";
    public override string HfArchitecture => "Qwen2ForCausalLM";
    public override string GgufArchitecture => "qwen2";
    public override bool GgufQkInterleaved => false;

    public override bool HasBias(LinearKind kind) => kind is LinearKind.QProj or LinearKind.KProj or LinearKind.VProj;

    internal override LlamaConfig ReadHfConfig(HfConfigReader r, LlamaConfig common)
    {
        RequirePlainRope(r);
        if (r.Bool("use_sliding_window") == true)
            throw new InvalidDataException($"{r.Path}: use_sliding_window=true is not supported for Qwen2 (sliding-window layers)");
        return common;
    }

    internal override void WriteHfConfig(IDictionary<string, Action<Utf8JsonWriter>> keys, LlamaConfig c)
    {
        keys["max_window_layers"] = w => w.WriteNumber("max_window_layers", c.NumLayers);
        keys["sliding_window"] = w => w.WriteNull("sliding_window");
        keys["use_sliding_window"] = w => w.WriteBoolean("use_sliding_window", false);
    }
}
