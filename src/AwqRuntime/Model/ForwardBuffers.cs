using AwqRuntime.Backends;

namespace AwqRuntime.Model;

/// <summary>
/// Scratch activations for up to <see cref="MaxRows"/> tokens at a time, reused across layers and
/// calls so the forward pass allocates nothing per token; tensors of the backend that runs the model.
/// </summary>
public sealed class ForwardBuffers : IDisposable
{
    public ForwardBuffers(LlamaConfig config, int maxRows) : this(CpuBackend.Instance, config, maxRows)
    {
    }

    public ForwardBuffers(IComputeBackend backend, LlamaConfig config, int maxRows)
    {
        if (maxRows <= 0) throw new ArgumentOutOfRangeException(nameof(maxRows));
        Backend = backend;
        MaxRows = maxRows;
        var d = config.HiddenSize;
        DeviceTensor Alloc(long perRow) => backend.Allocate(checked((long)maxRows * perRow));
        X = Alloc(d);
        H = Alloc(d);
        Out = Alloc(d);
        Q = Alloc(config.QDim);
        Att = Alloc(config.QDim);
        K = Alloc(config.KvDim);
        V = Alloc(config.KvDim);
        Gate = Alloc(config.IntermediateSize);
        Up = Alloc(config.IntermediateSize);
        Positions = new int[maxRows];
        RopeFreqFactors = config.RopeFreqFactors();
    }

    public IComputeBackend Backend { get; }
    public int MaxRows { get; }
    internal DeviceTensor X { get; }
    internal DeviceTensor H { get; }
    internal DeviceTensor Out { get; }
    internal DeviceTensor Q { get; }
    internal DeviceTensor Att { get; }
    internal DeviceTensor K { get; }
    internal DeviceTensor V { get; }
    internal DeviceTensor Gate { get; }
    internal DeviceTensor Up { get; }
    internal int[] Positions { get; }

    /// <summary>The config's RoPE frequency factors (empty for plain RoPE), computed once.</summary>
    internal float[] RopeFreqFactors { get; }

    public void Dispose()
    {
        foreach (var t in new[] { X, H, Out, Q, Att, K, V, Gate, Up }) t.Dispose();
    }
}
