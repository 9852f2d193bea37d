using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace AwqRuntime.Server;

/// <summary>
/// Kestrel's limits for <see cref="ServerOptions"/> (learn.microsoft.com, "Configure options for the
/// ASP.NET Core Kestrel web server"): the body size, a bound on open connections, and timeouts for
/// clients that connect and say nothing, trickle their headers, or trickle their body or read the
/// answer below the minimum data rates (Kestrel's 240 B/s after a 5 s grace, kept).
/// </summary>
internal static class KestrelLimits
{
    public static void Apply(KestrelServerLimits limits, ServerOptions options)
    {
        limits.MaxRequestBodySize = options.MaxBodyBytes;
        limits.MaxConcurrentConnections = options.MaxConnections;
        limits.RequestHeadersTimeout = options.HeadersTimeout;
        limits.KeepAliveTimeout = options.IdleTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
    }
}
