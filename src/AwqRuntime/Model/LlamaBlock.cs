namespace AwqRuntime.Model;

/// <summary>
/// One decoder block's parameters: two RMSNorm weights and seven linears. The linears are swappable
/// (<see cref="SetLinear"/>) so quantization can replace them one at a time.
/// </summary>
public sealed class LlamaBlock
{
    public LlamaBlock(float[] attnNorm, float[] ffnNorm, ILinear q, ILinear k, ILinear v, ILinear o,
        ILinear gate, ILinear up, ILinear down)
    {
        AttnNorm = attnNorm;
        FfnNorm = ffnNorm;
        Q = q; K = k; V = v; O = o; Gate = gate; Up = up; Down = down;
    }

    /// <summary>input_layernorm weight. Mutable: AWQ folds 1/s of group 1 into it.</summary>
    public float[] AttnNorm { get; }

    /// <summary>post_attention_layernorm weight. Mutable: AWQ folds 1/s of group 3 into it.</summary>
    public float[] FfnNorm { get; }

    public ILinear Q { get; private set; }
    public ILinear K { get; private set; }
    public ILinear V { get; private set; }
    public ILinear O { get; private set; }
    public ILinear Gate { get; private set; }
    public ILinear Up { get; private set; }
    public ILinear Down { get; private set; }

    /// <summary>The linear of a kind ("q_proj" … "down_proj", see <see cref="LlamaTensorNames.LinearKinds"/>).</summary>
    public ILinear this[string kind] => kind switch
    {
        "q_proj" => Q, "k_proj" => K, "v_proj" => V, "o_proj" => O,
        "gate_proj" => Gate, "up_proj" => Up, "down_proj" => Down,
        _ => throw new ArgumentException($"unknown linear kind '{kind}'", nameof(kind)),
    };

    public void SetLinear(string kind, ILinear linear)
    {
        var old = this[kind];
        if (old.InFeatures != linear.InFeatures || old.OutFeatures != linear.OutFeatures)
            throw new ArgumentException($"{kind}: replacement is {linear.OutFeatures}x{linear.InFeatures}, expected {old.OutFeatures}x{old.InFeatures}");
        switch (kind)
        {
            case "q_proj": Q = linear; break;
            case "k_proj": K = linear; break;
            case "v_proj": V = linear; break;
            case "o_proj": O = linear; break;
            case "gate_proj": Gate = linear; break;
            case "up_proj": Up = linear; break;
            case "down_proj": Down = linear; break;
        }
    }

    public long WeightBytes =>
        LlamaTensorNames.LinearKinds.Sum(k => this[k].WeightBytes) + (AttnNorm.Length + FfnNorm.Length) * sizeof(float);
}
