namespace AwqRuntime.Model;

/// <summary>
/// Scratch activations for up to <see cref="MaxRows"/> tokens at a time, reused across layers and
/// calls so the forward pass allocates nothing per token.
/// </summary>
public sealed class ForwardBuffers
{
    public ForwardBuffers(LlamaConfig config, int maxRows)
    {
        if (maxRows <= 0) throw new ArgumentOutOfRangeException(nameof(maxRows));
        MaxRows = maxRows;
        var d = config.HiddenSize;
        X = new float[maxRows * d];
        H = new float[maxRows * d];
        Out = new float[maxRows * d];
        Q = new float[maxRows * config.QDim];
        Att = new float[maxRows * config.QDim];
        K = new float[maxRows * config.KvDim];
        V = new float[maxRows * config.KvDim];
        Gate = new float[maxRows * config.IntermediateSize];
        Up = new float[maxRows * config.IntermediateSize];
        Positions = new int[maxRows];
        RopeFreqFactors = config.RopeFreqFactors();
    }

    public int MaxRows { get; }
    internal float[] X { get; }
    internal float[] H { get; }
    internal float[] Out { get; }
    internal float[] Q { get; }
    internal float[] Att { get; }
    internal float[] K { get; }
    internal float[] V { get; }
    internal float[] Gate { get; }
    internal float[] Up { get; }
    internal int[] Positions { get; }

    /// <summary>The config's RoPE frequency factors (empty for plain RoPE), computed once.</summary>
    internal float[] RopeFreqFactors { get; }
}
