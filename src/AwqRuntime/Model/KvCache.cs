namespace AwqRuntime.Model;

/// <summary>
/// Keys and values of every layer for up to <see cref="Capacity"/> positions, fp32,
/// [Capacity, n_kv_heads, head_dim] per layer — the layout awq_attention reads.
/// </summary>
public sealed class KvCache
{
    public KvCache(LlamaConfig config, int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "KV cache capacity must be positive");
        Capacity = capacity;
        KvDim = config.KvDim;
        K = new float[config.NumLayers][];
        V = new float[config.NumLayers][];
        for (var l = 0; l < config.NumLayers; l++)
        {
            K[l] = new float[(long)capacity * KvDim];
            V[l] = new float[(long)capacity * KvDim];
        }
    }

    public int Capacity { get; }
    public int KvDim { get; }

    /// <summary>Positions filled so far (n_past).</summary>
    public int Length { get; internal set; }

    internal float[][] K { get; }
    internal float[][] V { get; }

    public void Clear() => Length = 0;

    /// <summary>Forget positions from <paramref name="length"/> on (to rewind a conversation).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public long Bytes => 2L * K.Length * Capacity * KvDim * sizeof(float);
}
