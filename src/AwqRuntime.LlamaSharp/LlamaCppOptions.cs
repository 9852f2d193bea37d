namespace AwqRuntime.LlamaSharp;

/// <summary>How <see cref="LlamaCppModel.Load"/> sets up the model's single llama.cpp context.</summary>
public sealed record LlamaCppOptions
{
    /// <summary>Tokens the context holds (n_ctx): the longest sequence one evaluation or generation may use.</summary>
    public int ContextSize { get; init; } = 512;

    /// <summary>Most tokens per llama_decode call (n_batch); null means <see cref="ContextSize"/>.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Physical micro-batch (n_ubatch) llama.cpp splits a batch into; null means min(batch, 512).</summary>
    public int? UBatchSize { get; init; }

    /// <summary>CPU threads for decoding (both single-token and batch); null means all logical processors.</summary>
    public int? Threads { get; init; }

    /// <summary>KV-cache element type; llama.cpp's default is F16, reference comparisons need F32.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>llama.cpp's flash-attention path (changes summation order, so off for reference work).</summary>
    public bool FlashAttention { get; init; }

    internal int ResolvedBatchSize => BatchSize ?? ContextSize;

    internal int ResolvedUBatchSize => UBatchSize ?? Math.Min(ResolvedBatchSize, 512);

    internal int ResolvedThreads => Threads ?? Environment.ProcessorCount;

    internal void Validate()
    {
        if (ContextSize < 1) throw new ArgumentOutOfRangeException(nameof(ContextSize), ContextSize, "must be at least 1");
        if (ResolvedBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (ResolvedUBatchSize < 1 || ResolvedUBatchSize > ResolvedBatchSize)
            throw new ArgumentOutOfRangeException(nameof(UBatchSize), UBatchSize, $"must be in 1..BatchSize ({ResolvedBatchSize})");
        if (ResolvedThreads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "must be at least 1");
        if (!Enum.IsDefined(KvCacheType)) throw new ArgumentOutOfRangeException(nameof(KvCacheType), KvCacheType, "unknown KV-cache type");
    }
}
