using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// Slowloris-style clients: headers trickled a byte at a time and never finished, a body trickled
/// below any useful rate, a body that stops short of its Content-Length and waits, a connection that says nothing, and a streaming reader that reads a byte at a
/// time. Each runs until the server drops it (or <see cref="GiveUp"/>); how long the server let it hold
/// the connection, and what it answered, are the result.
/// </summary>
public static class SlowClients
{
    public static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan Drip = TimeSpan.FromMilliseconds(250);

    public sealed record Result(string Kind, TimeSpan Held, bool ServerClosed, RawHttp.Response? Answer, int BytesRead = 0);

    public const string Headers = "headers trickled";
    public const string Body = "body trickled";
    public const string Stalled = "body stalled";
    public const string Idle = "idle connection";
    public const string Reader = "slow stream reader";

    /// <summary>The slow clients, <paramref name="each"/> of every kind, all at once.</summary>
    public static Task<Result[]> RunAsync(Uri server, int each) =>
        Task.WhenAll(new[] { Headers, Body, Stalled, Idle, Reader }.SelectMany(kind => Enumerable.Repeat(kind, each)).Select(kind => RunOneAsync(server, kind)));

    private static async Task<Result> RunOneAsync(Uri server, string kind)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var clock = Stopwatch.StartNew();
        using var giveUp = new CancellationTokenSource(GiveUp);
        byte[] first = [], drip = [];
        switch (kind)
        {
            case Headers:
                first = Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
                drip = "a"u8.ToArray();
                break;
            case Body:
                first = Encoding.ASCII.GetBytes($"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {HttpCase.ValidAuth}\r\nContent-Length: 4000\r\n\r\n{{\"prompt\": \"");
                drip = "b"u8.ToArray();
                break;
            case Stalled:
                first = Encoding.ASCII.GetBytes($"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {HttpCase.ValidAuth}\r\nContent-Length: 100\r\n\r\n{{\"prompt\": \"Once");
                break;
            case Reader:
                var body = HostileRequests.Body(HostileRequests.Completions, "\"max_tokens\": 200, \"ignore_eos\": true, \"stream\": true");
                first = RawHttp.Request("POST", HostileRequests.Completions, [$"Authorization: {HttpCase.ValidAuth}"], Encoding.UTF8.GetBytes(body));
                break;
        }
        await stream.WriteAsync(first, giveUp.Token);
        if (kind == Reader) return await ReadSlowly(stream, clock, giveUp.Token);

        // Read whatever the server says until it closes; meanwhile drip bytes.
        var received = new MemoryStream();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer, giveUp.Token) is var n and > 0) received.Write(buffer, 0, n);
                return true;
            }
            catch (IOException)
            {
                return true; // reset by the server
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        });
        while (!reading.IsCompleted && drip.Length > 0 && !giveUp.IsCancellationRequested)
        {
            try
            {
                await stream.WriteAsync(drip, giveUp.Token);
                await Task.Delay(Drip, giveUp.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                break;
            }
        }
        var closed = await reading;
        var held = clock.Elapsed;
        var answer = received.Length > 0 ? await RawHttp.ReadResponseAsync(new MemoryStream(received.ToArray()), CancellationToken.None) : null;
        return new Result(kind, held, closed, answer, (int)received.Length);
    }

    /// <summary>Reads a streamed answer a byte per drip for a few seconds, then hangs up.</summary>
    private static async Task<Result> ReadSlowly(NetworkStream stream, Stopwatch clock, CancellationToken cancel)
    {
        var one = new byte[1];
        var got = 0;
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(3) && await stream.ReadAsync(one, cancel) > 0)
            {
                got++;
                await Task.Delay(Drip / 5, cancel);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
        return new Result(Reader, clock.Elapsed, ServerClosed: false, Answer: null, BytesRead: got);
    }
}
