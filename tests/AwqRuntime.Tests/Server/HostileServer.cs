using AwqRuntime.Server;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// The server the hostile-request tests attack: stories260K on 127.0.0.1 (a free port), an API key, a
/// 64 KiB body limit, and connection timeouts of a few seconds so slow clients are dropped within the
/// test's time (the defaults are minutes).
/// </summary>
public sealed class HostileServer : IAsyncLifetime
{
    public const string Key = "test-key";
    public const int BodyLimit = 64 * 1024;

    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(3);

    public AwqModel Model { get; } = AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512);
    public AwqServer Server { get; private set; } = null!;
    public Uri Url { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = new AwqServer(Model.Model, Model.Tokenizer, new ServerOptions
        {
            Port = 0, ApiKey = Key, Parallel = 4, ContextSize = 256, MaxQueue = 32, MaxBodyBytes = BodyLimit, ModelId = "stories260K",
            HeadersTimeout = HeadersTimeout, BodyTimeout = BodyTimeout, IdleTimeout = IdleTimeout,
        }, messages => Model.Tokenizer.Encode(ServerFixture.Render(messages), addBos: true));
        await Server.StartAsync();
        Url = new Uri(Server.Url);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Model.Dispose();
    }
}
