namespace AwqRuntime.Tests.Server;

/// <summary>
/// What a hostile request may get back: one of <see cref="Statuses"/> (never a 5xx), OpenAI's error
/// JSON naming <see cref="Param"/> when it is set; <see cref="EmptyBodyOk"/> for refusals Kestrel
/// writes itself before the application sees the request (a malformed request line or headers, RFC 9112
/// §2.2 and §3), and <see cref="NoAnswerOk"/> where closing the connection is a fair answer (the client
/// hung up first, or sent something that is not HTTP).
/// </summary>
public sealed record Expectation(int[] Statuses, string? Param = null, bool NoAnswerOk = false, bool EmptyBodyOk = false)
{
    /// <summary>A 400 naming <paramref name="param"/> (null: the body as a whole).</summary>
    public static Expectation Bad(string? param) => new([400], param);

    /// <summary>A request that is fine as far as the server is concerned; 429 if the queue is full at that moment.</summary>
    public static Expectation Served { get; } = new([200, 429]);

    /// <summary>The client leaves without reading; nothing to check but the server's health afterwards.</summary>
    public static Expectation Gone { get; } = new([], NoAnswerOk: true);
}

/// <summary>One hostile request, counted under <see cref="Category"/>.</summary>
public abstract record HostileCase(string Category, string Name, Expectation Expect);

/// <summary>A request sent with HttpClient: a well-formed HTTP request around a hostile method, path, header or body.</summary>
public sealed record HttpCase(string Category, string Name, string Path, byte[] Body, Expectation Expect) : HostileCase(Category, Name, Expect)
{
    public const string ValidAuth = "Bearer " + HostileServer.Key;

    public string Method { get; init; } = "POST";
    public string? ContentType { get; init; } = "application/json";

    /// <summary>The Authorization header's value; null sends none.</summary>
    public string? Auth { get; init; } = ValidAuth;

    /// <summary>Send the body chunked (no Content-Length).</summary>
    public bool Chunked { get; init; }
}

/// <summary>How a <see cref="RawCase"/> uses its socket after writing.</summary>
public enum RawMode
{
    /// <summary>Read one response.</summary>
    Read,

    /// <summary>Half-close (FIN), then read one response.</summary>
    HalfCloseThenRead,

    /// <summary>Close at once without reading.</summary>
    Close,

    /// <summary>Reset at once (RST: SO_LINGER 0) without reading.</summary>
    Reset,

    /// <summary>Read the first bytes of the response (a streaming one), then close.</summary>
    CloseAfterFirstBytes,

    /// <summary>Read the first bytes of the response, then reset the connection (RST: SO_LINGER 0).</summary>
    ResetAfterFirstBytes,
}

/// <summary>Bytes written to a bare TCP socket exactly as given.</summary>
public sealed record RawCase(string Category, string Name, byte[] Bytes, RawMode Mode, Expectation Expect) : HostileCase(Category, Name, Expect);
