using System.Net.Sockets;
using System.Text;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// HTTP/1.1 over a bare TCP socket, for requests no well-behaved client would send: bytes are written
/// exactly as given (a Content-Length that lies, bad chunk sizes, garbage request lines), then the
/// socket is optionally half-closed (FIN, RFC 9293 §3.6) and whatever the server answers is read back:
/// the status line, the headers and the body (Content-Length or chunked, RFC 9112 §6-§7).
/// </summary>
public static class RawHttp
{
    /// <summary>One HTTP response as it came over the wire.</summary>
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
        public string Text => Encoding.UTF8.GetString(Body);
    }

    /// <summary>
    /// Connects, writes <paramref name="request"/>, half-closes when asked, and reads one response.
    /// Null when the server closed (or reset) the connection without answering, or said nothing
    /// within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<Response?> SendAsync(Uri server, byte[] request, TimeSpan timeout, bool halfClose = false, bool head = false)
    {
        using var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(timeout);
        await tcp.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(request, cts.Token);
            if (halfClose) tcp.Client.Shutdown(SocketShutdown.Send);
        }
        catch (IOException)
        {
            // The server may close while a large request is still being written; its answer can still be read.
        }
        return await ReadResponseAsync(stream, cts.Token, head);
    }

    public static byte[] Ascii(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>A request with the given head lines (CRLF added) and body; Content-Length only if the head does not set framing.</summary>
    public static byte[] Request(string method, string path, IEnumerable<string> headers, byte[] body, bool contentLength = true)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        foreach (var h in headers) head.Append(h).Append("\r\n");
        if (contentLength) head.Append($"Content-Length: {body.Length}\r\n");
        head.Append("\r\n");
        return [.. Ascii(head.ToString()), .. body];
    }

    /// <summary>
    /// Reads one response from <paramref name="stream"/>; null when the connection ends before a complete
    /// response. An answer to HEAD has no body whatever its Content-Length says (RFC 9110 §9.3.2).
    /// </summary>
    public static async Task<Response?> ReadResponseAsync(Stream stream, CancellationToken cancel, bool head = false)
    {
        var reader = new ByteReader(stream);
        try
        {
            var status = await reader.LineAsync(cancel);
            if (status == null) return null;
            var parts = status.Split(' ', 3);
            if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], out var code))
                throw new InvalidDataException($"not an HTTP status line: '{status}'");
            var headers = new Dictionary<string, string>();
            while (await reader.LineAsync(cancel) is { Length: > 0 } line)
            {
                var colon = line.IndexOf(':');
                if (colon <= 0) throw new InvalidDataException($"not a header line: '{line}'");
                headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
            }
            byte[] body;
            if (head) body = [];
            else if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                var all = new MemoryStream();
                while (await reader.LineAsync(cancel) is { } size && Convert.ToInt32(size.Split(';')[0].Trim(), 16) is var n and > 0)
                {
                    all.Write(await reader.BytesAsync(n, cancel));
                    await reader.LineAsync(cancel);
                }
                body = all.ToArray();
            }
            else if (headers.TryGetValue("content-length", out var cl)) body = await reader.BytesAsync(int.Parse(cl), cancel);
            else body = [];
            return new Response(code, headers, body);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>Buffered reads of CRLF lines and exact byte counts.</summary>
    private sealed class ByteReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start, _end;

        private async Task<bool> FillAsync(CancellationToken cancel)
        {
            if (_start == _end) _start = _end = 0;
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), cancel);
            _end += n;
            return n > 0;
        }

        public async Task<string?> LineAsync(CancellationToken cancel)
        {
            var line = new List<byte>();
            while (true)
            {
                while (_start < _end)
                {
                    var b = _buffer[_start++];
                    if (b == '\n') return Encoding.Latin1.GetString(line.ToArray()).TrimEnd('\r');
                    line.Add(b);
                }
                if (!await FillAsync(cancel)) return line.Count == 0 ? null : throw new EndOfStreamException();
            }
        }

        public async Task<byte[]> BytesAsync(int count, CancellationToken cancel)
        {
            var result = new byte[count];
            var got = 0;
            while (got < count)
            {
                if (_start == _end && !await FillAsync(cancel)) throw new EndOfStreamException();
                var n = Math.Min(count - got, _end - _start);
                Array.Copy(_buffer, _start, result, got, n);
                _start += n;
                got += n;
            }
            return result;
        }
    }
}
