using System.Text.Json;
using AwqRuntime.Formats;
using Microsoft.AspNetCore.Http;

namespace AwqRuntime.Server;

/// <summary>
/// A request body read whole and parsed as one JSON document, every way it can go wrong answered as a
/// client error: a body that does not arrive within the body timeout (408, and the connection closed,
/// RFC 9110 §15.5.9), one over the size limit (413), one that ends early or has broken chunked framing
/// (400, RFC 9112 §7.1 and §8), nesting deeper than 64, and what <see cref="StrictJson"/> refuses, naming
/// the key: bytes that are not UTF-8 (RFC 8259 §8.1) and a key given twice in one object (RFC 8259 §4
/// leaves its meaning to the parser; I-JSON, RFC 7493 §2.3, forbids it, so two readers of one request
/// never disagree on what it asked for).
/// </summary>
internal static class JsonBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static async Task<JsonDocument> ReadAsync(HttpContext http, ServerOptions options)
    {
        var body = await ReadBytesAsync(http, options);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, Options);
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"the body is not valid JSON: {StrictJson.Reason(e)}");
        }
        if (StrictJson.Find(doc.RootElement, body.Span) is not { } problem) return doc;
        doc.Dispose();
        throw ApiError.BadRequest($"the body: {problem.Message}", problem.Key);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBytesAsync(HttpContext http, ServerOptions options)
    {
        var aborted = http.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(options.BodyTimeout);
        var declared = http.Request.ContentLength is { } n && n <= options.MaxBodyBytes ? (int)n : 0;
        var buffer = new MemoryStream(declared);
        try
        {
            await http.Request.Body.CopyToAsync(buffer, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            http.Response.Headers.Connection = "close";
            throw new ApiError(408, $"the request body did not arrive within {options.BodyTimeout.TotalSeconds:0.###} s", code: "request_timeout");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiError(413, $"the request body exceeds {options.MaxBodyBytes} bytes");
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's verdict on the body's framing or pace: 400 (ended early, bad chunk size) or 408 (below MinRequestBodyDataRate).
            throw new ApiError(e.StatusCode, $"the request body could not be read: {e.Message}", code: e.StatusCode == 408 ? "request_timeout" : null);
        }
        catch (IOException e) when (!aborted.IsCancellationRequested)
        {
            // Kestrel reports a chunk size that overflows (RFC 9112 §7.1: chunk-size = 1*HEXDIG) as an IOException, not a bad request.
            throw ApiError.BadRequest($"the request body could not be read: {e.Message}");
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
