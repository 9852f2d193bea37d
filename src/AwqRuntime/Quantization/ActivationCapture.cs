using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// Records the inputs of a block's linears while the block runs over the calibration samples, one
/// sample (seqLen rows) at a time, into [tokens, features] arrays: what AutoAWQ's forward hooks cache.
/// </summary>
internal sealed class ActivationCapture : IActivationObserver
{
    private readonly int _seqLen;

    public ActivationCapture(LlamaConfig c, int samples, int seqLen)
    {
        _seqLen = seqLen;
        var t = (long)samples * seqLen;
        AttnInput = new float[t * c.HiddenSize];
        OInput = new float[t * c.QDim];
        MlpInput = new float[t * c.HiddenSize];
        DownInput = new float[t * c.IntermediateSize];
    }

    /// <summary>Input of q_proj, k_proj and v_proj (input_layernorm output).</summary>
    public float[] AttnInput { get; }

    /// <summary>Input of o_proj (attention output).</summary>
    public float[] OInput { get; }

    /// <summary>Input of gate_proj and up_proj (post_attention_layernorm output).</summary>
    public float[] MlpInput { get; }

    /// <summary>Input of down_proj (silu(gate)·up).</summary>
    public float[] DownInput { get; }

    /// <summary>Which sample the next forward pass belongs to.</summary>
    public int Sample { get; set; }

    public float[] InputOf(LinearKind kind) => kind switch
    {
        LinearKind.QProj or LinearKind.KProj or LinearKind.VProj => AttnInput,
        LinearKind.OProj => OInput,
        LinearKind.GateProj or LinearKind.UpProj => MlpInput,
        LinearKind.DownProj => DownInput,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public void OnLinearInput(int layer, LinearKind kind, ReadOnlySpan<float> x, int rows, int cols)
    {
        if (rows != _seqLen) throw new InvalidOperationException($"capture expects {_seqLen} rows per call, got {rows}");
        x[..(rows * cols)].CopyTo(InputOf(kind).AsSpan(Sample * _seqLen * cols, rows * cols));
    }
}
