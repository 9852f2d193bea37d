using AwqRuntime.Backends;

namespace AwqRuntime.Model;

/// <summary>
/// Keys and values of every layer for up to <see cref="Capacity"/> positions (the context), fp32,
/// [positions, n_kv_heads, head_dim] per layer — the layout awq_attention reads — in tensors of the
/// backend that runs the model (<see cref="Backend"/>; device memory for a device backend).
/// Memory follows use: the tensors hold <see cref="Allocated"/> positions and grow geometrically
/// (doubling, capped at the context) when a forward pass needs more, so a model that declares a huge
/// context costs only what a run fills, and decode steps do not reallocate per token.
/// </summary>
public sealed class KvCache : IDisposable
{
    /// <summary>Positions allocated up front (fewer when the context is shorter).</summary>
    public const int InitialPositions = 256;

    private readonly DeviceTensor[] _k;
    private readonly DeviceTensor[] _v;

    /// <summary>A cache on the CPU for a whole model.</summary>
    public KvCache(LlamaConfig config, int capacity) : this(CpuBackend.Instance, config.NumLayers, config.KvDim, capacity)
    {
    }

    /// <param name="origin">Where the context size came from ("model.gguf: llama.context_length", "--ctx"), named when it does not fit in memory.</param>
    public KvCache(IComputeBackend backend, int layers, int kvDim, int capacity, string? origin = null)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "KV cache capacity must be positive");
        if (layers <= 0 || kvDim <= 0) throw new ArgumentOutOfRangeException(nameof(kvDim), $"KV cache needs positive layers and width (got {layers}, {kvDim})");
        Backend = backend;
        Capacity = capacity;
        KvDim = kvDim;
        Origin = origin ?? "the context size";
        _k = new DeviceTensor[layers];
        _v = new DeviceTensor[layers];
        Allocate(Math.Min(capacity, InitialPositions), copyRows: 0);
    }

    public IComputeBackend Backend { get; }

    /// <summary>The context: the most positions the cache can hold.</summary>
    public int Capacity { get; }

    /// <summary>Positions the tensors hold now (≤ <see cref="Capacity"/>); grows with <see cref="Reserve"/>.</summary>
    public int Allocated { get; private set; }

    public int KvDim { get; }
    public int Layers => _k.Length;

    /// <summary>Where the context size came from, for error messages.</summary>
    public string Origin { get; }

    /// <summary>Positions filled so far (n_past).</summary>
    public int Length { get; internal set; }

    /// <summary>Layer <paramref name="layer"/>'s keys, [Allocated, KvDim].</summary>
    public TensorView Keys(int layer) => _k[layer].View();

    /// <summary>Layer <paramref name="layer"/>'s values, [Allocated, KvDim].</summary>
    public TensorView Values(int layer) => _v[layer].View();

    public void Clear() => Length = 0;

    /// <summary>Forget positions from <paramref name="length"/> on (to rewind a conversation).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    /// <summary>
    /// Makes room for <paramref name="positions"/> positions: nothing when allocated already, else the
    /// tensors grow to max(positions, 2 × allocated), capped at the context, keeping the filled rows.
    /// Throws <see cref="InvalidOperationException"/> past the context and
    /// <see cref="InsufficientMemoryException"/> (naming <see cref="Origin"/>) when memory cannot hold it.
    /// </summary>
    public void Reserve(int positions)
    {
        if (positions > Capacity)
            throw new InvalidOperationException($"context full: {positions} positions exceed the context of {Capacity}");
        if (positions <= Allocated) return;
        var grown = (int)Math.Min(Capacity, Math.Max(positions, 2L * Allocated));
        Allocate(grown, Length);
    }

    /// <summary>Bytes the cache takes now.</summary>
    public long Bytes => BytesFor(Allocated);

    /// <summary>Bytes of keys and values for <paramref name="positions"/> positions of every layer (checked 64-bit).</summary>
    public long BytesFor(long positions) => checked(2L * _k.Length * positions * KvDim * sizeof(float));

    private void Allocate(int positions, int copyRows)
    {
        var bytes = BytesFor(positions);
        var limit = Backend.Device == DeviceKind.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : long.MaxValue;
        if (bytes > limit) throw TooLarge(positions, bytes, limit);
        var k = new DeviceTensor[_k.Length];
        var v = new DeviceTensor[_v.Length];
        try
        {
            for (var l = 0; l < k.Length; l++)
            {
                k[l] = Backend.Allocate((long)positions * KvDim);
                v[l] = Backend.Allocate((long)positions * KvDim);
            }
        }
        catch (OutOfMemoryException)
        {
            foreach (var t in k.Concat(v)) t?.Dispose();
            throw TooLarge(positions, bytes, limit);
        }
        var filled = (long)copyRows * KvDim;
        for (var l = 0; l < k.Length; l++)
        {
            if (_k[l] is { } oldK)
            {
                if (filled > 0)
                {
                    Backend.Copy(oldK.View(0, filled), k[l].View(0, filled));
                    Backend.Copy(_v[l].View(0, filled), v[l].View(0, filled));
                }
                oldK.Dispose();
                _v[l].Dispose();
            }
            _k[l] = k[l];
            _v[l] = v[l];
        }
        Allocated = positions;
    }

    private InsufficientMemoryException TooLarge(int positions, long bytes, long limit) =>
        new($"{Origin} {Capacity}: a KV cache of {positions} positions needs {bytes / 1073741824.0:F1} GiB"
            + (limit < long.MaxValue ? $", more than the {limit / 1073741824.0:F1} GiB of memory" : " and could not be allocated")
            + " (use a smaller --ctx)");

    public void Dispose()
    {
        foreach (var t in _k.Concat(_v)) t?.Dispose();
    }
}
