namespace AwqRuntime.Generation.Batching;

/// <summary>How a <see cref="BatchScheduler"/> shares one model between requests.</summary>
public sealed record BatchSchedulerOptions
{
    /// <summary>Sequences decoded together, each with its own KV cache slot (llama-server's --parallel).</summary>
    public int Parallel { get; init; } = 4;

    /// <summary>Tokens per slot (prompt + completion); 0 = the model's context.</summary>
    public int ContextSize { get; init; }

    /// <summary>Requests waiting for a slot beyond which <see cref="BatchScheduler.Submit"/> refuses new ones.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>Prompt tokens per prefill pass.</summary>
    public int PrefillBatch { get; init; } = 512;

    public BatchSchedulerOptions Validate()
    {
        if (Parallel is < 1 or > 256) throw new ArgumentException($"parallel must be 1..256 (got {Parallel})");
        if (ContextSize < 0) throw new ArgumentException($"context size must be ≥ 0 (got {ContextSize})");
        if (MaxQueue < 0) throw new ArgumentException($"max queue must be ≥ 0 (got {MaxQueue})");
        if (PrefillBatch < 1) throw new ArgumentException($"prefill batch must be positive (got {PrefillBatch})");
        return this;
    }
}

/// <summary>Submit was refused: every slot is busy and the queue is full (a server answers 429).</summary>
public sealed class QueueFullException(int queued) : Exception($"the server is busy: {queued} requests are waiting for a slot")
{
    public int Queued { get; } = queued;
}
