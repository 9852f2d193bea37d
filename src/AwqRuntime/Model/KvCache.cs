using AwqRuntime.Backends;

namespace AwqRuntime.Model;

/// <summary>
/// Keys and values of every layer for up to <see cref="Capacity"/> positions, fp32,
/// [Capacity, n_kv_heads, head_dim] per layer — the layout awq_attention reads — in tensors of the
/// backend that runs the model (<see cref="Backend"/>; device memory for a device backend).
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly DeviceTensor[] _k;
    private readonly DeviceTensor[] _v;

    /// <summary>A cache on the CPU for a whole model.</summary>
    public KvCache(LlamaConfig config, int capacity) : this(CpuBackend.Instance, config.NumLayers, config.KvDim, capacity)
    {
    }

    public KvCache(IComputeBackend backend, int layers, int kvDim, int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "KV cache capacity must be positive");
        Backend = backend;
        Capacity = capacity;
        KvDim = kvDim;
        _k = new DeviceTensor[layers];
        _v = new DeviceTensor[layers];
        for (var l = 0; l < layers; l++)
        {
            _k[l] = backend.Allocate((long)capacity * kvDim);
            _v[l] = backend.Allocate((long)capacity * kvDim);
        }
    }

    public IComputeBackend Backend { get; }
    public int Capacity { get; }
    public int KvDim { get; }
    public int Layers => _k.Length;

    /// <summary>Positions filled so far (n_past).</summary>
    public int Length { get; internal set; }

    /// <summary>Layer <paramref name="layer"/>'s keys, [Capacity, KvDim].</summary>
    public TensorView Keys(int layer) => _k[layer].View();

    /// <summary>Layer <paramref name="layer"/>'s values, [Capacity, KvDim].</summary>
    public TensorView Values(int layer) => _v[layer].View();

    public void Clear() => Length = 0;

    /// <summary>Forget positions from <paramref name="length"/> on (to rewind a conversation).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public long Bytes => 2L * _k.Length * Capacity * KvDim * sizeof(float);

    public void Dispose()
    {
        foreach (var t in _k.Concat(_v)) t.Dispose();
    }
}
