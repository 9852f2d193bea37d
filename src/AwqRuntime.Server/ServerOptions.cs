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

    /// <summary>Time a client has to send the request line and headers (Kestrel's RequestHeadersTimeout; its default is 30 s).</summary>
    public TimeSpan HeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a client has to send the whole body once the headers are in (408 beyond); Kestrel alone only asks for 240 B/s.</summary>
    public TimeSpan BodyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection may sit between requests, or before its first one (Kestrel's KeepAliveTimeout; its default is 130 s).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Open connections beyond which new ones are refused (Kestrel's MaxConcurrentConnections; its default is no limit).</summary>
    public int MaxConnections { get; init; } = 1024;

    public ServerOptions Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port must be 0..65535 (got {Port})");
        if (MaxBodyBytes < 1024) throw new ArgumentException($"the body limit must be at least 1 KiB (got {MaxBodyBytes})");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("the request timeout must be positive");
        if (HeadersTimeout <= TimeSpan.Zero || BodyTimeout <= TimeSpan.Zero || IdleTimeout <= TimeSpan.Zero)
            throw new ArgumentException("the headers, body and idle timeouts must be positive");
        if (MaxConnections < 1) throw new ArgumentException($"--max-connections must be positive (got {MaxConnections})");
        if (string.IsNullOrWhiteSpace(ModelId)) throw new ArgumentException("the model id must not be empty");
        return this;
    }
}
