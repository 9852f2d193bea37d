using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace AwqRuntime.Server;

/// <summary>
/// The API key check: one Authorization field holding "Bearer" 1*SP token (RFC 6750 §2.1), the scheme
/// matched without regard to case (RFC 9110 §11.1), the token compared in constant time so the answer's
/// timing does not reveal how much of a guess was right. A refusal carries the challenge RFC 9110
/// §11.6.1 requires of a 401 (RFC 6750 §3: error="invalid_token" when a token was given).
/// </summary>
internal static class BearerToken
{
    public static bool Matches(StringValues authorization, string key)
    {
        if (authorization.Count != 1 || authorization[0] is not { } value) return false;
        const string scheme = "Bearer";
        if (value.Length <= scheme.Length || !value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || value[scheme.Length] != ' ') return false;
        var token = value.AsSpan(scheme.Length).TrimStart(' ');
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token.ToString()), Encoding.UTF8.GetBytes(key));
    }

    public static string Challenge(StringValues authorization) =>
        authorization.Count == 0 ? "Bearer realm=\"awq\"" : "Bearer realm=\"awq\", error=\"invalid_token\"";
}
