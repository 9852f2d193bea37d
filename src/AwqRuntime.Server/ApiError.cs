using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AwqRuntime.Server;

/// <summary>
/// A request the server refuses, answered in OpenAI's error JSON
/// ({"error": {"message", "type", "param", "code"}}) with its HTTP status.
/// </summary>
public sealed class ApiError(int status, string message, string? param = null, string type = "invalid_request_error", string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string Type { get; } = type;
    public string? Code { get; } = code;

    public static ApiError BadRequest(string message, string? param = null) => new(400, message, param);

    public async Task WriteAsync(HttpContext http)
    {
        if (http.Response.HasStarted) return;
        http.Response.StatusCode = Status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { message = Message, type = Type, param = Param, code = Code } }));
    }
}
