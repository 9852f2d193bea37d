using AwqRuntime.Generation;
using AwqRuntime.Server;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// `awq serve`'s server over stories260K on 127.0.0.1 (a free port), 16 slots, an API key, and an
/// explicit chat format (stories260K has no chat template): "[role]: content" lines, then "[assistant]:".
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string Key = "test-key";

    public AwqModel Model { get; } = AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512);
    public AwqServer Server { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>The text the chat format renders, which the tests also run through `generate`-style generation.</summary>
    public static string Render(IReadOnlyList<ChatTurn> messages) =>
        string.Concat(messages.Select(m => $"[{m.Role}]: {m.Content}\n")) + "[assistant]:";

    public async Task InitializeAsync()
    {
        Server = new AwqServer(Model.Model, Model.Tokenizer,
            new ServerOptions { Port = 0, ApiKey = Key, Parallel = 16, ContextSize = 256, MaxQueue = 8, MaxBodyBytes = 64 * 1024, ModelId = "stories260K" },
            messages => Model.Tokenizer.Encode(Render(messages), addBos: true));
        await Server.StartAsync();
        Http.BaseAddress = new Uri(Server.Url);
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Model.Dispose();
    }
}
