namespace AwqRuntime.Server;

/// <summary>How `awq serve` listens and shares the model.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind; loopback by default, so nothing is exposed unless asked for.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, every /v1 request needs "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }

    /// <summary>The model id /v1/models lists and requests may name.</summary>
    public string ModelId { get; init; } = "awq";

    /// <summary>Sequences decoded together (continuous batching slots).</summary>
    public int Parallel { get; init; } = 4;

    /// <summary>Tokens per slot (prompt + completion); 0 = the model's context.</summary>
    public int ContextSize { get; init; }

    /// <summary>Requests waiting for a slot beyond which new ones get 429.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>Largest request body accepted (413 beyond).</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>A request still generating after this long is stopped (finish_reason "length").</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>max_tokens when a request gives none.</summary>
    public int DefaultMaxTokens { get; init; } = 256;

    public ServerOptions Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port must be 0..65535 (got {Port})");
        if (MaxBodyBytes < 1024) throw new ArgumentException($"the body limit must be at least 1 KiB (got {MaxBodyBytes})");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("the request timeout must be positive");
        if (string.IsNullOrWhiteSpace(ModelId)) throw new ArgumentException("the model id must not be empty");
        return this;
    }
}
